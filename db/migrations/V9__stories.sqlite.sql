-- Stories told together: a story lives in a thread; each scene is a job (scene 1 new, the next ones
-- extends of the scene before), chosen in a round of proposals that members vote on.

CREATE TABLE stories (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    thread_id          INTEGER NOT NULL UNIQUE,
    starter_id         INTEGER NOT NULL,
    title              TEXT NOT NULL,
    locale             TEXT NOT NULL DEFAULT 'en-US',
    phase              TEXT NOT NULL DEFAULT 'rendering'
                       CHECK (phase IN ('rendering', 'round', 'queuing', 'finished')),
    round_ends_at      REAL,
    winner_proposal_id INTEGER,
    created_at         REAL NOT NULL,
    finished_at        REAL
);
CREATE INDEX stories_phase ON stories (phase, round_ends_at);

CREATE TABLE story_scenes (
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    user_id    INTEGER NOT NULL,
    prompt     TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (story_id, number)
);
CREATE INDEX story_scenes_job ON story_scenes (job_id);

CREATE TABLE story_proposals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    scene      INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    prompt     TEXT NOT NULL,
    weight     REAL NOT NULL DEFAULT 1.0,
    message_id INTEGER,
    created_at REAL NOT NULL,
    UNIQUE (story_id, scene, user_id)
);

CREATE TABLE story_votes (
    proposal_id INTEGER NOT NULL REFERENCES story_proposals (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    voted_at    REAL NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
);
