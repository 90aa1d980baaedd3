-- SQLite versions of the queries whose syntax differs. Write transactions are BEGIN IMMEDIATE, so
-- they are already serialised: no row locks needed.

-- name: lock_fair_clock
-- Read the global virtual time (the IMMEDIATE transaction already holds the write lock).
SELECT vtime FROM fair_clock WHERE id = 1;

-- name: lock_job_for_vote
-- A clip (the IMMEDIATE transaction already serialises votes).
SELECT * FROM jobs WHERE id = :id;

-- name: lock_fair_guild
-- Read a guild's tags (the IMMEDIATE transaction already serialises enqueues).
SELECT finish_tag FROM fair_guilds WHERE guild_id = :guild_id;

-- name: lock_fair_user
-- Read a member's tag (the IMMEDIATE transaction already serialises enqueues).
SELECT finish_tag FROM fair_users WHERE guild_id = :guild_id AND user_id = :user_id;

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
