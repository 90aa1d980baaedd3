-- Challenges: a theme, a thread and an end. Entries are the clips made in the thread (a member's
-- latest); at the end the votes on them are copied into challenge_votes (kept for audit, whatever
-- happens to the clips later) and the ranking into challenge_results.

CREATE TABLE challenges (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    thread_id          INTEGER UNIQUE,
    announcement_id    INTEGER,
    theme              TEXT    NOT NULL,
    created_by         INTEGER NOT NULL,
    locale             TEXT    NOT NULL DEFAULT 'en-US',
    started_at         REAL    NOT NULL,
    ends_at            REAL    NOT NULL,
    ended_at           REAL,
    ended_by           INTEGER,
    winner_user_id     INTEGER,
    winner_job_id      INTEGER,
    role_outcome       TEXT,
    results_message_id INTEGER,
    results_posted_at  REAL
);

CREATE INDEX challenges_open ON challenges (ends_at) WHERE ended_at IS NULL;
CREATE INDEX challenges_guild ON challenges (guild_id, ended_at);

CREATE TABLE challenge_results (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    place        INTEGER NOT NULL,
    job_id       INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    up           INTEGER NOT NULL,
    down         INTEGER NOT NULL,
    entered_at   REAL    NOT NULL,
    message_id   INTEGER,
    PRIMARY KEY (challenge_id, place)
);

CREATE TABLE challenge_votes (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    job_id       INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    value        INTEGER NOT NULL CHECK (value IN (-1, 1)),
    voted_at     REAL    NOT NULL,
    PRIMARY KEY (challenge_id, job_id, user_id)
);
