"""Fair scheduling, asserted on the real store (both backends) driven by simulated GPUs."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from db.fairness import FairState, QueuedJob, charge, dispatch_order, jain_index, pick_next
from db.store import Job, Store
from tests.store.conftest import FakeClock
from tests.store.helpers import GUILD, MODEL, generous_caps, result, submit


@dataclass
class Cluster:
    """Simulated GPUs claiming from the real store; time is the store's fake clock."""

    store: Store
    clock: FakeClock
    workers: int
    actual: dict[int, float] = field(default_factory=dict)  # job id -> real GPU seconds it will take
    running: dict[str, tuple[float, Job]] = field(default_factory=dict)  # worker -> (ends at, job)
    served: list[tuple[float, Job]] = field(default_factory=list)  # (start time, job) in claim order

    async def fill(self) -> None:
        for w in range(self.workers):
            worker = f"gpu{w}"
            if worker not in self.running:
                job = await self.store.jobs.claim_next(worker, [MODEL], 10_000)
                if job is None:
                    return
                seconds = self.actual.get(job.id, job.cost_estimate_s)
                self.running[worker] = (self.clock.now + seconds, job)
                self.served.append((self.clock.now, job))

    async def step(self) -> Job:
        """Let the job that ends first end; the freed GPU claims the next job."""
        worker, (ends, job) = min(self.running.items(), key=lambda item: item[1][0])
        self.clock.now = max(self.clock.now, ends)
        del self.running[worker]
        assert await self.store.jobs.finish(
            job.id, worker, result(gpu_seconds=self.actual.get(job.id, job.cost_estimate_s))
        )
        await self.fill()
        return job


async def everyone_backlogged(store: Store, users: list[int]) -> bool:
    for user in users:
        if not await store.jobs.jobs_for_user(GUILD, user, ["queued"], limit=1):
            return False
    return True


async def test_a_newcomer_is_served_as_soon_as_a_running_job_ends(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    for _ in range(15):
        await submit(store, 1, cost=90)
        await submit(store, 2, cost=60)
    cluster = Cluster(store, clock, workers=2)
    await cluster.fill()
    for _ in range(6):  # the heavy users have been at it for a while
        await cluster.step()
    newcomer = await submit(store, 3, cost=120)
    await cluster.step()
    assert cluster.served[-1][1].id == newcomer.id


async def test_a_small_guild_is_served_as_soon_as_a_running_job_ends(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    for _ in range(10):
        for user in (1, 2, 3):
            await submit(store, user, cost=60)
    cluster = Cluster(store, clock, workers=3)
    await cluster.fill()
    for _ in range(5):
        await cluster.step()
    small = await submit(store, 4, cost=60, guild_id=GUILD + 1)
    await cluster.step()
    assert cluster.served[-1][1].id == small.id


async def test_backlogged_members_share_gpu_time_by_weight(store: Store, clock: FakeClock) -> None:
    """Jain's index over real GPU-seconds ÷ weight ≥ 0.95, although one member's jobs take twice their
    estimate (the charge is corrected with the real time)."""
    await generous_caps(store)
    rng = random.Random(3)
    weights = {1: 1.0, 2: 1.0, 3: 2.0, 4: 0.5}
    slow = {4: 2.0}  # member 4's clips really take twice the estimate
    cluster = Cluster(store, clock, workers=3)
    for _ in range(40):
        for user, weight in weights.items():
            job = await submit(store, user, cost=rng.uniform(20, 120), weight=weight)
            cluster.actual[job.id] = job.cost_estimate_s * slow.get(user, 1.0) * rng.uniform(0.8, 1.2)
    await cluster.fill()
    start = clock.now
    gpu: dict[int, float] = defaultdict(float)
    # measure while everyone is backlogged
    while await everyone_backlogged(store, list(weights)):
        job = await cluster.step()
        gpu[job.user_id] += cluster.actual[job.id]
    assert clock.now - start > 1500  # a long enough window to mean something
    shares = [gpu[user] / weight for user, weight in weights.items()]
    assert jain_index(shares) >= 0.95, shares


async def test_guilds_share_equally_whatever_their_member_count(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    await generous_caps(store, GUILD + 1)
    cluster = Cluster(store, clock, workers=2)
    for _ in range(30):
        for user in (1, 2, 3, 4):
            await submit(store, user, cost=60)
        await submit(store, 9, cost=60, guild_id=GUILD + 1)
        await submit(store, 9, cost=60, guild_id=GUILD + 1)
    await cluster.fill()
    per_guild: dict[int, float] = defaultdict(float)
    per_user: dict[int, float] = defaultdict(float)
    for _ in range(40):
        job = await cluster.step()
        per_guild[job.guild_id] += job.cost_estimate_s
        if job.guild_id == GUILD:
            per_user[job.user_id] += job.cost_estimate_s
    assert jain_index(list(per_guild.values())) >= 0.99, per_guild
    assert jain_index(list(per_user.values())) >= 0.95, per_user


async def test_a_low_weight_member_is_not_starved(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    cluster = Cluster(store, clock, workers=2)
    for _ in range(5):
        for user in (1, 2):
            await submit(store, user, cost=60)
    mine = [await submit(store, 3, cost=60, weight=0.25) for _ in range(3)]
    await cluster.fill()
    for _ in range(40):
        job = await cluster.step()
        if job.user_id in (1, 2):
            await submit(store, job.user_id, cost=60)  # heavy users never stop submitting
    order = [j.id for _, j in cluster.served]
    positions = [order.index(j.id) for j in mine]  # every one of my jobs was served ...
    # ... and at most every 1 + 2 * (1 / 0.25) = 9 dispatches, the share my weight buys
    gaps = [b - a for a, b in zip([0, *positions], positions, strict=False)]
    assert max(gaps) <= 10, positions


async def test_claim_order_is_the_predicted_queue_order(store: Store) -> None:
    await generous_caps(store)
    await generous_caps(store, GUILD + 1)
    rng = random.Random(11)
    jobs = []
    for _ in range(25):
        jobs.append(
            await submit(
                store,
                rng.choice([1, 2, 3]),
                cost=rng.choice([20, 50, 120]),
                weight=rng.choice([0.5, 1.0, 2.0]),
                guild_id=rng.choice([GUILD, GUILD + 1]),
            )
        )
    positions = {j.id: (await store.jobs.queue_position(j.id)).position for j in jobs}
    predicted = sorted(jobs, key=lambda j: positions[j.id])
    claimed = []
    while (job := await store.jobs.claim_next("w", [MODEL], 60)) is not None:
        claimed.append(job.id)
        assert await store.jobs.finish(job.id, "w", result(gpu_seconds=job.cost_estimate_s))
    assert claimed == [j.id for j in predicted]


# ---- the pure scheduling functions -----------------------------------------------------------------


def test_pure_sfq_alternates_equal_users_and_favours_the_idle() -> None:
    state = FairState()
    a = [QueuedJob(i, 1, 1, 10) for i in range(3)]
    b = [QueuedJob(10 + i, 1, 2, 10) for i in range(3)]
    assert [j.user_id for j in dispatch_order(a + b, state)] == [1, 2, 1, 2, 1, 2]
    charge(state, a[0])
    charge(state, b[0])
    charge(state, a[1])
    newcomer = QueuedJob(99, 1, 3, 100)
    assert pick_next([a[2], b[1], newcomer], state) == newcomer


def test_pure_sfq_gives_double_weight_double_service() -> None:
    jobs = [QueuedJob(i, 1, 1, 10, 2.0) for i in range(20)]
    jobs += [QueuedJob(100 + i, 1, 2, 10) for i in range(20)]
    first_fifteen = dispatch_order(jobs, FairState())[:15]
    assert sum(j.user_id == 1 for j in first_fifteen) == 10


def one_pick_at_a_time(jobs: list[QueuedJob], state: FairState) -> list[QueuedJob]:
    """The dispatch order by its definition: the claim's pick, charged, again and again."""
    sim, waiting, order = state.copy(), list(jobs), []
    while waiting:
        nxt = pick_next(waiting, sim)
        assert nxt is not None
        waiting.remove(nxt)
        charge(sim, nxt)
        order.append(nxt)
    return order


# small integers for tags and costs: plenty of ties between guilds, members and clocks
tags = st.integers(0, 6).map(float)


@settings(max_examples=300, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(0, 5), st.sampled_from([0.5, 1.0, 2.0])),
        max_size=25,
    ),
    vtime=tags,
    guild_tags=st.dictionaries(st.integers(1, 3), st.tuples(tags, tags)),
    user_tags=st.dictionaries(st.tuples(st.integers(1, 3), st.integers(1, 4)), tags),
)
def test_the_queue_order_is_the_claims_order_one_pick_at_a_time(
    jobs: list[tuple[int, int, int, float]],
    vtime: float,
    guild_tags: dict[int, tuple[float, float]],
    user_tags: dict[tuple[int, int], float],
) -> None:
    queued = [QueuedJob(i, g, u, float(cost), w) for i, (g, u, cost, w) in enumerate(jobs)]
    random.Random(len(jobs)).shuffle(queued)  # the order they come in must not matter
    state = FairState(
        vtime=vtime,
        guild_finish={g: f for g, (f, _) in guild_tags.items()},
        guild_vtime={g: v for g, (_, v) in guild_tags.items()},
        user_finish=dict(user_tags),
    )
    assert [j.id for j in dispatch_order(queued, state)] == [j.id for j in one_pick_at_a_time(queued, state)]


def test_jain_index_bounds() -> None:
    assert jain_index([3, 3, 3]) == 1.0
    assert jain_index([1, 0, 0, 0]) == 0.25
