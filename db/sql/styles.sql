-- A server's styles (db/store/styles.py). Parameters are written :name.

-- name: style_count
-- How many styles a server has (not removed).
SELECT count(*) AS n FROM styles WHERE guild_id = :guild_id AND deleted_at IS NULL;

-- name: style_named
-- A server's style by its name, any case (not removed).
SELECT * FROM styles WHERE guild_id = :guild_id AND lower(name) = lower(:name) AND deleted_at IS NULL;

-- name: style_insert
-- A new style.
INSERT INTO styles (guild_id, name, source, scale, trigger_words, preset, family, author, author_id,
                    license, link, created_by, created_at)
VALUES (:guild_id, :name, :source, :scale, :trigger, :preset, :family, :author, :author_id,
        :license, :link, :created_by, :now)
RETURNING *;

-- name: style_remove
-- Remove a server's style by name; its row stays for the clips that credit it.
UPDATE styles SET deleted_at = :now
WHERE guild_id = :guild_id AND lower(name) = lower(:name) AND deleted_at IS NULL
RETURNING *;

-- name: style_list
-- A server's styles (not removed), by name.
SELECT * FROM styles WHERE guild_id = :guild_id AND deleted_at IS NULL ORDER BY lower(name), id;

-- name: style_get
-- One style by its id, removed or not (a clip made with it credits it).
SELECT * FROM styles WHERE id = :id;

-- name: style_mark_broken
-- A worker could not load the style's file: why, for the admins (/style list).
UPDATE styles SET broken_code = :code, broken_params = :params, broken_at = :now WHERE id = :id;
