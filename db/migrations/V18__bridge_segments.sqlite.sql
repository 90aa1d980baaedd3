-- Bridges: a job of kind 'bridge' joins two clips, its parent (the one it starts on) and the clip its
-- spec's ``bridges_to`` names (the one it ends on); the whole is posted as first + bridge + second. The
-- kind check is widened as in V15.
--
-- Segments: where a clip's frames were first encoded, as JSON [[job id, first frame, frame count], ...]
-- in the clip's order; NULL for a clip whose frames are all its own first encode. A join (extend,
-- bridge) that must encode its parents again decodes them from there, never from a re-encoded copy.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''hd'', ''loop''))', '''hd'', ''loop'', ''bridge''))')
WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = RESET;
ALTER TABLE jobs ADD COLUMN segments TEXT;
