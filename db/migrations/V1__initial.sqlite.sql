-- The job store, SQLite flavour (the embedded default). Times are UTC epoch seconds (REAL).

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    kind              TEXT    NOT NULL DEFAULT 'new' CHECK (kind IN ('new', 'reroll', 'remix', 'extend')),
    parent_id         INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    locale            TEXT    NOT NULL DEFAULT 'en-US',
    model             TEXT    NOT NULL,
    spec              TEXT    NOT NULL,
    cost_estimate_s   REAL    NOT NULL CHECK (cost_estimate_s >= 0),
    weight            REAL    NOT NULL DEFAULT 1.0 CHECK (weight > 0),
    state             TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        REAL    NOT NULL,
    started_at        REAL,
    finished_at       REAL,
    worker_id         TEXT,
    lease_expires_at  REAL,
    charged_s         REAL    NOT NULL DEFAULT 0,
    step              INTEGER NOT NULL DEFAULT 0,
    total_steps       INTEGER NOT NULL DEFAULT 0,
    progress_at       REAL,
    error             TEXT,
    cancelled_by      INTEGER,
    media_ref         TEXT,
    video_bytes       INTEGER,
    width             INTEGER,
    height            INTEGER,
    frames            INTEGER,
    fps               REAL,
    gpu_seconds       REAL,
    status_message_id INTEGER,
    message_id        INTEGER,
    thread_id         INTEGER,
    posted_at         REAL
);
CREATE INDEX jobs_queue ON jobs (state, model);
CREATE INDEX jobs_user ON jobs (guild_id, user_id, state);
CREATE INDEX jobs_user_created ON jobs (guild_id, user_id, created_at);
CREATE INDEX jobs_lease ON jobs (state, lease_expires_at);
CREATE INDEX jobs_unposted ON jobs (finished_at) WHERE posted_at IS NULL;
CREATE INDEX jobs_parent ON jobs (parent_id);
CREATE INDEX jobs_done_by_model ON jobs (model, finished_at) WHERE state = 'done';
CREATE INDEX jobs_guild_finished ON jobs (guild_id, finished_at);

-- start-time fair queueing: one global virtual clock, per-guild and per-user tags
CREATE TABLE fair_clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    vtime REAL NOT NULL DEFAULT 0
);
INSERT INTO fair_clock (id, vtime) VALUES (1, 0);

CREATE TABLE fair_guilds (
    guild_id   INTEGER PRIMARY KEY,
    finish_tag REAL NOT NULL DEFAULT 0,
    vtime      REAL NOT NULL DEFAULT 0
);

CREATE TABLE fair_users (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    finish_tag REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE guild_settings (
    guild_id     INTEGER PRIMARY KEY,
    max_queued   INTEGER NOT NULL,
    max_running  INTEGER NOT NULL,
    daily_limit  INTEGER NOT NULL,
    nsfw_allowed INTEGER NOT NULL DEFAULT 0,
    data         TEXT    NOT NULL DEFAULT '{}',
    updated_at   REAL    NOT NULL
);

CREATE TABLE workers (
    worker_id  TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    gpu        TEXT NOT NULL,
    models     TEXT NOT NULL,
    started_at REAL NOT NULL,
    last_seen  REAL NOT NULL
);

CREATE TABLE votes (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    value    INTEGER NOT NULL CHECK (value IN (-1, 1)),
    voted_at REAL    NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
