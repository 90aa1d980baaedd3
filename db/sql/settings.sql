-- Each server's settings (db/store/settings.py). Parameters are written :name, as in jobs.sql.

-- name: get_settings
-- A guild's settings row.
SELECT * FROM guild_settings WHERE guild_id = :guild_id;

-- name: upsert_settings
-- Store a guild's settings.
INSERT INTO guild_settings (guild_id, max_queued, max_running, daily_limit, nsfw_allowed, data, updated_at)
VALUES (:guild_id, :max_queued, :max_running, :daily_limit, :nsfw_allowed, :data, :now)
ON CONFLICT (guild_id) DO UPDATE
SET max_queued = excluded.max_queued, max_running = excluded.max_running,
    daily_limit = excluded.daily_limit, nsfw_allowed = excluded.nsfw_allowed, data = excluded.data,
    updated_at = excluded.updated_at;
