-- What the gallery shows of servers and members (db/store/profiles.py), kept by the bot. Parameters
-- are written :name.

-- name: profile_guild
-- A server's recorded name and icon hash (not the icon's bytes).
SELECT guild_id, name, icon_hash, icon IS NOT NULL AS has_icon, updated_at
FROM guild_profiles WHERE guild_id = :guild_id;

-- name: profile_record_guild
-- Record a server's name (a new server has no icon yet; a known one keeps its icon).
INSERT INTO guild_profiles (guild_id, name, updated_at) VALUES (:guild_id, :name, :now)
ON CONFLICT (guild_id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at;

-- name: profile_record_guild_icon
-- Record a server's icon: its hash and a small PNG (both NULL: the server has no icon).
UPDATE guild_profiles SET icon_hash = :icon_hash, icon = :icon, updated_at = :now WHERE guild_id = :guild_id;

-- name: profile_guild_icon
-- A server's icon as a PNG, if it has one.
SELECT icon FROM guild_profiles WHERE guild_id = :guild_id AND icon IS NOT NULL;

-- name: profile_member
-- Whether a member agreed to be named in the gallery, and the name kept for it.
SELECT guild_id, user_id, show_name, display_name, updated_at
FROM member_profiles WHERE guild_id = :guild_id AND user_id = :user_id;

-- name: profile_set_gallery_name
-- A member's choice: named in the gallery (with this display name) or not (and no name kept).
INSERT INTO member_profiles (guild_id, user_id, show_name, display_name, updated_at)
VALUES (:guild_id, :user_id, :show_name, :display_name, :now)
ON CONFLICT (guild_id, user_id) DO UPDATE
SET show_name = excluded.show_name, display_name = excluded.display_name, updated_at = excluded.updated_at;

-- name: profile_record_member_name
-- Keep the display name of a member who agreed to be named current (nothing for anyone else).
UPDATE member_profiles SET display_name = :display_name, updated_at = :now
WHERE guild_id = :guild_id AND user_id = :user_id AND show_name;
