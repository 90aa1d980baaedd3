-- Claims that read a handful of rows however long the queue. Every guild counts its queued jobs, and
-- every member keeps the id of its oldest queued job (NULL when it has none), both kept by a trigger on
-- jobs, so each path that queues, claims, cancels or requeues a job keeps them right; a `waiting` flag
-- on each says whether it has any. A claim walks the waiting guilds in fair order, and inside a guild
-- its waiting members in fair order, stopping at the first that may run. Smaller guild finish tag
-- first, then smaller member finish tag, then the older job: that is db/fairness.py's order key (its
-- docstring says why), so the walk picks what pick_next picks, and the charge is fairness.charge. The
-- clock row is still the one lock claims take turns on; what they do while holding it is now a few
-- index probes, not a pass over every member with queued jobs.
--
-- Only the flags are indexed, not the tags or the oldest job, which change with every claim: an update
-- that changes no indexed column stays in the row's page (HOT) and writes no index entry, so the rows
-- every claim rewrites do not leave a trail of dead index entries for the next claim to step over.
-- The flags change only when a guild or member starts or stops waiting.

ALTER TABLE fair_guilds ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fair_guilds ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE fair_users ADD COLUMN head_id BIGINT;
ALTER TABLE fair_users ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT false;

UPDATE fair_guilds g SET queued = c.n, waiting = true
FROM (SELECT guild_id, count(*) AS n FROM jobs WHERE state = 'queued' GROUP BY guild_id) c
WHERE c.guild_id = g.guild_id;
UPDATE fair_users u SET head_id = c.head, waiting = true
FROM (SELECT guild_id, user_id, min(id) AS head FROM jobs WHERE state = 'queued' GROUP BY guild_id, user_id) c
WHERE c.guild_id = u.guild_id AND c.user_id = u.user_id;

CREATE INDEX fair_guilds_waiting ON fair_guilds (guild_id) WHERE waiting;
CREATE INDEX fair_users_waiting ON fair_users (guild_id) WHERE waiting;
CREATE INDEX jobs_member_queued ON jobs (guild_id, user_id, id) WHERE state = 'queued';
DROP INDEX jobs_queued_member;

-- Fewer indexes on jobs, each one less entry written by every claim and finish (a change of state
-- writes a new entry in every index whose rows it is in). Queued and running jobs are found through
-- one small partial index instead of an index over every job's state; and with the lease no longer
-- indexed, a heartbeat's lease and progress writes stay in the row's page (HOT) and touch no index.
-- The running jobs whose lease ran out are read through jobs_worker_running (V10): a few rows.
CREATE INDEX jobs_active ON jobs (id) WHERE state IN ('queued', 'running');
DROP INDEX jobs_queue;
DROP INDEX jobs_lease;

-- The guild's row first, then the member's: the order claims lock them in (no deadlocks). The oldest
-- job is looked up only once the member's row is locked, in a statement of its own, so it sees what a
-- transaction that held that row committed (READ COMMITTED takes a snapshot per statement).
CREATE FUNCTION videobot_count_queued() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    job jobs;
    head BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        job := OLD;
    ELSE
        job := NEW;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.state = 'queued' THEN
        UPDATE fair_guilds SET queued = queued - 1, waiting = queued > 1 WHERE guild_id = OLD.guild_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.state = 'queued' THEN
        UPDATE fair_guilds SET queued = queued + 1, waiting = true WHERE guild_id = NEW.guild_id;
    END IF;
    PERFORM 1 FROM fair_users WHERE guild_id = job.guild_id AND user_id = job.user_id FOR UPDATE;
    SELECT min(q.id) INTO head FROM jobs q
    WHERE q.guild_id = job.guild_id AND q.user_id = job.user_id AND q.state = 'queued';
    UPDATE fair_users SET head_id = head, waiting = head IS NOT NULL
    WHERE guild_id = job.guild_id AND user_id = job.user_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_count_queued_insert AFTER INSERT ON jobs
FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION videobot_count_queued();
CREATE TRIGGER jobs_count_queued_update AFTER UPDATE OF state ON jobs
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND (OLD.state = 'queued' OR NEW.state = 'queued'))
EXECUTE FUNCTION videobot_count_queued();
CREATE TRIGGER jobs_count_queued_delete AFTER DELETE ON jobs
FOR EACH ROW WHEN (OLD.state = 'queued') EXECUTE FUNCTION videobot_count_queued();

-- Same arguments and answers as V10's function (see there); only the pick changed.
CREATE OR REPLACE FUNCTION videobot_claim(
    p_worker_id TEXT,
    p_models TEXT[],
    p_lease_expires_at DOUBLE PRECISION,
    p_now DOUBLE PRECISION,
    p_default_max_running INTEGER,
    p_check_expired BOOLEAN
) RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
    clock_vtime DOUBLE PRECISION;
    g RECORD;
    u RECORD;
    cap INTEGER;
    head BIGINT;
    locked_out BIGINT[] := '{}';  -- picks a cancel or vote held locked: walk again without them
    -- the pick so far, and the best member of the guild being walked
    best_id BIGINT;
    best_guild BIGINT;
    best_user BIGINT;
    best_gfinish DOUBLE PRECISION;
    best_gvtime DOUBLE PRECISION;
    best_ufinish DOUBLE PRECISION;
    g_id BIGINT;
    g_user BIGINT;
    g_ufinish DOUBLE PRECISION;
    cost DOUBLE PRECISION;
    wt DOUBLE PRECISION;
    guild_finish DOUBLE PRECISION;
    guild_vtime DOUBLE PRECISION;
    user_finish DOUBLE PRECISION;
    guild_start DOUBLE PRECISION;
    user_start DOUBLE PRECISION;
BEGIN
    -- the clock row first, then job, guild and member rows: one lock order, no deadlocks
    SELECT vtime INTO clock_vtime FROM fair_clock WHERE id = 1 FOR UPDATE;
    UPDATE jobs SET lease_expires_at = p_lease_expires_at
    WHERE worker_id = p_worker_id AND state = 'running' AND lease_expires_at < p_lease_expires_at;
    IF p_check_expired AND EXISTS (
        SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at < p_now
    ) THEN
        RETURN NEXT NULL::jobs;
        RETURN;
    END IF;
    LOOP
        best_id := NULL;
        FOR g IN
            SELECT f.guild_id, f.finish_tag, f.vtime FROM fair_guilds f
            WHERE f.waiting ORDER BY f.finish_tag, f.guild_id
        LOOP
            -- a larger guild tag never wins: the guilds tied with the pick's have been walked
            EXIT WHEN best_id IS NOT NULL AND g.finish_tag > best_gfinish;
            SELECT s.max_running INTO cap FROM guild_settings s WHERE s.guild_id = g.guild_id;
            cap := coalesce(cap, p_default_max_running);
            g_id := NULL;
            FOR u IN
                SELECT m.user_id, m.finish_tag, m.head_id FROM fair_users m
                WHERE m.guild_id = g.guild_id AND m.waiting
                ORDER BY m.finish_tag, m.head_id
            LOOP
                -- a larger tag, or the same tag with a later oldest job, never wins
                EXIT WHEN g_id IS NOT NULL AND (u.finish_tag > g_ufinish OR u.head_id >= g_id);
                head := u.head_id;
                IF head = ANY(locked_out) OR NOT EXISTS (
                    SELECT 1 FROM jobs q WHERE q.id = head AND q.model = ANY(p_models)
                ) THEN
                    -- the oldest job is of a model this worker does not serve: its oldest that is
                    SELECT q.id INTO head FROM jobs q
                    WHERE q.guild_id = g.guild_id AND q.user_id = u.user_id AND q.state = 'queued'
                      AND q.model = ANY(p_models) AND q.id <> ALL(locked_out)
                    ORDER BY q.id LIMIT 1;
                    CONTINUE WHEN NOT FOUND;
                END IF;
                -- expired leases do not cap
                CONTINUE WHEN (SELECT count(*) FROM jobs r
                               WHERE r.guild_id = g.guild_id AND r.user_id = u.user_id
                                 AND r.state = 'running' AND r.lease_expires_at >= p_now) >= cap;
                IF g_id IS NULL OR head < g_id THEN  -- members tied on the tag: the older job
                    g_id := head;
                    g_user := u.user_id;
                    g_ufinish := u.finish_tag;
                END IF;
            END LOOP;
            CONTINUE WHEN g_id IS NULL;
            IF best_id IS NULL OR (greatest(g.vtime, g_ufinish), g_ufinish, g_id)
                                  < (greatest(best_gvtime, best_ufinish), best_ufinish, best_id) THEN
                best_id := g_id;
                best_guild := g.guild_id;
                best_user := g_user;
                best_gfinish := g.finish_tag;
                best_gvtime := g.vtime;
                best_ufinish := g_ufinish;
            END IF;
        END LOOP;
        IF best_id IS NULL THEN
            RETURN;
        END IF;
        SELECT j.cost_estimate_s, j.weight INTO cost, wt FROM jobs j
        WHERE j.id = best_id AND j.state = 'queued'
        FOR UPDATE SKIP LOCKED;
        EXIT WHEN FOUND;
        locked_out := locked_out || best_id;
    END LOOP;
    -- the tags again, locked: a finish may have corrected them since the walk read them, and the
    -- charge below must not overwrite that correction
    SELECT finish_tag, vtime INTO guild_finish, guild_vtime FROM fair_guilds
    WHERE guild_id = best_guild FOR UPDATE;
    SELECT finish_tag INTO user_finish FROM fair_users
    WHERE guild_id = best_guild AND user_id = best_user FOR UPDATE;
    -- fairness.charge
    guild_start := greatest(clock_vtime, guild_finish);
    user_start := greatest(guild_vtime, user_finish);
    UPDATE fair_clock SET vtime = guild_start WHERE id = 1;
    UPDATE fair_guilds SET finish_tag = guild_start + cost, vtime = user_start WHERE guild_id = best_guild;
    UPDATE fair_users SET finish_tag = user_start + cost / wt
    WHERE guild_id = best_guild AND user_id = best_user;
    PERFORM pg_notify('videobot_events', best_id::text);
    RETURN QUERY
    UPDATE jobs
    SET state = 'running', worker_id = p_worker_id, lease_expires_at = p_lease_expires_at,
        started_at = p_now, charged_s = cost_estimate_s, step = 0, total_steps = 0,
        progress_at = NULL, rendered_at = NULL
    WHERE id = best_id AND state = 'queued'
    RETURNING *;
END;
$$;
