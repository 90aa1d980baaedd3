-- Named queries of stories told together (db/store/stories.py), shared by both backends.

-- name: story_insert
-- A new story, its first scene already queued (phase 'rendering').
INSERT INTO stories (guild_id, channel_id, thread_id, starter_id, title, locale, phase, created_at)
VALUES (:guild_id, :channel_id, :thread_id, :starter_id, :title, :locale, 'rendering', :now)
RETURNING *;

-- name: story_get
-- One story by its id.
SELECT * FROM stories WHERE id = :id;

-- name: story_in_thread
-- The story told in a thread.
SELECT * FROM stories WHERE thread_id = :thread_id;

-- name: story_unfinished
-- The stories that are not finished (the bot's timer looks after them).
SELECT * FROM stories WHERE phase <> 'finished' ORDER BY id;

-- name: story_scene_insert
-- Record a queued scene.
INSERT INTO story_scenes (story_id, number, job_id, user_id, prompt, created_at)
VALUES (:story_id, :number, :job_id, :user_id, :prompt, :now);

-- name: story_scenes
-- A story's scenes, the first first.
SELECT * FROM story_scenes WHERE story_id = :story_id ORDER BY number;

-- name: story_scene_delete
-- Forget a scene that failed (its round opens again).
DELETE FROM story_scenes WHERE story_id = :story_id AND number = :number;

-- name: story_set_rendering
-- A scene was queued: the story waits for its render.
UPDATE stories SET phase = 'rendering', round_ends_at = NULL, winner_proposal_id = NULL
WHERE id = :id AND phase = :from_phase;

-- name: story_open_round
-- The scene before is posted (or failed): members propose the next one until :ends_at.
UPDATE stories SET phase = 'round', round_ends_at = :ends_at, winner_proposal_id = NULL
WHERE id = :id AND phase = 'rendering';

-- name: story_round_timer
-- Set when the round ends (NULL: it waits for its first proposal).
UPDATE stories SET round_ends_at = :ends_at WHERE id = :id AND phase = 'round';

-- name: story_round_timer_if_waiting
-- The first proposal of a round that waited for one starts its timer.
UPDATE stories SET round_ends_at = :ends_at
WHERE id = :id AND phase = 'round' AND round_ends_at IS NULL;

-- name: story_choose_winner
-- End the round: the winning proposal is queued next.
UPDATE stories SET phase = 'queuing', round_ends_at = NULL, winner_proposal_id = :proposal_id
WHERE id = :id AND phase = 'round';

-- name: story_start_closing
-- /story finish loop:true: the round (if any) is dropped; the story waits for its closing scene.
UPDATE stories SET phase = 'closing', round_ends_at = NULL, winner_proposal_id = NULL,
                   closing_job_id = :job_id
WHERE id = :id AND phase = 'round';

-- name: story_start_posting
-- The story's film is to be posted (from :job_id's clip, fitted to :film_limit bytes); the caller holds
-- it until :until.
UPDATE stories SET phase = 'posting', round_ends_at = NULL, winner_proposal_id = NULL,
                   film_job_id = :job_id, film_limit = :film_limit, film_parts_sent = 0,
                   film_tries = 0, film_next_at = :until
WHERE id = :id AND phase = :from_phase;

-- name: story_claim_film
-- A film whose (next) upload is due: held until :until by the process that posts it.
UPDATE stories SET film_next_at = :until
WHERE id = :id AND phase = 'posting' AND (film_next_at IS NULL OR film_next_at <= :now);

-- name: story_film_part_sent
-- Part :number of the film is posted (parts are sent in order).
UPDATE stories SET film_parts_sent = :number
WHERE id = :id AND phase = 'posting' AND film_parts_sent = :number - 1;

-- name: story_film_failed
-- An upload of the film failed: tried again at :next_at.
UPDATE stories SET film_tries = :tries, film_next_at = :next_at WHERE id = :id AND phase = 'posting';

-- name: story_give_up_film
-- The film can never be posted (its channel is gone, or it was refused for too long): the story ends
-- without it.
UPDATE stories SET phase = 'finished', round_ends_at = NULL, finished_at = :now
WHERE id = :id AND phase = 'posting';

-- name: story_finish
-- The film is posted (every part of it), or the story ends without one: the story is over.
UPDATE stories SET phase = 'finished', round_ends_at = NULL, finished_at = :now
WHERE id = :id AND phase <> 'finished';

-- name: story_due_rounds
-- Rounds whose time is up.
SELECT * FROM stories WHERE phase = 'round' AND round_ends_at IS NOT NULL AND round_ends_at <= :now
ORDER BY round_ends_at;

-- name: story_proposal_insert
-- A member's proposal for the next scene (ending on the picture :end_image_ref names, or NULL).
INSERT INTO story_proposals (story_id, scene, user_id, prompt, weight, end_image_ref, created_at)
VALUES (:story_id, :scene, :user_id, :prompt, :weight, :end_image_ref, :now)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: story_proposal_get
-- One proposal.
SELECT * FROM story_proposals WHERE id = :id;

-- name: story_proposal_of
-- A member's proposal for one scene, if they made one.
SELECT id FROM story_proposals WHERE story_id = :story_id AND scene = :scene AND user_id = :user_id;

-- name: story_proposal_message
-- Remember the message that shows a proposal.
UPDATE story_proposals SET message_id = :message_id WHERE id = :id;

-- name: story_round_proposals
-- The proposals for one scene with their votes: the winner first (most votes, then the earliest).
SELECT p.*, (SELECT count(*) FROM story_votes v WHERE v.proposal_id = p.id) AS votes
FROM story_proposals p
WHERE p.story_id = :story_id AND p.scene = :scene
ORDER BY votes DESC, p.id ASC;

-- name: story_vote_get
-- A member's vote on a proposal.
SELECT 1 AS voted FROM story_votes WHERE proposal_id = :proposal_id AND user_id = :user_id;

-- name: story_vote_insert
-- A member votes for a proposal.
INSERT INTO story_votes (proposal_id, user_id, voted_at) VALUES (:proposal_id, :user_id, :now)
ON CONFLICT DO NOTHING;

-- name: story_vote_delete
-- A member takes back their vote.
DELETE FROM story_votes WHERE proposal_id = :proposal_id AND user_id = :user_id;

-- name: story_vote_count
-- How many members voted for a proposal.
SELECT count(*) AS n FROM story_votes WHERE proposal_id = :proposal_id;
