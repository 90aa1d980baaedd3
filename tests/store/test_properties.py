"""Random interleavings of everything the bot and the workers do, on both backends (hypothesis).

Checked after every step: a job is never leased to two workers at once (a claim never returns a job
whose lease is still live, and only the latest claimer's heartbeat or finish is accepted); a job ends
once; a job is posted once. At the end, draining the queue loses nothing: every job ends and is
posted exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.store import Store, open_store
from tests.store.conftest import BACKENDS, FakeClock, UrlFactory, need_backend
from tests.store.helpers import MODEL, generous_caps, result, submit

LEASE_S = 30.0
WORKERS = ("w0", "w1")

# few workers, members and clock steps, so that leases expire and jobs change hands often
operation = st.one_of(
    st.tuples(st.just("enqueue"), st.integers(1, 2)),
    st.tuples(st.just("claim"), st.sampled_from(WORKERS)),
    st.tuples(st.just("claim"), st.sampled_from(WORKERS)),
    st.tuples(st.just("heartbeat"), st.sampled_from(WORKERS)),
    st.tuples(st.just("heartbeat"), st.sampled_from(WORKERS)),
    st.tuples(st.just("tick"), st.sampled_from([10.0, 31.0])),
    st.tuples(st.just("tick"), st.just(31.0)),
    st.tuples(st.just("requeue"), st.just(0)),
    st.tuples(st.just("cancel"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("finish"), st.sampled_from(WORKERS)),
    st.tuples(st.just("fail"), st.sampled_from(WORKERS)),
    st.tuples(st.just("release"), st.sampled_from(WORKERS)),
    st.tuples(st.just("post"), st.just(0)),
    st.tuples(st.just("post_again"), st.integers(0, 5)),
    # a worker that missed the news (paused, partitioned) acts on a job it once held
    st.tuples(
        st.just("zombie"),
        st.sampled_from(WORKERS),
        st.integers(0, 5),
        st.sampled_from(["heartbeat", "finish", "fail", "release"]),
    ),
)


@dataclass
class World:
    store: Store
    clock: FakeClock
    jobs: list[int] = field(default_factory=list)
    users: dict[int, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)  # what each worker believes it renders
    history: dict[str, list[int]] = field(default_factory=dict)  # every job each worker was given
    lease: dict[int, tuple[str, float]] = field(default_factory=dict)  # job -> (holder, expiry), per store
    ended: Counter[int] = field(default_factory=Counter)
    posted: Counter[int] = field(default_factory=Counter)

    def live_holder(self, job_id: int) -> str | None:
        holder = self.lease.get(job_id)
        return holder[0] if holder and holder[1] >= self.clock.now else None

    async def claim(self, worker: str) -> None:
        job = await self.store.jobs.claim_next(worker, [MODEL], LEASE_S)
        if job is None:
            return
        assert self.live_holder(job.id) is None, f"job {job.id} leased twice at once"
        assert self.ended[job.id] == 0, f"ended job {job.id} claimed again"
        self.held[worker] = job.id
        self.history.setdefault(worker, []).append(job.id)
        self.lease[job.id] = (worker, self.clock.now + LEASE_S)

    def accepted(self, worker: str, job_id: int) -> None:
        assert self.lease.get(job_id, ("", 0))[0] == worker, f"{worker} is not the latest holder of {job_id}"

    async def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "enqueue":
            job = await submit(self.store, int(op[1]))
            self.jobs.append(job.id)
            self.users[job.id] = job.user_id
        elif kind == "claim":
            await self.claim(str(op[1]))
        elif kind == "tick":
            self.clock.advance(float(op[1]))
        elif kind == "requeue":
            await self.store.jobs.requeue_expired()
        elif kind == "post":
            for job in await self.store.jobs.unposted(limit=100):
                assert self.posted[job.id] == 0, f"job {job.id} listed as unposted after posting"
                if await self.store.jobs.mark_posted(job.id, 1000 + job.id, 2000 + job.id):
                    self.posted[job.id] += 1
        elif kind == "post_again" and self.jobs:
            # a bot that restarted mid-post tries again: only the first post may count
            job_id = self.jobs[int(op[1]) % len(self.jobs)]
            if await self.store.jobs.mark_posted(job_id, 3000 + job_id, None):
                self.posted[job_id] += 1
        elif kind == "cancel" and self.jobs:
            job_id = self.jobs[int(op[1]) % len(self.jobs)]
            if await self.store.jobs.cancel(job_id, self.users[job_id] if op[2] else None):
                self.ended[job_id] += 1
                self.lease.pop(job_id, None)
        elif kind == "zombie" and self.history.get(str(op[1])):
            worker, old = str(op[1]), self.history[str(op[1])]
            self.held[worker] = old[int(op[2]) % len(old)]
            await self.apply((op[3], worker))
        elif kind in ("heartbeat", "finish", "fail", "release"):
            worker = str(op[1])
            held = self.held.get(worker)
            if held is None:
                return
            job_id = held
            if kind == "heartbeat":
                if await self.store.jobs.heartbeat(job_id, worker, step=1, total_steps=2, lease_s=LEASE_S):
                    self.accepted(worker, job_id)
                    self.lease[job_id] = (worker, self.clock.now + LEASE_S)
                else:
                    del self.held[worker]
                return
            del self.held[worker]
            if kind == "release":
                if await self.store.jobs.release(job_id, worker):
                    self.accepted(worker, job_id)
                    self.lease.pop(job_id, None)
                return
            done = (
                await self.store.jobs.finish(job_id, worker, result())
                if kind == "finish"
                else await self.store.jobs.fail(job_id, worker, "out_of_memory")
            )
            if done:
                self.accepted(worker, job_id)
                self.ended[job_id] += 1
                self.lease.pop(job_id, None)
        assert all(n <= 1 for n in self.ended.values()), self.ended
        assert all(n <= 1 for n in self.posted.values()), self.posted

    async def drain(self) -> None:
        """Let every lease run out, then one worker finishes whatever is left, and the bot posts."""
        self.held.clear()
        for _ in range(4):
            self.clock.advance(LEASE_S + 1)
            while (job := await self.store.jobs.claim_next("drain", [MODEL], LEASE_S)) is not None:
                assert await self.store.jobs.finish(job.id, "drain", result())
                self.ended[job.id] += 1
        await self.store.jobs.requeue_expired()
        await self.apply(("post", 0))
        for job_id in self.jobs:
            job = await self.store.jobs.get(job_id)
            assert job is not None, f"job {job_id} lost"
            assert job.ended and job.posted, (job.id, job.state, job.posted)
            # done and cancelled jobs were ended by exactly one accepted call; a failed one may have
            # been failed by the store itself after three vanished workers
            if job.state != "failed":
                assert self.ended[job_id] == 1, (job_id, job.state)
        assert {j: self.posted[j] for j in self.jobs} == dict.fromkeys(self.jobs, 1)
        assert await self.store.jobs.unposted() == []


async def scenario(factory: UrlFactory, ops: list[tuple[Any, ...]]) -> None:
    clock = FakeClock()
    store = await open_store(await factory(), clock=clock)
    try:
        await generous_caps(store)
        world = World(store, clock)
        for op in ops:
            await world.apply(op)
        await world.drain()
    finally:
        await store.close()


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=30, max_size=80))
def test_random_interleavings_lose_nothing_and_do_nothing_twice(
    backend_name: str, url_factories: dict[str, UrlFactory], ops: list[tuple[Any, ...]]
) -> None:
    asyncio.run(scenario(need_backend(url_factories, backend_name), ops))
