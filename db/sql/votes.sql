-- Votes on clips and the ranking they make (db/store/votes.py). Parameters are written :name, as in jobs.sql.

-- name: upsert_vote
-- Record or change a member's vote on a clip.
INSERT INTO votes (job_id, user_id, value, voted_at) VALUES (:job_id, :user_id, :value, :now)
ON CONFLICT (job_id, user_id) DO UPDATE SET value = excluded.value, voted_at = excluded.voted_at;

-- name: get_vote
-- A member's vote on a clip, if any.
SELECT value FROM votes WHERE job_id = :job_id AND user_id = :user_id;

-- name: delete_vote
-- Withdraw a member's vote on a clip.
DELETE FROM votes WHERE job_id = :job_id AND user_id = :user_id;

-- name: vote_counts
-- Up and down votes on a clip.
SELECT coalesce(sum(CASE WHEN value > 0 THEN 1 ELSE 0 END), 0) AS up,
       coalesce(sum(CASE WHEN value < 0 THEN 1 ELSE 0 END), 0) AS down
FROM votes WHERE job_id = :job_id;

-- name: top_clips
-- A guild's best-voted clips finished since a moment (age-restricted ones only with :age_restricted).
SELECT j.*, v.up AS vote_up, v.down AS vote_down FROM jobs j
JOIN (SELECT job_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up,
             sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down
      FROM votes GROUP BY job_id) v ON v.job_id = j.id
WHERE j.guild_id = :guild_id AND j.state = 'done' AND j.deleted_at IS NULL AND j.finished_at >= :since
  AND (:age_restricted OR NOT j.age_restricted)
ORDER BY v.up - v.down DESC, v.up DESC, j.id
LIMIT :limit;
