-- Claims that read a handful of rows however long the queue (PostgreSQL's V12 says how): every guild
-- counts its queued jobs and every member keeps the id of its oldest queued job, kept by triggers on
-- jobs, with a `waiting` flag on each; a claim walks the waiting guilds, then members, in fair order
-- (db/store/claims.py). Only the flags are indexed: the tags change with every claim.

ALTER TABLE fair_guilds ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fair_guilds ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fair_users ADD COLUMN head_id INTEGER;
ALTER TABLE fair_users ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;

UPDATE fair_guilds SET queued = (SELECT count(*) FROM jobs j
                                 WHERE j.guild_id = fair_guilds.guild_id AND j.state = 'queued');
UPDATE fair_guilds SET waiting = queued > 0;
UPDATE fair_users SET head_id = (SELECT min(j.id) FROM jobs j
                                 WHERE j.guild_id = fair_users.guild_id AND j.user_id = fair_users.user_id
                                   AND j.state = 'queued');
UPDATE fair_users SET waiting = head_id IS NOT NULL;

CREATE INDEX fair_guilds_waiting ON fair_guilds (guild_id) WHERE waiting;
CREATE INDEX fair_users_waiting ON fair_users (guild_id) WHERE waiting;
CREATE INDEX jobs_member_queued ON jobs (guild_id, user_id, id) WHERE state = 'queued';

CREATE TRIGGER jobs_count_queued_insert AFTER INSERT ON jobs WHEN NEW.state = 'queued'
BEGIN
    UPDATE fair_guilds SET queued = queued + 1, waiting = 1 WHERE guild_id = NEW.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = NEW.guild_id
                                     AND q.user_id = NEW.user_id AND q.state = 'queued')
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
    UPDATE fair_users SET waiting = head_id IS NOT NULL WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
END;

-- into or out of the queue: the count moves by one either way (a comparison is 0 or 1 to SQLite)
CREATE TRIGGER jobs_count_queued_update AFTER UPDATE OF state ON jobs
WHEN (OLD.state = 'queued') <> (NEW.state = 'queued')
BEGIN
    UPDATE fair_guilds SET queued = queued + (NEW.state = 'queued') - (OLD.state = 'queued')
    WHERE guild_id = NEW.guild_id;
    UPDATE fair_guilds SET waiting = queued > 0 WHERE guild_id = NEW.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = NEW.guild_id
                                     AND q.user_id = NEW.user_id AND q.state = 'queued')
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
    UPDATE fair_users SET waiting = head_id IS NOT NULL WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
END;

CREATE TRIGGER jobs_count_queued_delete AFTER DELETE ON jobs WHEN OLD.state = 'queued'
BEGIN
    UPDATE fair_guilds SET queued = queued - 1, waiting = queued > 1 WHERE guild_id = OLD.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = OLD.guild_id
                                     AND q.user_id = OLD.user_id AND q.state = 'queued')
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
    UPDATE fair_users SET waiting = head_id IS NOT NULL WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
END;
