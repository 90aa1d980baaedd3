-- A story's film is posted for sure: `/story finish` (or the closing scene) moves the story to phase
-- 'posting' with the clip its film is made from (film_job_id) and the upload limit it is fitted to
-- (film_limit); each part Discord took is counted (film_parts_sent, the parts are sent in order), so a
-- retry sends only the rest; a failed upload is tried again from film_next_at on, with back-off
-- (film_tries), also by a bot that restarted meanwhile. Only once every part is sent is the story
-- 'finished'. film_next_at is also the lease of the process that is posting it. The phase check is
-- widened as in V19 (writable_schema; the ADD COLUMNs below change the schema cookie, so every other
-- connection reloads it).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''closing'', ''finished''))', '''closing'', ''posting'', ''finished''))')
WHERE type = 'table' AND name = 'stories';
PRAGMA writable_schema = RESET;
ALTER TABLE stories ADD COLUMN film_job_id INTEGER;
ALTER TABLE stories ADD COLUMN film_limit INTEGER;
ALTER TABLE stories ADD COLUMN film_parts_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN film_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN film_next_at REAL;
