-- Claims, SQLite flavour: no function (the IMMEDIATE transaction already serialises claims), but the
-- claimer's own running jobs are found by index rather than by scanning every running job.
-- (PostgreSQL's V10 also adds the one-call claim function.)

CREATE INDEX jobs_worker_running ON jobs (worker_id) WHERE state = 'running';
