-- Loop: a job of kind 'loop' makes a looping version of a clip (its parent): it starts on the clip's first
-- frame and ends on it again. The kind check is widened as in V15 (writable_schema; RESET reloads the
-- schema here, and the index below changes the schema cookie so every other connection reloads it).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''extend'', ''hd''))', '''extend'', ''hd'', ''loop''))')
WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = RESET;
CREATE INDEX jobs_kind ON jobs (kind, parent_id);
