"""The store's part for a sharded bot (db/store/shards.py), on both backends: each bot process sees
the ended and active jobs of its own shards' guilds only, and a claim of the bot's state is won by
one caller."""

from __future__ import annotations

import asyncio

from db.store import Store, open_store
from db.store.shards import ShardRange, shard_of
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, MODEL, generous_caps, result, spec

# real-sized snowflakes (a 2023 timestamp), one even and one odd millisecond: shards 0 and 1 of 2
EVEN = (1_100_000_000_000 << 22) | 12345
ODD = ((1_100_000_000_000 + 1) << 22) | 12345


async def ended(store: Store, guild_id: int, worker: str) -> int:
    await generous_caps(store, guild_id)
    job = await store.jobs.enqueue(guild_id, CHANNEL, 1, spec(), 30.0)
    claimed = await store.jobs.claim_next(worker, [MODEL], 60)
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, worker, result())
    return job.id


async def test_each_shard_walks_only_its_own_guilds_jobs(store: Store, clock: FakeClock) -> None:
    assert (shard_of(EVEN, 2), shard_of(ODD, 2)) == (0, 1)
    first, second = ShardRange(0, 0, 2), ShardRange(1, 1, 2)
    # shard 1's backlog is older and longer than a page: shard 0 still finds its own clip
    backlog = [await ended(store, ODD, f"w{i}") for i in range(3)]
    clock.advance(5)
    mine = await ended(store, EVEN, "w9")
    assert [j.id for j in await store.shards.unposted_in(first, limit=2)] == [mine]
    assert [j.id for j in await store.shards.unposted_in(second, limit=2)] == backlog[:2]
    assert [j.id for j in await store.shards.unposted_in(None, limit=10)] == [*backlog, mine]
    assert [j.id for j in await store.shards.unposted_in(ShardRange(0, 1, 2), limit=10)] == [*backlog, mine]

    queued_odd = await store.jobs.enqueue(ODD, CHANNEL, 2, spec(), 30.0)
    queued_even = await store.jobs.enqueue(EVEN, CHANNEL, 2, spec(), 30.0)
    assert [j.id for j in await store.shards.active_jobs_in(first)] == [queued_even.id]
    assert [j.id for j in await store.shards.active_jobs_in(second)] == [queued_odd.id]
    assert [j.id for j in await store.shards.active_jobs_in(None)] == [queued_odd.id, queued_even.id]


async def test_the_bot_state_claim_goes_to_the_caller_that_changed_it(store: Store) -> None:
    assert await store.shards.bot_state("commands:1") is None
    assert await store.shards.claim_bot_state("commands:1", "tree-a")
    assert not await store.shards.claim_bot_state("commands:1", "tree-a")  # a restart: synced already
    assert await store.shards.claim_bot_state("commands:2", "tree-a")  # another application's key
    assert await store.shards.claim_bot_state("commands:1", "tree-b")  # the tree changed
    assert await store.shards.bot_state("commands:1") == "tree-b"
    assert not await store.shards.release_bot_state("commands:1", "tree-a")  # not what it holds
    assert await store.shards.release_bot_state("commands:1", "tree-b")  # the sync failed: let it go
    assert await store.shards.claim_bot_state("commands:1", "tree-b")
    await store.shards.put_bot_state("commands:1", "tree-c")
    assert await store.shards.bot_state("commands:1") == "tree-c"


async def test_processes_claiming_at_once_have_one_winner(store_url: str, clock: FakeClock) -> None:
    stores = [await open_store(store_url, clock=clock) for _ in range(4)]
    try:
        for digest in ("tree-a", "tree-b"):
            won = await asyncio.gather(*(s.shards.claim_bot_state("commands:7", digest) for s in stores))
            assert sorted(won) == [False, False, False, True]
    finally:
        for s in stores:
            await s.close()
