"""Claims take jobs in exactly the order of db/fairness.py's reference scheduler, on both backends:
PostgreSQL's one-call claim function (migration V10) and SQLite's claim transaction. Random job mixes
over two guilds, several members and weights, with jobs arriving and ending (their real GPU time
correcting the charge) between claims."""

from __future__ import annotations

import random

import pytest

from db.fairness import FairState, QueuedJob, charge, correct, pick_next
from db.store import JobStore
from tests.store.conftest import FakeClock
from tests.store.helpers import MODEL, generous_caps, result, submit

GUILDS = (100, 101)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_claims_follow_the_reference_fair_order(store: JobStore, clock: FakeClock, seed: int) -> None:
    rng = random.Random(seed)
    for guild in GUILDS:
        await generous_caps(store, guild)
    state = FairState()
    queued: dict[int, QueuedJob] = {}
    running: list[tuple[QueuedJob, str]] = []
    claimed = 0
    for _ in range(120):
        action = rng.random()
        if action < 0.5 or not queued:
            guild, user = rng.choice(GUILDS), rng.randint(1, 5)
            cost, weight = float(rng.choice([10, 20, 35.5, 60, 120])), rng.choice([1.0, 1.0, 2.0, 0.5])
            job = await submit(store, user, cost, guild_id=guild, weight=weight)
            queued[job.id] = QueuedJob(job.id, guild, user, cost, weight)
        elif action < 0.8:
            expected = pick_next(queued.values(), state)
            assert expected is not None
            worker = f"w{claimed % 3}"
            got = await store.claim_next(worker, [MODEL], 10_000)
            assert got is not None and got.id == expected.id
            claimed += 1
            charge(state, expected)
            del queued[expected.id]
            running.append((expected, worker))
        elif running:
            ended, worker = running.pop(rng.randrange(len(running)))
            actual = ended.cost * rng.choice([0.5, 1.0, 1.7])
            assert await store.finish(ended.id, worker, result(actual))
            correct(state, ended, actual)
        clock.advance(1.0)
    while queued:  # and the backlog drains in the reference order too
        expected = pick_next(queued.values(), state)
        assert expected is not None
        got = await store.claim_next("w-drain", [MODEL], 10_000)
        assert got is not None and got.id == expected.id
        charge(state, expected)
        del queued[expected.id]
    assert await store.claim_next("w-drain", [MODEL], 10_000) is None
