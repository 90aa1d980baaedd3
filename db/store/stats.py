"""The job store's part for the numbers behind /stats and `videobot status`: GPU-seconds per member,
queue waits per day, clips per hour.

``store.stats``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/stats.sql`` (the GPU-seconds per member are /me's query, ``me_gpu_by_member``, so both
commands count alike). Days are UTC calendar days; the percentiles are computed here, in Python, by
:func:`percentile`, the same on both backends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from db.store.halloffame import MemberGpu
from db.store.models import Job, WorkerInfo
from db.store.part import Part

DAY_S = 86_400.0
HOUR_S = 3_600.0
STATS_DAYS = 7
WORKER_MAX_AGE_S = 60.0  # as Store.live_workers


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation between the closest
    ranks (NumPy's default, PostgreSQL's ``percentile_cont``); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def day_start(moment: float) -> float:
    """Midnight (UTC) of the day ``moment`` falls in."""
    return math.floor(moment / DAY_S) * DAY_S


@dataclass(frozen=True)
class DayWaits:
    """How long the jobs that started on one UTC day had waited: p50 and p95 in seconds (None on a
    day when no job started)."""

    day: float  # midnight UTC, epoch seconds
    jobs: int
    p50_s: float | None
    p95_s: float | None


def waits_per_day(rows: Sequence[tuple[float, float]], first_day: float, days: int) -> tuple[DayWaits, ...]:
    """(started_at, waited) pairs → one :class:`DayWaits` for each of ``days`` days from ``first_day``
    (midnight UTC), the days without jobs included; pairs outside those days are left out."""
    buckets: list[list[float]] = [[] for _ in range(days)]
    for started_at, waited in rows:
        index = int((started_at - first_day) // DAY_S)
        if 0 <= index < days:
            buckets[index].append(max(0.0, waited))
    return tuple(
        DayWaits(first_day + i * DAY_S, len(b), percentile(b, 50), percentile(b, 95))
        for i, b in enumerate(buckets)
    )


def clips_per_hour(finished: Sequence[float], now: float, hours: int = 24) -> tuple[int, ...]:
    """How many clips finished in each of the last ``hours`` hours, the oldest hour first (the last
    entry is the hour up to ``now``)."""
    counts = [0] * hours
    for moment in finished:
        back = int((now - moment) // HOUR_S)
        if 0 <= back < hours:
            counts[hours - 1 - back] += 1
    return tuple(counts)


@dataclass(frozen=True)
class GuildStats:
    """What /stats draws: every member's GPU-seconds (and weight) since ``since``, and the queue's
    waits for each day from ``since`` to ``until``."""

    guild_id: int
    since: float
    until: float
    gpu_by_member: tuple[MemberGpu, ...]
    waits: tuple[DayWaits, ...]

    @property
    def guild_gpu_seconds(self) -> float:
        return sum(m.gpu_seconds for m in self.gpu_by_member)

    @property
    def empty(self) -> bool:
        """Nothing to draw: nobody used the GPUs and no job started in the period."""
        return not self.gpu_by_member and not any(d.jobs for d in self.waits)


@dataclass(frozen=True)
class GuildQueue:
    guild_id: int
    queued: int
    running: int


@dataclass(frozen=True)
class WorkerStatus:
    """A live worker and the jobs it is rendering now (usually one)."""

    worker: WorkerInfo
    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class StoreStatus:
    """What `videobot status` prints."""

    at: float
    queues: tuple[GuildQueue, ...]
    workers: tuple[WorkerStatus, ...]
    unassigned_running: tuple[Job, ...]  # running jobs whose worker is not among the live ones
    clips_per_hour: tuple[int, ...]  # the last 24 hours, the oldest first

    @property
    def clips_last_hour(self) -> int:
        return self.clips_per_hour[-1] if self.clips_per_hour else 0


class StatsStore(Part):
    async def guild_stats(self, guild_id: int, days: int = STATS_DAYS) -> GuildStats:
        """/stats: the last ``days`` UTC days, today included: GPU-seconds and weight of each member
        whose jobs ended in them, and the queue waits (p50, p95) of the jobs that started each day."""
        now = self.clock()
        since = day_start(now) - (days - 1) * DAY_S
        async with self._db.transaction(write=False) as tx:
            gpu = await tx.fetch_all("me_gpu_by_member", guild_id=guild_id, since=since)
            waits = await tx.fetch_all("stats_waits", guild_id=guild_id, since=since)
        return GuildStats(
            guild_id=guild_id,
            since=since,
            until=now,
            gpu_by_member=tuple(
                MemberGpu(int(r["user_id"]), float(r["used"] or 0.0), float(r["weight"] or 1.0)) for r in gpu
            ),
            waits=waits_per_day([(float(r["started_at"]), float(r["waited"])) for r in waits], since, days),
        )

    async def store_status(self, worker_max_age_s: float = WORKER_MAX_AGE_S) -> StoreStatus:
        """`videobot status`: jobs waiting and rendering per guild, the live workers with what they
        render, and the clips finished in each of the last 24 hours; one read."""
        now = self.clock()
        async with self._db.transaction(write=False) as tx:
            queues = await tx.fetch_all("stats_queued_by_guild")
            workers = await tx.fetch_all("live_workers", since=now - worker_max_age_s)
            running = await tx.fetch_all("running_jobs")
            finished = await tx.fetch_all("stats_finished_since", since=now - 24 * HOUR_S)
        jobs = [Job.from_row(r) for r in running]
        infos = [WorkerInfo.from_row(r) for r in workers]
        live = {w.worker_id for w in infos}
        return StoreStatus(
            at=now,
            queues=tuple(GuildQueue(int(r["guild_id"]), int(r["queued"]), int(r["running"])) for r in queues),
            workers=tuple(
                WorkerStatus(w, tuple(j for j in jobs if j.worker_id == w.worker_id)) for w in infos
            ),
            unassigned_running=tuple(j for j in jobs if j.worker_id not in live),
            clips_per_hour=clips_per_hour([float(r["finished_at"]) for r in finished], now),
        )
