-- PostgreSQL versions of the queries whose syntax differs: row locks for concurrent hosts.

-- name: lock_fair_clock
-- Read and lock the global virtual time: claims take turns so fair tags stay exact.
SELECT vtime FROM fair_clock WHERE id = 1 FOR UPDATE;

-- name: lock_job_for_vote
-- A clip, locked so two quick clicks by one member take turns (a toggle reads, then writes).
SELECT * FROM jobs WHERE id = :id FOR NO KEY UPDATE;

-- name: lock_fair_user
-- Lock a member's tag so concurrent enqueues by the same member see each other's caps.
SELECT finish_tag FROM fair_users WHERE guild_id = :guild_id AND user_id = :user_id FOR UPDATE;

-- name: claim_candidate
-- The queued job a worker serving :models should run next, skipping locked rows; expired leases do not cap.
SELECT j.id, j.guild_id, j.user_id, j.cost_estimate_s, j.weight,
       g.finish_tag AS guild_finish, g.vtime AS guild_vtime, u.finish_tag AS user_finish
FROM jobs j
JOIN fair_guilds g ON g.guild_id = j.guild_id
JOIN fair_users u ON u.guild_id = j.guild_id AND u.user_id = j.user_id
LEFT JOIN guild_settings s ON s.guild_id = j.guild_id
LEFT JOIN (SELECT guild_id, user_id, count(*) AS n FROM jobs
           WHERE state = 'running' AND lease_expires_at >= :now
           GROUP BY guild_id, user_id) r ON r.guild_id = j.guild_id AND r.user_id = j.user_id
WHERE j.state = 'queued' AND j.model = ANY(:models)
  AND coalesce(r.n, 0) < coalesce(s.max_running, :default_max_running)
ORDER BY greatest(:vtime, g.finish_tag), g.finish_tag, greatest(g.vtime, u.finish_tag), u.finish_tag, j.id
LIMIT 1
FOR UPDATE OF j SKIP LOCKED;

-- name: expired_jobs
-- Running jobs whose lease has run out, skipping rows another transaction holds.
SELECT id, guild_id, user_id, weight, charged_s, attempts, model, rendered_at FROM jobs
WHERE state = 'running' AND lease_expires_at < :now
ORDER BY id
FOR UPDATE SKIP LOCKED;

-- name: worker_running_jobs
-- The running jobs one worker holds, locked (it died: they go back to the queue).
SELECT id, guild_id, user_id, weight, charged_s, attempts, model, rendered_at FROM jobs
WHERE state = 'running' AND worker_id = :worker_id
ORDER BY id
FOR UPDATE;

-- name: jobs_for_user
-- A member's jobs in some states, newest first.
SELECT * FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND state = ANY(:states)
ORDER BY id DESC
LIMIT :limit;

-- name: notify
-- Wake the listeners of a channel when the transaction commits.
SELECT pg_notify(:channel, :payload);

-- name: put_media
-- Store a clip's mp4 and poster (replacing an earlier render of the same job).
INSERT INTO media (job_id, video, poster, created_at) VALUES (:job_id, :video, :poster, :now)
ON CONFLICT (job_id) DO UPDATE SET video = excluded.video, poster = excluded.poster,
                                   created_at = excluded.created_at;

-- name: get_media
-- A clip's mp4 and poster.
SELECT video, poster FROM media WHERE job_id = :job_id;

-- name: delete_media
-- Forget a clip's mp4 and poster.
DELETE FROM media WHERE job_id = :job_id;

-- name: put_input
-- Store a member's picture under its content hash (the same picture twice is stored once).
INSERT INTO inputs (ref, data, created_at) VALUES (:ref, :data, :now) ON CONFLICT (ref) DO NOTHING;

-- name: get_input
-- A member's picture by its reference.
SELECT data FROM inputs WHERE ref = :ref;
