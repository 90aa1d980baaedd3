-- HD: a job of kind 'hd' finishes a draft (its parent) at full size, by upsampling and refining it. A
-- clip has at most one HD version that is queued, running or done and not deleted (a second request
-- shows that one); a failed or cancelled one, or one its member deleted, may be asked for again.
--
-- SQLite cannot change a CHECK constraint with ALTER TABLE. Widening it (every stored row still
-- satisfies it) is the change SQLite's documentation allows through writable_schema: the table's text
-- is edited in place, nothing on disk changes shape, and RESET reloads the schema on this connection
-- (the index created below changes the schema cookie, so every other connection reloads it too).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''remix'', ''extend''))', '''remix'', ''extend'', ''hd''))')
WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = RESET;
CREATE UNIQUE INDEX jobs_one_hd ON jobs (parent_id)
    WHERE kind = 'hd' AND state IN ('queued', 'running', 'done') AND deleted_at IS NULL;
