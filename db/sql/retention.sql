-- Media retention (db/store/retention.py): a posted clip's video and poster, and the members'
-- pictures, are removed a set time after posting. Parameters are written :name.

-- name: retention_prunable_clips
-- Posted clips whose files are still kept, posted before the cutoff (or, failed, settled before it: a
-- clip its channel never got, db.store.jobs.fail_delivery), that nothing still needs: no clip
-- made from them that is not posted yet (an extend, HD version or bridge reads their frames; the bot
-- signs it, a remix and a loop too, with their signed file as an ingredient: db.credentials), neither
-- end of such a bridge (the second clip is named in its spec), and no unfinished story may still
-- continue or film them.
SELECT j.id FROM jobs j
WHERE j.state IN ('done', 'failed') AND j.media_ref IS NOT NULL AND j.posted_at IS NOT NULL
  AND j.posted_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM jobs c
                  WHERE c.parent_id = j.id AND c.posted_at IS NULL
                    AND c.kind IN ('extend', 'hd', 'bridge', 'remix', 'loop'))
  AND NOT EXISTS (SELECT 1 FROM jobs b
                  WHERE b.kind = 'bridge' AND b.posted_at IS NULL
                    AND (b.spec LIKE '%"bridges_to": ' || j.id || ',%'
                         OR b.spec LIKE '%"bridges_to": ' || j.id || '}%'))
  AND NOT EXISTS (SELECT 1 FROM story_scenes s JOIN stories st ON st.id = s.story_id
                  WHERE s.job_id = j.id AND st.phase <> 'finished')
ORDER BY j.id
LIMIT :limit;

-- name: retention_mark_pruned
-- A clip's files are gone: its row and message stay, media_ref NULL says the store keeps no file.
UPDATE jobs SET media_ref = NULL WHERE id = :id AND state IN ('done', 'failed') AND media_ref IS NOT NULL;

-- name: retention_pictures_in_use
-- The specs naming a picture (a first or a last frame) of the jobs that may still need it: not posted yet
-- (queued, running, ended but not told) or posted since the cutoff.
SELECT spec FROM jobs
WHERE (spec LIKE '%"image_ref": "%' OR spec LIKE '%"end_image_ref": "%')
  AND (posted_at IS NULL OR posted_at >= :cutoff);

-- name: retention_story_pictures_in_use
-- The pictures that proposals of unfinished stories end on: a proposal may still win its round (or win
-- it again when its scene failed), and its scene is then rendered from the picture.
SELECT p.end_image_ref AS ref FROM story_proposals p JOIN stories s ON s.id = p.story_id
WHERE p.end_image_ref IS NOT NULL AND s.phase <> 'finished';

-- name: retention_old_pictures
-- Pictures stored in the database (PostgreSQL) and not stored again since the cutoff.
SELECT ref FROM inputs WHERE created_at < :cutoff ORDER BY ref;

-- name: retention_delete_picture
-- Remove a picture unless it was stored again since the cutoff (a member is sending it once more).
DELETE FROM inputs WHERE ref = :ref AND created_at < :cutoff;

-- name: retention_delete_clip_media
-- PostgreSQL: the mp4s and posters of a batch of clips, in the transaction that marks them.
DELETE FROM media WHERE job_id = ANY(:ids);
