-- The jobs' queries (db/store/jobs.py, db/store/claims.py), shared by both backends. Parameters are written :name; the PostgreSQL connector
-- turns them into $1, $2 …. A query of the same name in postgresql.sql or sqlite.sql replaces these.

-- name: insert_job
-- Store a new queued job and return it. It is age-restricted when asked for in an age-restricted
-- channel, or when a clip it builds on (its parent's row, or the clip a bridge ends on) is.
INSERT INTO jobs (guild_id, channel_id, user_id, kind, parent_id, locale, model, spec,
                  cost_estimate_s, weight, created_at, age_restricted)
VALUES (:guild_id, :channel_id, :user_id, :kind, :parent_id, :locale, :model, :spec,
        :cost_estimate_s, :weight, :now,
        :age_restricted OR EXISTS (SELECT 1 FROM jobs p
                                   WHERE p.id IN (:parent_id, :bridges_to) AND p.age_restricted))
RETURNING *;

-- name: ensure_fair_guild
-- Create a guild's fairness tags if it has none yet.
INSERT INTO fair_guilds (guild_id) VALUES (:guild_id) ON CONFLICT DO NOTHING;

-- name: ensure_fair_user
-- Create a member's fairness tag if they have none yet.
INSERT INTO fair_users (guild_id, user_id) VALUES (:guild_id, :user_id) ON CONFLICT DO NOTHING;

-- name: count_queued_for_user
-- How many jobs a member has waiting in a guild.
SELECT count(*) AS n FROM jobs WHERE guild_id = :guild_id AND user_id = :user_id AND state = 'queued';

-- name: daily_jobs_for_user
-- Creation times of a member's jobs since a moment that count toward the daily limit.
SELECT created_at FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND created_at > :since
  AND NOT (state = 'cancelled' AND started_at IS NULL)
ORDER BY created_at;

-- name: mark_claimed
-- Hand a queued job to a worker under a lease.
UPDATE jobs
SET state = 'running', worker_id = :worker_id, lease_expires_at = :lease_expires_at, started_at = :now,
    charged_s = cost_estimate_s, step = 0, total_steps = 0, progress_at = NULL, rendered_at = NULL
WHERE id = :id AND state = 'queued'
RETURNING *;

-- name: set_fair_clock
-- Move the global virtual time.
UPDATE fair_clock SET vtime = :vtime WHERE id = 1;

-- name: charge_guild
-- Set a guild's finish tag and its own virtual time after a dispatch.
UPDATE fair_guilds SET finish_tag = :finish_tag, vtime = :vtime WHERE guild_id = :guild_id;

-- name: charge_user
-- Set a member's finish tag after a dispatch.
UPDATE fair_users SET finish_tag = :finish_tag WHERE guild_id = :guild_id AND user_id = :user_id;

-- name: correct_guild
-- Adjust a guild's finish tag by the difference between charged and real GPU time.
UPDATE fair_guilds SET finish_tag = finish_tag + :delta WHERE guild_id = :guild_id;

-- name: correct_user
-- Adjust a member's finish tag by the weighted difference between charged and real GPU time.
UPDATE fair_users SET finish_tag = finish_tag + :delta WHERE guild_id = :guild_id AND user_id = :user_id;

-- name: requeue_job
-- Put a running job whose worker died back in the queue, adding :counted (0 or 1) to its attempts.
UPDATE jobs
SET state = 'queued', attempts = attempts + :counted, worker_id = NULL, lease_expires_at = NULL,
    started_at = NULL, charged_s = 0, step = 0, total_steps = 0, progress_at = NULL, rendered_at = NULL
WHERE id = :id AND state = 'running';

-- name: fail_expired_job
-- Give up on a job whose worker stopped responding too many times.
UPDATE jobs
SET state = 'failed', attempts = attempts + 1, lease_expires_at = NULL, error = :reason,
    error_code = :code, error_params = :params, finished_at = :now
WHERE id = :id AND state = 'running';

-- name: release_job
-- Return a running job to the queue without penalty (its worker is shutting down).
UPDATE jobs
SET state = 'queued', worker_id = NULL, lease_expires_at = NULL, started_at = NULL, charged_s = 0,
    step = 0, total_steps = 0, progress_at = NULL, rendered_at = NULL
WHERE id = :id AND worker_id = :worker_id AND state = 'running'
RETURNING guild_id, user_id, weight, cost_estimate_s, charged_s, model;

-- name: renew_own_leases
-- A worker that claims is alive: the jobs it still holds (one it encodes or stores, perhaps after an
-- outage that let their leases run out) are its own, not a dead worker's to requeue.
UPDATE jobs SET lease_expires_at = :lease_expires_at
WHERE worker_id = :worker_id AND state = 'running' AND lease_expires_at < :lease_expires_at;

-- name: heartbeat_job
-- Renew a worker's lease on its job and record progress (and, with :rendered = 1, that the render is
-- done), but only when that is due: the lease is older than :renew_before, the render is newly done,
-- or the step changed and the progress written last is older than :progress_before.
UPDATE jobs
SET lease_expires_at = :lease_expires_at, step = :step, total_steps = :total_steps, progress_at = :now,
    rendered_at = CASE WHEN :rendered = 1 THEN coalesce(rendered_at, :now) ELSE rendered_at END
WHERE id = :id AND worker_id = :worker_id AND state = 'running'
  AND (lease_expires_at < :renew_before OR (:rendered = 1 AND rendered_at IS NULL)
       OR ((step <> :step OR total_steps <> :total_steps)
           AND (progress_at IS NULL OR progress_at <= :progress_before)));

-- name: set_video_bytes
-- A clip's file replaced by its signed version (content credentials): its new size; not a deleted clip's.
UPDATE jobs SET video_bytes = :video_bytes, manifest_bytes = :manifest_bytes
WHERE id = :id AND deleted_at IS NULL;

-- name: holds_job
-- Whether a worker still holds a running job (it was not cancelled, nor its lease given away).
SELECT id FROM jobs WHERE id = :id AND worker_id = :worker_id AND state = 'running';

-- name: finish_job
-- Record a finished clip; only the lease holder may do so.
UPDATE jobs
SET state = 'done', finished_at = :now, lease_expires_at = NULL, media_ref = :media_ref,
    video_bytes = :video_bytes, width = :width, height = :height, frames = :frames, fps = :fps,
    gpu_seconds = :gpu_seconds, step = total_steps
WHERE id = :id AND worker_id = :worker_id AND state = 'running'
RETURNING guild_id, user_id, weight, charged_s;

-- name: set_enhanced_prompt
-- The prompt as the model's prompt enhancer rewrote it, written just before finish_job by the same holder.
UPDATE jobs SET enhanced_prompt = :text WHERE id = :id AND worker_id = :worker_id AND state = 'running';

-- name: set_segments
-- Where a joined clip's frames were first encoded, written just before finish_job by the same holder.
UPDATE jobs SET segments = :segments WHERE id = :id AND worker_id = :worker_id AND state = 'running';

-- name: set_charged
-- Remember what a job is charged in the fairness tags.
UPDATE jobs SET charged_s = :charged_s WHERE id = :id;

-- name: fail_job
-- Record a failed job with a reason a member can read; only the lease holder may do so.
UPDATE jobs
SET state = 'failed', finished_at = :now, lease_expires_at = NULL, error = :reason,
    error_code = :code, error_params = :params, gpu_seconds = :gpu_seconds
WHERE id = :id AND worker_id = :worker_id AND state = 'running'
RETURNING guild_id, user_id, weight, charged_s;

-- name: cancel_job
-- Cancel a queued or running job, by its author or (no user) by a moderator.
UPDATE jobs
SET state = 'cancelled', finished_at = :now, lease_expires_at = NULL, error = :reason,
    error_code = :code, cancelled_by = :cancelled_by
WHERE id = :id AND state IN ('queued', 'running') AND (:author_only = 0 OR user_id = :cancelled_by)
RETURNING guild_id, user_id, weight, charged_s, started_at;

-- name: cancel_job_because
-- Cancel a queued or running job for a reason that is nobody's choice (a clip it is made from was deleted).
UPDATE jobs
SET state = 'cancelled', finished_at = :now, lease_expires_at = NULL, error = :reason,
    error_code = :code, error_params = :params, cancelled_by = NULL
WHERE id = :id AND state IN ('queued', 'running')
RETURNING guild_id, user_id, weight, charged_s, started_at;

-- name: active_joins_in_guild
-- A guild's queued and running jobs that hold other clips' frames (extends, bridges, HD versions).
SELECT id, kind, parent_id, spec FROM jobs
WHERE guild_id = :guild_id AND state IN ('queued', 'running') AND kind IN ('extend', 'bridge', 'hd');

-- name: unposted_jobs
-- Ended jobs whose channel message has not been posted yet, oldest first, after (:after_at, :after_id).
SELECT * FROM jobs
WHERE posted_at IS NULL AND state IN ('done', 'failed', 'cancelled')
  AND (COALESCE(finished_at, 0) > :after_at OR (COALESCE(finished_at, 0) = :after_at AND id > :after_id))
ORDER BY COALESCE(finished_at, 0), id
LIMIT :limit;

-- name: mark_posted
-- Record the message a job was posted as; only the first call counts.
UPDATE jobs SET posted_at = :now, message_id = :message_id, thread_id = :thread_id
WHERE id = :id AND posted_at IS NULL AND state IN ('done', 'failed', 'cancelled');

-- name: set_status_message
-- Remember the channel message that shows a job's progress, unless the job was posted already.
UPDATE jobs SET status_message_id = :message_id WHERE id = :id AND posted_at IS NULL;

-- name: get_job
-- One job by id.
SELECT * FROM jobs WHERE id = :id;

-- name: active_jobs
-- Queued and running jobs, oldest first (the bot edits their status messages).
SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY id LIMIT :limit;

-- name: queued_for_fairness
-- What the fair scheduler needs to know about every queued job.
SELECT id, guild_id, user_id, model, cost_estimate_s, weight FROM jobs WHERE state = 'queued';

-- name: running_jobs
-- Jobs being rendered now.
SELECT * FROM jobs WHERE state = 'running' ORDER BY id;

-- name: fair_clock
-- The global virtual time.
SELECT vtime FROM fair_clock WHERE id = 1;

-- name: fair_guild_tags
-- Every guild's fairness tags.
SELECT guild_id, finish_tag, vtime FROM fair_guilds;

-- name: fair_user_tags_queued
-- Fairness tags of members who have jobs waiting.
SELECT u.guild_id, u.user_id, u.finish_tag FROM fair_users u
WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.state = 'queued' AND j.guild_id = u.guild_id
              AND j.user_id = u.user_id);

-- name: model_speed
-- Real ÷ estimated GPU time of the last 20 finished jobs, per model.
SELECT model, avg(ratio) AS ratio, count(*) AS n FROM (
    SELECT model, gpu_seconds / cost_estimate_s AS ratio,
           row_number() OVER (PARTITION BY model ORDER BY finished_at DESC) AS rn
    FROM jobs
    WHERE state = 'done' AND gpu_seconds IS NOT NULL AND cost_estimate_s > 0
) recent
WHERE rn <= 20
GROUP BY model;

-- name: hd_of
-- A clip's HD version: queued, running or done, and not deleted (at most one: index jobs_one_hd).
SELECT * FROM jobs
WHERE parent_id = :id AND kind = 'hd' AND state IN ('queued', 'running', 'done') AND deleted_at IS NULL;

-- name: children
-- Rerolls, remixes and extensions made from a clip.
SELECT * FROM jobs WHERE parent_id = :id ORDER BY id;

-- name: worker_running_jobs
-- The running jobs one worker holds (it died: they go back to the queue).
SELECT id, guild_id, user_id, weight, charged_s, attempts, model, rendered_at FROM jobs
WHERE state = 'running' AND worker_id = :worker_id
ORDER BY id;

-- name: fail_delivery
-- A finished clip that cannot be posted (its file is gone, unreadable or corrupt) ends as failed.
UPDATE jobs SET state = 'failed', error = :reason, error_code = :code, error_params = :params
WHERE id = :id AND state = 'done' AND posted_at IS NULL;

-- name: mark_deleted
-- A clip its author or a moderator deleted: it leaves /top and /show (its row stays for lineage).
UPDATE jobs SET deleted_at = :now WHERE id = :id AND deleted_at IS NULL;

-- name: count_queued_in_guild
-- How many jobs wait in one guild, exactly.
SELECT count(*) AS n FROM jobs WHERE guild_id = :guild_id AND state = 'queued';

-- name: schema_version
-- The newest migration applied to this database (a newer one than this code knows means: upgrade).
SELECT coalesce(max(version), 0) AS version FROM schema_migrations;

-- name: any_lease_expired
-- Whether some running job's lease has run out (a claim then requeues it first).
SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < :now LIMIT 1;

-- name: waiting_guilds
-- Guilds with queued jobs in fair order (smaller finish tag first), by the index of those waiting.
SELECT guild_id, finish_tag, vtime FROM fair_guilds WHERE waiting ORDER BY finish_tag, guild_id;

-- name: waiting_members
-- A guild's members with queued jobs in fair order: smaller finish tag first, then the older job.
SELECT u.user_id, u.finish_tag, u.head_id, j.model AS head_model FROM fair_users u
JOIN jobs j ON j.id = u.head_id
WHERE u.guild_id = :guild_id AND u.waiting
ORDER BY u.finish_tag, u.head_id;

-- name: member_queued_jobs
-- A member's queued jobs, oldest first (a claim takes the first of a model it serves).
SELECT id, model FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND state = 'queued'
ORDER BY id;

-- name: member_running_count
-- How many of a member's jobs run under a live lease (expired leases do not cap).
SELECT count(*) AS n FROM jobs
WHERE guild_id = :guild_id AND user_id = :user_id AND state = 'running' AND lease_expires_at >= :now;

-- name: guild_max_running
-- A guild's cap on running jobs per member, if it set one.
SELECT max_running FROM guild_settings WHERE guild_id = :guild_id;

-- name: claim_tags
-- The clock and a guild's and member's tags, read for the charge of a claim.
SELECT c.vtime AS clock_vtime, g.finish_tag AS guild_finish, g.vtime AS guild_vtime,
       u.finish_tag AS user_finish, j.cost_estimate_s, j.weight
FROM fair_clock c
JOIN jobs j ON j.id = :id
JOIN fair_guilds g ON g.guild_id = j.guild_id
JOIN fair_users u ON u.guild_id = j.guild_id AND u.user_id = j.user_id
WHERE c.id = 1;

-- name: set_public_channel
-- Whether @everyone could view the channel a clip was posted in (bot/visibility.py; migration V22).
UPDATE jobs SET public_channel = :public WHERE id = :id;

-- name: visibility_unknown
-- Posted, undeleted clips whose channel's visibility is not recorded (posted before migration V22), in
-- id order after :after, a page at a time.
SELECT * FROM jobs
WHERE state = 'done' AND posted_at IS NOT NULL AND message_id IS NOT NULL AND deleted_at IS NULL
  AND public_channel IS NULL AND id > :after
ORDER BY id
LIMIT :limit;

-- name: add_clip_copy
-- A copy of a clip that /show posted (migration V22).
INSERT INTO clip_copies (message_id, job_id, channel_id, posted_at)
VALUES (:message_id, :job_id, :channel_id, :now)
ON CONFLICT (message_id) DO NOTHING;

-- name: clip_copies
-- The copies of a clip /show posted: where they are.
SELECT message_id, channel_id FROM clip_copies WHERE job_id = :job_id ORDER BY message_id;

-- name: active_jobs_of_guild
-- A guild's queued and running jobs and where each is to be posted (a channel or a thread).
SELECT id, channel_id FROM jobs WHERE guild_id = :guild_id AND state IN ('queued', 'running');
