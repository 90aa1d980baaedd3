-- What the web gallery shows of a server and of its members instead of their Discord ids, kept by the
-- bot (the web process makes no Discord calls): a server's name and icon, recorded when the bot posts
-- a clip; and whether a member agreed to be named in the public gallery (/me gallery-name), with the
-- display name to show. Only a member who agreed has a name here: the default is "a member of …".

CREATE TABLE guild_profiles (
    guild_id   INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    icon_hash  TEXT,             -- Discord's icon hash: a new one means the icon changed
    icon       BLOB,             -- the icon as a small PNG, served by the gallery itself
    updated_at REAL NOT NULL
);

CREATE TABLE member_profiles (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    show_name    INTEGER NOT NULL DEFAULT 0,
    display_name TEXT,           -- kept only while show_name is on
    updated_at   REAL NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
