-- Who may see a clip again (bot/visibility.py). public_channel: whether @everyone could view the channel
-- (or thread) the clip was posted in, when it was posted; the web gallery lists and serves only clips
-- where it is true. NULL: not known (posted before this migration, or the bot stopped before it recorded
-- it): such a clip is not shown to the world until the bot, at start, finds its channel and records it.
ALTER TABLE jobs ADD COLUMN public_channel INTEGER;

-- Every copy of a clip /show posted (a message with the clip's video and buttons): deleting the clip
-- deletes its original message and each of these.
CREATE TABLE clip_copies (
    message_id INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,
    posted_at  REAL NOT NULL
);
CREATE INDEX clip_copies_job ON clip_copies (job_id);
