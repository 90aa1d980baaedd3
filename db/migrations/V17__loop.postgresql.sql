-- Loop: a job of kind 'loop' makes a looping version of a clip (its parent): it starts on the clip's first
-- frame and ends on it again.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('new', 'reroll', 'remix', 'extend', 'hd', 'loop'));
CREATE INDEX jobs_kind ON jobs (kind, parent_id);
