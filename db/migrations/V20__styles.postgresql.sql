-- Styles: a server's LoRA library (/style add, remove, list). A style belongs to one preset family
-- (db.presets.Preset.family: presets whose transformers share an architecture); its source is a hub id
-- (with an optional file name) or a path on the GPU hosts. Removing one keeps its row (deleted_at), so
-- the clips made with it still credit it; a name is unique among a server's styles that are not removed.
-- A worker that cannot load its file marks it broken (a failure code and its parameters) for the admins.
CREATE TABLE styles (
    id            BIGSERIAL PRIMARY KEY,
    guild_id      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    source        TEXT NOT NULL,
    scale         DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    trigger_words TEXT NOT NULL DEFAULT '',
    preset        TEXT NOT NULL,
    family        TEXT NOT NULL,
    author        TEXT NOT NULL DEFAULT '',
    author_id     BIGINT,
    license       TEXT NOT NULL DEFAULT '',
    link          TEXT NOT NULL DEFAULT '',
    created_by    BIGINT NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL,
    deleted_at    DOUBLE PRECISION,
    broken_code   TEXT,
    broken_params TEXT,
    broken_at     DOUBLE PRECISION
);
CREATE UNIQUE INDEX styles_name ON styles (guild_id, lower(name)) WHERE deleted_at IS NULL;
