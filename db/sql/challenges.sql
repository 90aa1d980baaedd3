-- Challenges (db/store/challenges.py). Entries are done, undeleted clips of kind 'new' made in the
-- challenge's thread between its start and its end; a member's latest is their entry.

-- name: insert_challenge
-- Start a challenge; its row.
INSERT INTO challenges (guild_id, channel_id, theme, created_by, locale, started_at, ends_at)
VALUES (:guild_id, :channel_id, :theme, :created_by, :locale, :now, :ends_at)
RETURNING *;

-- name: set_challenge_thread
-- Record the announcement and the thread of a challenge.
UPDATE challenges SET announcement_id = :announcement_id, thread_id = :thread_id WHERE id = :id;

-- name: get_challenge
-- One challenge.
SELECT * FROM challenges WHERE id = :id;

-- name: challenge_by_thread
-- The challenge whose thread this is.
SELECT * FROM challenges WHERE thread_id = :thread_id;

-- name: open_challenges
-- Challenges still taking entries, the next to end first.
SELECT * FROM challenges WHERE ended_at IS NULL ORDER BY ends_at, id;

-- name: unannounced_challenges
-- Challenges without a thread yet, or closed without their results posted.
SELECT * FROM challenges
WHERE thread_id IS NULL OR (ended_at IS NOT NULL AND results_posted_at IS NULL)
ORDER BY id;

-- name: guild_challenges
-- A guild's challenges, the newest first.
SELECT * FROM challenges WHERE guild_id = :guild_id ORDER BY id DESC LIMIT :limit;

-- name: latest_finished_challenge
-- A guild's challenge that ended last.
SELECT * FROM challenges WHERE guild_id = :guild_id AND ended_at IS NOT NULL
ORDER BY ended_at DESC, id DESC LIMIT 1;

-- name: move_challenge_end
-- Move the end of a challenge that is still open.
UPDATE challenges SET ends_at = :ends_at WHERE id = :id AND ended_at IS NULL;

-- name: claim_challenge_end
-- Close a challenge's entries; changes a row only the first time (whoever changes it computes the results).
UPDATE challenges SET ended_at = :now, ended_by = :ended_by WHERE id = :id AND ended_at IS NULL;

-- name: challenge_entries
-- The entries of a challenge: each member's latest clip in its thread during it.
SELECT j.* FROM jobs j
WHERE j.guild_id = :guild_id AND j.channel_id = :thread_id AND j.kind = 'new' AND j.state = 'done'
  AND j.deleted_at IS NULL AND j.created_at >= :started_at AND j.created_at <= :ends_at
  AND NOT EXISTS (
      SELECT 1 FROM jobs k
      WHERE k.guild_id = j.guild_id AND k.channel_id = j.channel_id AND k.user_id = j.user_id
        AND k.kind = 'new' AND k.state = 'done' AND k.deleted_at IS NULL
        AND k.created_at >= :started_at AND k.created_at <= :ends_at AND k.id > j.id)
ORDER BY j.id;

-- name: challenge_thread_votes
-- Every vote on a clip made in a challenge's thread.
SELECT v.job_id, v.user_id, v.value, v.voted_at FROM votes v JOIN jobs j ON j.id = v.job_id
WHERE j.guild_id = :guild_id AND j.channel_id = :thread_id
ORDER BY v.job_id, v.user_id;

-- name: insert_challenge_vote
-- Keep one vote on an entry for audit.
INSERT INTO challenge_votes (challenge_id, job_id, user_id, value, voted_at)
VALUES (:challenge_id, :job_id, :user_id, :value, :voted_at);

-- name: insert_challenge_result
-- One place of a challenge's ranking.
INSERT INTO challenge_results (challenge_id, place, job_id, user_id, up, down, entered_at, message_id)
VALUES (:challenge_id, :place, :job_id, :user_id, :up, :down, :entered_at, :message_id);

-- name: set_challenge_winner
-- Who won a challenge (NULL: nobody entered).
UPDATE challenges SET winner_user_id = :user_id, winner_job_id = :job_id WHERE id = :id;

-- name: challenge_results
-- A finished challenge's ranking, the winner first.
SELECT * FROM challenge_results WHERE challenge_id = :challenge_id ORDER BY place;

-- name: challenge_audit
-- Who voted what on a finished challenge's entries.
SELECT job_id, user_id, value, voted_at FROM challenge_votes WHERE challenge_id = :challenge_id
ORDER BY job_id, user_id;

-- name: mark_challenge_results_posted
-- The results were posted; changes a row only the first time.
UPDATE challenges SET results_message_id = :message_id, results_posted_at = :now, role_outcome = :role_outcome
WHERE id = :id AND results_posted_at IS NULL;

-- name: challenge_wins
-- How many challenges of a guild a member won.
SELECT count(*) AS wins FROM challenges
WHERE guild_id = :guild_id AND winner_user_id = :user_id AND ended_at IS NOT NULL;
