-- SQLite versions of the queries whose syntax differs. Write transactions are BEGIN IMMEDIATE, so
-- they are already serialised: no row locks needed.

-- name: lock_fair_clock
-- Read the global virtual time (the IMMEDIATE transaction already holds the write lock).
SELECT vtime FROM fair_clock WHERE id = 1;

-- name: lock_job_for_vote
-- A clip (the IMMEDIATE transaction already serialises votes).
SELECT * FROM jobs WHERE id = :id;

-- name: lock_fair_user
-- Read a member's tag (the IMMEDIATE transaction already serialises enqueues).
SELECT finish_tag FROM fair_users WHERE guild_id = :guild_id AND user_id = :user_id;

-- name: claim_candidate
-- The queued job a worker serving :models should run next: smallest fair tags, oldest first; expired
-- leases do not cap. With the global virtual time it was ordered by (the transaction holds the lock).
SELECT j.id, j.guild_id, j.user_id, j.cost_estimate_s, j.weight, c.vtime AS clock_vtime,
       g.finish_tag AS guild_finish, g.vtime AS guild_vtime, u.finish_tag AS user_finish
FROM fair_clock c
JOIN jobs j ON c.id = 1
JOIN fair_guilds g ON g.guild_id = j.guild_id
JOIN fair_users u ON u.guild_id = j.guild_id AND u.user_id = j.user_id
LEFT JOIN guild_settings s ON s.guild_id = j.guild_id
LEFT JOIN (SELECT guild_id, user_id, count(*) AS n FROM jobs
           WHERE state = 'running' AND lease_expires_at >= :now
           GROUP BY guild_id, user_id) r ON r.guild_id = j.guild_id AND r.user_id = j.user_id
WHERE j.state = 'queued' AND j.model IN (SELECT value FROM json_each(:models))
  AND coalesce(r.n, 0) < coalesce(s.max_running, :default_max_running)
ORDER BY max(c.vtime, g.finish_tag), g.finish_tag, max(g.vtime, u.finish_tag), u.finish_tag, j.id
LIMIT 1;

-- name: expired_jobs
-- Running jobs whose lease has run out.
SELECT id, guild_id, user_id, weight, charged_s, attempts, model, rendered_at FROM jobs
WHERE state = 'running' AND lease_expires_at < :now
ORDER BY id;

-- name: jobs_for_user
-- A member's jobs in some states, newest first.
SELECT * FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND state IN (SELECT value FROM json_each(:states))
ORDER BY id DESC
LIMIT :limit;

-- name: bump_wakeup
-- Count one more wake-up on a channel, committed with the change it announces; the new count.
INSERT INTO wakeups (channel, seq) VALUES (:channel, 1)
ON CONFLICT (channel) DO UPDATE SET seq = seq + 1
RETURNING seq;

-- name: wakeup_seq
-- How many wake-ups a channel has had (0 before its first).
SELECT coalesce(max(seq), 0) AS seq FROM wakeups WHERE channel = :channel;
