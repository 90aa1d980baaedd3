-- HD: a job of kind 'hd' finishes a draft (its parent) at full size, by upsampling and refining it. A
-- clip has at most one HD version that is queued, running or done and not deleted (a second request
-- shows that one); a failed or cancelled one, or one its member deleted, may be asked for again.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('new', 'reroll', 'remix', 'extend', 'hd'));
CREATE UNIQUE INDEX jobs_one_hd ON jobs (parent_id)
    WHERE kind = 'hd' AND state IN ('queued', 'running', 'done') AND deleted_at IS NULL;
