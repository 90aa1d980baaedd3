-- The web gallery's queries (db/store/gallery.py). Only servers whose settings say gallery_public, and
-- never a clip made in an age-restricted channel (jobs.age_restricted), and only clips posted in a channel
-- @everyone could view (jobs.public_channel true; NULL, not known, is not shown). A clip's author is named
-- (author_name) only if they agreed (member_profiles.show_name); never by id.

-- name: gallery_settings_candidates
-- Settings rows that may have opted in to the public gallery (the caller reads the JSON to be sure),
-- with the server's name and whether its icon is kept.
SELECT s.*, p.name AS profile_name, p.icon IS NOT NULL AS has_icon
FROM guild_settings s LEFT JOIN guild_profiles p ON p.guild_id = s.guild_id
WHERE s.data LIKE '%"gallery_public": true%' ORDER BY s.guild_id;

-- name: gallery_guild
-- A server's name and whether its icon is kept, with its settings (the caller checks gallery_public).
SELECT s.*, p.name AS profile_name, p.icon IS NOT NULL AS has_icon
FROM guild_settings s LEFT JOIN guild_profiles p ON p.guild_id = s.guild_id
WHERE s.guild_id = :guild_id;

-- name: gallery_best
-- A guild's posted, undeleted clips since a moment, best net votes first (clips without votes too),
-- none of an age-restricted channel.
SELECT j.*, coalesce(v.up, 0) AS vote_up, coalesce(v.down, 0) AS vote_down, m.display_name AS author_name
FROM jobs j
LEFT JOIN (SELECT job_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up,
                  sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down
           FROM votes GROUP BY job_id) v ON v.job_id = j.id
LEFT JOIN member_profiles m ON m.guild_id = j.guild_id AND m.user_id = j.user_id AND m.show_name
WHERE j.guild_id = :guild_id AND j.state = 'done' AND j.posted_at IS NOT NULL AND j.deleted_at IS NULL
      AND j.media_ref IS NOT NULL
  AND NOT j.age_restricted AND j.public_channel
  AND j.finished_at >= :since
ORDER BY coalesce(v.up, 0) - coalesce(v.down, 0) DESC, coalesce(v.up, 0) DESC, j.finished_at DESC, j.id DESC
LIMIT :limit OFFSET :offset;

-- name: gallery_newest
-- A guild's posted, undeleted clips, the newest first, with their votes; none of an age-restricted channel.
SELECT j.*, coalesce(v.up, 0) AS vote_up, coalesce(v.down, 0) AS vote_down, m.display_name AS author_name
FROM jobs j
LEFT JOIN (SELECT job_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up,
                  sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down
           FROM votes GROUP BY job_id) v ON v.job_id = j.id
LEFT JOIN member_profiles m ON m.guild_id = j.guild_id AND m.user_id = j.user_id AND m.show_name
WHERE j.guild_id = :guild_id AND j.state = 'done' AND j.posted_at IS NOT NULL AND j.deleted_at IS NULL
      AND j.media_ref IS NOT NULL
  AND NOT j.age_restricted AND j.public_channel
ORDER BY j.finished_at DESC, j.id DESC
LIMIT :limit OFFSET :offset;

-- name: gallery_guild_clip_count
-- How many clips a guild's gallery holds in all (none of an age-restricted channel).
SELECT count(*) AS n FROM jobs
WHERE guild_id = :guild_id AND state = 'done' AND posted_at IS NOT NULL AND deleted_at IS NULL
      AND media_ref IS NOT NULL
  AND NOT age_restricted AND public_channel;

-- name: gallery_author_name
-- The name a clip's author agreed to be shown by in the gallery, if they did.
SELECT display_name FROM member_profiles
WHERE guild_id = :guild_id AND user_id = :user_id AND show_name AND display_name IS NOT NULL;
