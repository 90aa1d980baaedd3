-- The workers' registry (db/store/workers.py). Parameters are written :name, as in jobs.sql.

-- name: upsert_worker
-- Register a GPU worker (or re-register it after a restart).
INSERT INTO workers (worker_id, host, gpu, models, started_at, last_seen, state, note, pid, pid_space)
VALUES (:worker_id, :host, :gpu, :models, :now, :now, :state, :note, :pid, :pid_space)
ON CONFLICT (worker_id) DO UPDATE
SET host = excluded.host, gpu = excluded.gpu, models = excluded.models,
    started_at = excluded.started_at, last_seen = excluded.last_seen, state = excluded.state,
    note = excluded.note, pid = excluded.pid, pid_space = excluded.pid_space;

-- name: set_worker_state
-- A worker says it is starting, serving or paused (and why), which also counts as a sign of life.
UPDATE workers SET state = :state, note = :note, last_seen = :now WHERE worker_id = :worker_id;

-- name: worker_heartbeat
-- A worker says it is alive.
UPDATE workers SET last_seen = :now WHERE worker_id = :worker_id;

-- name: delete_worker
-- A worker leaves the registry when it shuts down.
DELETE FROM workers WHERE worker_id = :worker_id;

-- name: workers_on_host
-- Every registered worker of one host (a starting worker looks for predecessors that died).
SELECT * FROM workers WHERE host = :host ORDER BY worker_id;

-- name: prune_workers
-- Forget workers not seen for a long time (their host went away without a word).
DELETE FROM workers WHERE last_seen < :since;

-- name: live_workers
-- Workers seen recently.
SELECT * FROM workers WHERE last_seen >= :since ORDER BY worker_id;
