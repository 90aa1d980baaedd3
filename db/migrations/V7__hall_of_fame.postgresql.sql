-- The hall of fame: one row per clip that reached its server's threshold, claimed before the post is
-- sent (state 'posting'), then the message it became ('posted'), or 'removed' once the clip (or the
-- post) is gone. The primary key makes the claim the one and only: a clip is posted there once.

CREATE TABLE hall_of_fame (
    job_id     BIGINT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    guild_id   BIGINT  NOT NULL,
    channel_id BIGINT  NOT NULL,
    message_id BIGINT,
    state      TEXT    NOT NULL DEFAULT 'posting' CHECK (state IN ('posting', 'posted', 'removed')),
    shown_up   INTEGER NOT NULL DEFAULT 0,
    shown_down INTEGER NOT NULL DEFAULT 0,
    claimed_at DOUBLE PRECISION NOT NULL,
    posted_at  DOUBLE PRECISION,
    UNIQUE (guild_id, job_id)
);
CREATE INDEX hall_of_fame_guild ON hall_of_fame (guild_id, state);
