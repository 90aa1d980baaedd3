-- The hall of fame and /me (db/store/halloffame.py). Parameters are written :name.

-- name: hof_claim
-- Claim a clip's hall-of-fame post before it is sent; nothing when it was claimed before.
INSERT INTO hall_of_fame (job_id, guild_id, channel_id, state, shown_up, shown_down, claimed_at)
VALUES (:job_id, :guild_id, :channel_id, 'posting', :up, :down, :now)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: hof_get
-- A clip's hall-of-fame row, if it has one.
SELECT * FROM hall_of_fame WHERE job_id = :job_id;

-- name: hof_record
-- The claimed post was sent as a message: remember it (only the first time counts).
UPDATE hall_of_fame SET state = 'posted', message_id = :message_id, posted_at = :now,
       shown_up = :up, shown_down = :down
WHERE job_id = :job_id AND state = 'posting';

-- name: hof_shown
-- The counts a posted hall-of-fame message now shows.
UPDATE hall_of_fame SET shown_up = :up, shown_down = :down
WHERE job_id = :job_id AND state = 'posted';

-- name: hof_remove
-- The clip (or its hall-of-fame message) is gone: the row stays, so the clip is never posted again.
UPDATE hall_of_fame SET state = 'removed' WHERE job_id = :job_id AND state <> 'removed'
RETURNING *;

-- name: hof_unfinished
-- Posts of a guild that were claimed and never recorded (the bot stopped between claim and record).
SELECT * FROM hall_of_fame WHERE guild_id = :guild_id AND state = 'posting' ORDER BY job_id;

-- name: hof_stale
-- Posted hall-of-fame messages of a guild whose counts are not the clip's votes any more.
SELECT h.*, coalesce(v.up, 0) AS up, coalesce(v.down, 0) AS down
FROM hall_of_fame h
LEFT JOIN (SELECT job_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up,
                  sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down
           FROM votes GROUP BY job_id) v ON v.job_id = h.job_id
WHERE h.guild_id = :guild_id AND h.state = 'posted'
  AND (h.shown_up <> coalesce(v.up, 0) OR h.shown_down <> coalesce(v.down, 0))
ORDER BY h.job_id;

-- name: hof_candidates
-- A guild's posted, undeleted clips finished since a moment with at least :threshold net votes and no hall-of-fame row
-- (age-restricted ones only with :age_restricted; ones recorded as private only when :hall, the hall channel, is their
-- own channel or thread).
SELECT j.* FROM jobs j
JOIN (SELECT job_id, sum(value) AS score FROM votes GROUP BY job_id) v ON v.job_id = j.id
WHERE j.guild_id = :guild_id AND j.state = 'done' AND j.deleted_at IS NULL AND j.message_id IS NOT NULL
  AND j.finished_at >= :since AND v.score >= :threshold AND (:age_restricted OR NOT j.age_restricted)
  AND (j.public_channel IS NULL OR j.public_channel OR j.channel_id = :hall OR j.thread_id = :hall)
  AND NOT EXISTS (SELECT 1 FROM hall_of_fame h WHERE h.job_id = j.id)
ORDER BY j.finished_at, j.id
LIMIT :limit;

-- name: me_clips
-- A member's clips in a guild (not deleted): all of them, and those finished since a moment.
SELECT count(*) AS total,
       coalesce(sum(CASE WHEN finished_at >= :since THEN 1 ELSE 0 END), 0) AS recent
FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND state = 'done' AND deleted_at IS NULL;

-- name: me_votes
-- The votes a member's clips in a guild (not deleted) received.
SELECT coalesce(sum(CASE WHEN v.value > 0 THEN 1 ELSE 0 END), 0) AS up,
       coalesce(sum(CASE WHEN v.value < 0 THEN 1 ELSE 0 END), 0) AS down
FROM votes v JOIN jobs j ON j.id = v.job_id
WHERE j.guild_id = :guild_id AND j.user_id = :user_id AND j.deleted_at IS NULL;

-- name: me_gpu_by_member
-- GPU-seconds each member of a guild used (if any) for jobs that ended since a moment, with the weight of their latest such job.
SELECT user_id, sum(used) AS used, max(CASE WHEN rn = 1 THEN weight END) AS weight FROM (
    SELECT user_id, weight,
           CASE WHEN gpu_seconds IS NOT NULL THEN gpu_seconds
                WHEN state = 'cancelled' THEN charged_s ELSE 0 END AS used,
           row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS rn
    FROM jobs
    WHERE guild_id = :guild_id AND finished_at >= :since
) ended
GROUP BY user_id
HAVING sum(used) > 0
ORDER BY user_id;
