-- PostgreSQL versions of the queries whose syntax differs: row locks for concurrent hosts.

-- name: lock_fair_clock
-- Read and lock the global virtual time: claims take turns so fair tags stay exact.
SELECT vtime FROM fair_clock WHERE id = 1 FOR UPDATE;

-- name: lock_job_for_vote
-- A clip, locked so two quick clicks by one member take turns (a toggle reads, then writes).
SELECT * FROM jobs WHERE id = :id FOR NO KEY UPDATE;

-- name: lock_fair_guild
-- Lock a guild's tags before a member's (the order claims take them in): an enqueue changes the
-- guild's count of queued jobs (migration V12's trigger), and must not wait for it holding the member.
SELECT finish_tag FROM fair_guilds WHERE guild_id = :guild_id FOR UPDATE;

-- name: lock_fair_user
-- Lock a member's tag so concurrent enqueues by the same member see each other's caps.
SELECT finish_tag FROM fair_users WHERE guild_id = :guild_id AND user_id = :user_id FOR UPDATE;

-- name: claim_job
-- The whole claim in one call (migration V10's videobot_claim: fair pick, charge, lease, wake-up).
SELECT * FROM videobot_claim(:worker_id, :models, :lease_expires_at, :now, :default_max_running,
                             :check_expired);

-- name: heartbeat_job
-- One statement: whether the worker still holds its running job (a row, or none), renewing the lease
-- and recording progress only when due (see queries.sql), and waking the bot when progress was written.
WITH mine AS (
    SELECT id, step, total_steps, rendered_at FROM jobs
    WHERE id = :id AND worker_id = :worker_id AND state = 'running'
), beat AS (
    UPDATE jobs
    SET lease_expires_at = :lease_expires_at, step = :step, total_steps = :total_steps, progress_at = :now,
        rendered_at = CASE WHEN :rendered = 1 THEN coalesce(rendered_at, :now) ELSE rendered_at END
    WHERE id = :id AND worker_id = :worker_id AND state = 'running'
      AND (lease_expires_at < :renew_before OR (:rendered = 1 AND rendered_at IS NULL)
           OR ((step <> :step OR total_steps <> :total_steps)
               AND (progress_at IS NULL OR progress_at <= :progress_before)))
    RETURNING id
), woke AS (
    SELECT pg_notify('videobot_events', m.id::text) FROM mine m JOIN beat b ON b.id = m.id
    WHERE m.step <> :step OR m.total_steps <> :total_steps OR (:rendered = 1 AND m.rendered_at IS NULL)
)
SELECT m.id, (SELECT count(*) FROM woke) AS woke FROM mine m;

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
-- Store a member's picture under its content hash (the same picture twice is stored once; storing it
-- again refreshes its time, which media retention reads).
INSERT INTO inputs (ref, data, created_at) VALUES (:ref, :data, :now)
ON CONFLICT (ref) DO UPDATE SET created_at = excluded.created_at;

-- name: get_input
-- A member's picture by its reference.
SELECT data FROM inputs WHERE ref = :ref;

-- name: finish_job_recharged
-- finish_job and the charge's correction (real GPU time for the estimate) in one statement on its own,
-- so the guild's and member's tag rows are locked only while it runs, not across round trips (a
-- claim that waits for them holds the clock row). A row when the worker still held the job.
WITH held AS (
    SELECT id, charged_s FROM jobs
    WHERE id = :id AND worker_id = :worker_id AND state = 'running'
    FOR UPDATE
), done AS (
    UPDATE jobs j
    SET state = 'done', finished_at = :now, lease_expires_at = NULL, media_ref = :media_ref,
        video_bytes = :video_bytes, width = :width, height = :height, frames = :frames, fps = :fps,
        gpu_seconds = :gpu_seconds, step = total_steps, charged_s = :gpu_seconds
    FROM held h WHERE j.id = h.id
    RETURNING j.id, j.guild_id, j.user_id, j.weight, h.charged_s AS old_charged
), guild AS (
    UPDATE fair_guilds f SET finish_tag = f.finish_tag + (:gpu_seconds - d.old_charged)
    FROM done d WHERE f.guild_id = d.guild_id AND :gpu_seconds <> d.old_charged
    RETURNING f.guild_id
), member AS (
    UPDATE fair_users f SET finish_tag = f.finish_tag + (:gpu_seconds - d.old_charged) / d.weight
    FROM done d WHERE f.guild_id = d.guild_id AND f.user_id = d.user_id AND :gpu_seconds <> d.old_charged
    RETURNING f.user_id
)
SELECT d.id, pg_notify('videobot_events', d.id::text) AS woke,
       (SELECT count(*) FROM guild) + (SELECT count(*) FROM member) AS corrected
FROM done d;
