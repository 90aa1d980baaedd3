-- Operations: the health check and the gauges of /metrics (db/store/metrics.py). Parameters are written :name.

-- name: metrics_ping
-- The cheapest question that proves the jobs table answers (the health check's).
SELECT count(*) AS n FROM (SELECT 1 FROM jobs LIMIT 1) one;

-- name: metrics_queued_by_guild
-- How many jobs wait in each guild that has any.
SELECT guild_id, count(*) AS n FROM jobs WHERE state = 'queued' GROUP BY guild_id ORDER BY guild_id;
