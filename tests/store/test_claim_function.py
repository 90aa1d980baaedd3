"""Claims take jobs in exactly the order of db/fairness.py's reference scheduler, on both backends:
PostgreSQL's one-call claim function and SQLite's claim transaction, both of which walk guilds and
members in tag order (migration V12) instead of sorting the queue. Random job mixes over two guilds,
several members and weights, with jobs arriving and ending (their real GPU time correcting the
charge) between claims; and mixes with two models, workers serving one or both, a running cap,
cancels, dead workers' jobs coming back, and equal real GPU times that tie members on their tags."""

from __future__ import annotations

import random

import pytest

from db.fairness import FairState, QueuedJob, charge, correct, pick_next
from db.store import Store
from tests.store.conftest import FakeClock
from tests.store.helpers import MODEL, OTHER_MODEL, generous_caps, result, submit

GUILDS = (100, 101)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_claims_follow_the_reference_fair_order(store: Store, clock: FakeClock, seed: int) -> None:
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
            got = await store.jobs.claim_next(worker, [MODEL], 10_000)
            assert got is not None and got.id == expected.id
            claimed += 1
            charge(state, expected)
            del queued[expected.id]
            running.append((expected, worker))
        elif running:
            ended, worker = running.pop(rng.randrange(len(running)))
            actual = ended.cost * rng.choice([0.5, 1.0, 1.7])
            assert await store.jobs.finish(ended.id, worker, result(actual))
            correct(state, ended, actual)
        clock.advance(1.0)
    while queued:  # and the backlog drains in the reference order too
        expected = pick_next(queued.values(), state)
        assert expected is not None
        got = await store.jobs.claim_next("w-drain", [MODEL], 10_000)
        assert got is not None and got.id == expected.id
        charge(state, expected)
        del queued[expected.id]
    assert await store.jobs.claim_next("w-drain", [MODEL], 10_000) is None


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
async def test_claims_follow_the_reference_with_models_caps_cancels_and_ties(
    store: Store, clock: FakeClock, seed: int
) -> None:
    rng = random.Random(seed)
    cap = 2
    for guild in GUILDS:
        await store.settings.update_settings(
            guild, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=cap
        )
    workers = {"w-ltx": {MODEL}, "w-wan": {OTHER_MODEL}, "w-both": {MODEL, OTHER_MODEL}}
    state = FairState()
    queued: dict[int, tuple[QueuedJob, str]] = {}  # id → (job, model)
    running: dict[int, tuple[QueuedJob, str, str]] = {}  # id → (job, model, worker)

    def expected_for(served: set[str]) -> QueuedJob | None:
        busy: dict[tuple[int, int], int] = {}
        for job, _, _ in running.values():
            busy[(job.guild_id, job.user_id)] = busy.get((job.guild_id, job.user_id), 0) + 1
        eligible = [
            job
            for job, model in queued.values()
            if model in served and busy.get((job.guild_id, job.user_id), 0) < cap
        ]
        return pick_next(eligible, state)

    for _ in range(160):
        action = rng.random()
        if action < 0.4 or not (queued or running):
            guild, user = rng.choice(GUILDS), rng.randint(1, 6)
            model = rng.choice([MODEL, MODEL, OTHER_MODEL])
            cost, weight = float(rng.choice([20, 30, 45])), rng.choice([1.0, 1.0, 2.0])
            job = await submit(store, user, cost, guild_id=guild, weight=weight, model=model)
            queued[job.id] = (QueuedJob(job.id, guild, user, cost, weight), model)
        elif action < 0.7:
            worker = rng.choice(list(workers))
            expected = expected_for(workers[worker])
            got = await store.jobs.claim_next(worker, sorted(workers[worker]), 10_000)
            assert (got.id if got else None) == (expected.id if expected else None)
            if expected is not None:
                charge(state, expected)
                model = queued.pop(expected.id)[1]
                running[expected.id] = (expected, model, worker)
        elif action < 0.85 and running:
            job_id = rng.choice(sorted(running))
            ended, _, worker = running.pop(job_id)
            actual = 30.0 if rng.random() < 0.7 else ended.cost * 1.5  # equal times tie members
            assert await store.jobs.finish(job_id, worker, result(actual))
            correct(state, ended, actual)
        elif action < 0.93 and queued:
            job_id = rng.choice(sorted(queued))
            assert await store.jobs.cancel(job_id, None)
            del queued[job_id]
        elif running:
            # a worker dies: its jobs go back to the queue, their charge refunded
            worker = rng.choice(sorted({w for _, _, w in running.values()}))
            back = await store.jobs.release_dead_worker(worker)
            assert sorted(back) == sorted(i for i, (_, _, w) in running.items() if w == worker)
            for job_id in back:
                released, model, _ = running.pop(job_id)
                again = await store.jobs.get(job_id)
                assert again is not None
                if again.state == "queued":  # refunded; a third death mid-render fails it, charged
                    correct(state, released, 0.0)
                    queued[job_id] = (released, model)
        clock.advance(1.0)
