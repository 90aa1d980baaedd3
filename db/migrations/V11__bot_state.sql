-- The bot's own state, a few keys (db/store/shards.py): e.g. the digest of the application-command
-- tree last synced to Discord, so a restart or a second shard process does not sync it again.
CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
