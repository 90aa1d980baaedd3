-- Story keyframes (issue 19): a proposal may end on a picture its author attached (end_image_ref, a
-- reference into the media store like a job spec's; NULL: the scene ends where the model takes it),
-- and a finished story may close into a loop: phase 'closing' waits for its closing scene
-- (closing_job_id, an extend of the last scene ending on the first scene's first frame), then the film
-- is posted. The phase check is widened as in V15 (writable_schema; the ADD COLUMNs below change the
-- schema cookie, so every other connection reloads it).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''queuing'', ''finished''))', '''queuing'', ''closing'', ''finished''))')
WHERE type = 'table' AND name = 'stories';
PRAGMA writable_schema = RESET;
ALTER TABLE story_proposals ADD COLUMN end_image_ref TEXT;
ALTER TABLE stories ADD COLUMN closing_job_id INTEGER;
