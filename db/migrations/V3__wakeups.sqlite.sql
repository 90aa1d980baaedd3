-- Wake-ups between processes sharing the file: a commit that notifies a channel counts one more on
-- its row, so a worker waiting for work sleeps through heartbeats and votes (PostgreSQL has LISTEN).

CREATE TABLE wakeups (
    channel TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL
);
