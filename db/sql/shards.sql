-- A sharded bot (db/store/shards.py): each process walks only the jobs of its own guilds, whose shard
-- is (guild_id >> 22) % shard_count, written as a division (:shard_unit = 2^22; guild ids are
-- positive). And the bot's own key/value state (the digest of the synced command tree). Parameters
-- are written :name.

-- name: unposted_jobs_in_shards
-- Ended jobs of the shards' guilds whose channel message has not been posted yet, oldest first, after
-- (:after_at, :after_id): the bot pages on past jobs it is waiting to try again.
SELECT * FROM jobs
WHERE posted_at IS NULL AND state IN ('done', 'failed', 'cancelled')
  AND (guild_id / :shard_unit) % :shard_count BETWEEN :shard_first AND :shard_last
  AND (COALESCE(finished_at, 0) > :after_at OR (COALESCE(finished_at, 0) = :after_at AND id > :after_id))
ORDER BY COALESCE(finished_at, 0), id
LIMIT :limit;

-- name: active_jobs_in_shards
-- Queued and running jobs of the shards' guilds, oldest first (their status messages need editing).
SELECT * FROM jobs
WHERE state IN ('queued', 'running')
  AND (guild_id / :shard_unit) % :shard_count BETWEEN :shard_first AND :shard_last
ORDER BY id
LIMIT :limit;

-- name: claim_bot_state
-- Set a key; a row comes back only to the caller that changed it (missing, or another value).
INSERT INTO bot_state (key, value, updated_at) VALUES (:key, :value, :now)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
WHERE bot_state.value <> excluded.value
RETURNING key;

-- name: put_bot_state
-- Set a key whatever it held.
INSERT INTO bot_state (key, value, updated_at) VALUES (:key, :value, :now)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

-- name: release_bot_state
-- Forget a key if it still holds this value.
DELETE FROM bot_state WHERE key = :key AND value = :value;

-- name: get_bot_state
-- A key's value.
SELECT value FROM bot_state WHERE key = :key;
