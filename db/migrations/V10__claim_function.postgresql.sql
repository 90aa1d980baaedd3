-- Claims in one round trip: the whole claim (renew the claimer's own leases, pick the job by fair
-- tags, charge clock, guild and member, mark it claimed, wake the bot) is one function call, so the
-- clock row is locked for the microseconds the function runs, not across several round trips.
-- It orders and charges exactly as db/fairness.py's pick_next and charge do.

CREATE INDEX jobs_worker_running ON jobs (worker_id) WHERE state = 'running';
CREATE INDEX jobs_queued_member ON jobs (model, guild_id, user_id, id) WHERE state = 'queued';

-- p_check_expired: when a running job's lease has run out (and the claimer's own are renewed), the
-- function claims nothing and returns one row of NULLs: the caller requeues those jobs (its rules
-- for attempts live in one place, db/store/jobstore.py) and calls again with p_check_expired false.
CREATE FUNCTION videobot_claim(
    p_worker_id TEXT,
    p_models TEXT[],
    p_lease_expires_at DOUBLE PRECISION,
    p_now DOUBLE PRECISION,
    p_default_max_running INTEGER,
    p_check_expired BOOLEAN
) RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
    clock_vtime DOUBLE PRECISION;
    pick RECORD;
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
    -- each member's oldest queued job stands for the member (the order key ends in the job id, and
    -- a member's jobs share its tags): the sort is over members, not over the whole queue
    SELECT m.id, m.guild_id, m.user_id, 0.0::DOUBLE PRECISION AS cost_estimate_s,
           1.0::DOUBLE PRECISION AS weight, g.finish_tag AS guild_finish, g.vtime AS guild_vtime,
           u.finish_tag AS user_finish
    INTO pick
    FROM (SELECT c.guild_id, c.user_id, min(c.id) AS id
          FROM unnest(p_models) AS wanted(model)
          CROSS JOIN LATERAL (
              -- the members with queued jobs of that model, one index probe each (a loose index scan)
              WITH RECURSIVE members AS (
                  (SELECT q.guild_id, q.user_id, q.id FROM jobs q
                   WHERE q.state = 'queued' AND q.model = wanted.model
                   ORDER BY q.guild_id, q.user_id, q.id LIMIT 1)
                  UNION ALL
                  SELECT nx.guild_id, nx.user_id, nx.id FROM members p
                  CROSS JOIN LATERAL (
                      SELECT q.guild_id, q.user_id, q.id FROM jobs q
                      WHERE q.state = 'queued' AND q.model = wanted.model
                        AND (q.guild_id, q.user_id) > (p.guild_id, p.user_id)
                      ORDER BY q.guild_id, q.user_id, q.id LIMIT 1
                  ) nx
              )
              SELECT members.guild_id, members.user_id, members.id FROM members
          ) c
          GROUP BY c.guild_id, c.user_id) m
    JOIN fair_guilds g ON g.guild_id = m.guild_id
    JOIN fair_users u ON u.guild_id = m.guild_id AND u.user_id = m.user_id
    LEFT JOIN guild_settings s ON s.guild_id = m.guild_id
    LEFT JOIN (SELECT r.guild_id, r.user_id, count(*) AS n FROM jobs r
               WHERE r.state = 'running' AND r.lease_expires_at >= p_now
               GROUP BY r.guild_id, r.user_id) r ON r.guild_id = m.guild_id AND r.user_id = m.user_id
    WHERE coalesce(r.n, 0) < coalesce(s.max_running, p_default_max_running)
    ORDER BY greatest(clock_vtime, g.finish_tag), g.finish_tag, greatest(g.vtime, u.finish_tag),
             u.finish_tag, m.id
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT j.cost_estimate_s, j.weight INTO pick.cost_estimate_s, pick.weight FROM jobs j
    WHERE j.id = pick.id AND j.state = 'queued'
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- that job is locked (a cancel or a vote holds it for a moment): the whole queue, skipping it
        SELECT j.id, j.guild_id, j.user_id, j.cost_estimate_s, j.weight,
               g.finish_tag AS guild_finish, g.vtime AS guild_vtime, u.finish_tag AS user_finish
        INTO pick
        FROM jobs j
        JOIN fair_guilds g ON g.guild_id = j.guild_id
        JOIN fair_users u ON u.guild_id = j.guild_id AND u.user_id = j.user_id
        LEFT JOIN guild_settings s ON s.guild_id = j.guild_id
        LEFT JOIN (SELECT r.guild_id, r.user_id, count(*) AS n FROM jobs r
                   WHERE r.state = 'running' AND r.lease_expires_at >= p_now
                   GROUP BY r.guild_id, r.user_id) r ON r.guild_id = j.guild_id AND r.user_id = j.user_id
        WHERE j.state = 'queued' AND j.model = ANY(p_models)
          AND coalesce(r.n, 0) < coalesce(s.max_running, p_default_max_running)
        ORDER BY greatest(clock_vtime, g.finish_tag), g.finish_tag, greatest(g.vtime, u.finish_tag),
                 u.finish_tag, j.id
        LIMIT 1
        FOR UPDATE OF j SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    -- the tags again, locked: a finish may have corrected them since the pick read them, and the
    -- charge below must not overwrite that correction
    SELECT finish_tag, vtime INTO pick.guild_finish, pick.guild_vtime FROM fair_guilds
    WHERE guild_id = pick.guild_id FOR UPDATE;
    SELECT finish_tag INTO pick.user_finish FROM fair_users
    WHERE guild_id = pick.guild_id AND user_id = pick.user_id FOR UPDATE;
    -- fairness.charge
    guild_start := greatest(clock_vtime, pick.guild_finish);
    user_start := greatest(pick.guild_vtime, pick.user_finish);
    UPDATE fair_clock SET vtime = guild_start WHERE id = 1;
    UPDATE fair_guilds SET finish_tag = guild_start + pick.cost_estimate_s, vtime = user_start
    WHERE guild_id = pick.guild_id;
    UPDATE fair_users SET finish_tag = user_start + pick.cost_estimate_s / pick.weight
    WHERE guild_id = pick.guild_id AND user_id = pick.user_id;
    PERFORM pg_notify('videobot_events', pick.id::text);
    RETURN QUERY
    UPDATE jobs
    SET state = 'running', worker_id = p_worker_id, lease_expires_at = p_lease_expires_at,
        started_at = p_now, charged_s = cost_estimate_s, step = 0, total_steps = 0,
        progress_at = NULL, rendered_at = NULL
    WHERE id = pick.id AND state = 'queued'
    RETURNING *;
END;
$$;
