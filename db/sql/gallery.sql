-- The web gallery's queries (db/store/gallery.py). Only servers whose settings say gallery_public.

-- name: gallery_settings_candidates
-- Settings rows that may have opted in to the public gallery (the caller reads the JSON to be sure).
SELECT * FROM guild_settings WHERE data LIKE '%"gallery_public": true%' ORDER BY guild_id;

-- name: gallery_best
-- A guild's finished, undeleted clips since a moment, best net votes first (clips without votes too).
SELECT j.*, coalesce(v.up, 0) AS vote_up, coalesce(v.down, 0) AS vote_down FROM jobs j
LEFT JOIN (SELECT job_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up,
                  sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down
           FROM votes GROUP BY job_id) v ON v.job_id = j.id
WHERE j.guild_id = :guild_id AND j.state = 'done' AND j.deleted_at IS NULL AND j.media_ref IS NOT NULL
  AND j.finished_at >= :since
ORDER BY coalesce(v.up, 0) - coalesce(v.down, 0) DESC, coalesce(v.up, 0) DESC, j.finished_at DESC, j.id DESC
LIMIT :limit;

-- name: gallery_guild_clip_count
-- How many clips a guild's gallery holds in all.
SELECT count(*) AS n FROM jobs
WHERE guild_id = :guild_id AND state = 'done' AND deleted_at IS NULL AND media_ref IS NOT NULL;
