-- Claims that read a handful of rows however long the queue (PostgreSQL's V12 says how): every guild
-- counts its queued jobs and every member keeps the id of its oldest queued job, kept by triggers on
-- jobs, and a claim walks guilds, then members, in fair order through partial indexes of those with
-- queued jobs (db/store/claims.py).

ALTER TABLE fair_guilds ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fair_users ADD COLUMN head_id INTEGER;

UPDATE fair_guilds SET queued = (SELECT count(*) FROM jobs j
                                 WHERE j.guild_id = fair_guilds.guild_id AND j.state = 'queued');
UPDATE fair_users SET head_id = (SELECT min(j.id) FROM jobs j
                                 WHERE j.guild_id = fair_users.guild_id AND j.user_id = fair_users.user_id
                                   AND j.state = 'queued');

CREATE INDEX fair_guilds_waiting ON fair_guilds (finish_tag, guild_id) WHERE queued > 0;
CREATE INDEX fair_users_waiting ON fair_users (guild_id, finish_tag, head_id) WHERE head_id IS NOT NULL;
CREATE INDEX jobs_member_queued ON jobs (guild_id, user_id, id) WHERE state = 'queued';

CREATE TRIGGER jobs_count_queued_insert AFTER INSERT ON jobs WHEN NEW.state = 'queued'
BEGIN
    UPDATE fair_guilds SET queued = queued + 1 WHERE guild_id = NEW.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = NEW.guild_id
                                     AND q.user_id = NEW.user_id AND q.state = 'queued')
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
END;

-- into or out of the queue: the count moves by one either way (a comparison is 0 or 1 to SQLite)
CREATE TRIGGER jobs_count_queued_update AFTER UPDATE OF state ON jobs
WHEN (OLD.state = 'queued') <> (NEW.state = 'queued')
BEGIN
    UPDATE fair_guilds SET queued = queued + (NEW.state = 'queued') - (OLD.state = 'queued')
    WHERE guild_id = NEW.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = NEW.guild_id
                                     AND q.user_id = NEW.user_id AND q.state = 'queued')
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
END;

CREATE TRIGGER jobs_count_queued_delete AFTER DELETE ON jobs WHEN OLD.state = 'queued'
BEGIN
    UPDATE fair_guilds SET queued = queued - 1 WHERE guild_id = OLD.guild_id;
    UPDATE fair_users SET head_id = (SELECT min(q.id) FROM jobs q WHERE q.guild_id = OLD.guild_id
                                     AND q.user_id = OLD.user_id AND q.state = 'queued')
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
END;
