-- /stats and `videobot status` (db/store/stats.py). Parameters are written :name.
-- GPU-seconds per member come from me_gpu_by_member (halloffame.sql): the same arithmetic as /me.

-- name: stats_waits
-- How long each job of a guild that started since a moment waited in the queue (a requeued job: its last wait).
SELECT started_at, started_at - created_at AS waited
FROM jobs
WHERE guild_id = :guild_id AND started_at IS NOT NULL AND started_at >= :since
ORDER BY started_at, id;

-- name: stats_queued_by_guild
-- Jobs waiting and rendering in each guild that has any.
SELECT guild_id,
       sum(CASE WHEN state = 'queued' THEN 1 ELSE 0 END) AS queued,
       sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running
FROM jobs
WHERE state IN ('queued', 'running')
GROUP BY guild_id
ORDER BY guild_id;

-- name: stats_finished_since
-- When each clip finished since a moment (done jobs only: clips, not failures).
SELECT finished_at FROM jobs WHERE state = 'done' AND finished_at >= :since ORDER BY finished_at;
