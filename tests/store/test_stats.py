"""The numbers behind /stats and `videobot status`, on both backends, and their pure arithmetic
(percentiles, days, hours) on its own."""

from __future__ import annotations

import pytest

from db.store import Store
from db.store.stats import DAY_S, HOUR_S, clips_per_hour, day_start, percentile, waits_per_day
from tests.store.conftest import FakeClock
from tests.store.helpers import GUILD, MODEL, OTHER_MODEL, generous_caps, result, submit

OTHER_GUILD = 101


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 0) == 1.0  # order does not matter
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_waits_fall_on_the_day_they_ended_and_every_day_is_listed() -> None:
    first = day_start(1_700_000_000.0)
    rows = [
        (first + 10.0, 4.0),
        (first + 20.0, 8.0),
        (first + 2 * DAY_S + 5.0, 60.0),
        (first - 1.0, 999.0),  # the day before the period: left out
        (first + 3 * DAY_S, 1.0),  # the day after the last: left out
    ]
    days = waits_per_day(rows, first, 3)
    assert [d.day for d in days] == [first, first + DAY_S, first + 2 * DAY_S]
    assert [d.jobs for d in days] == [2, 0, 1]
    assert days[0].p50_s == 6.0 and days[0].p95_s == pytest.approx(7.8)
    assert days[1].p50_s is None and days[1].p95_s is None
    assert days[2].p50_s == days[2].p95_s == 60.0


def test_clips_per_hour_counts_back_from_now() -> None:
    now = 1_700_000_000.0
    counts = clips_per_hour([now - 10, now - 20, now - HOUR_S - 1, now - 30 * HOUR_S], now, hours=3)
    assert counts == (0, 1, 2)  # the oldest hour first; the one 30 hours ago is outside


async def run(store: Store, clock: FakeClock, user: int, *, waited: float, gpu: float, **kw: object) -> int:
    """A job of ``user`` that waits ``waited`` s, then renders for ``gpu`` GPU-seconds."""
    job = await submit(store, user, **kw)  # type: ignore[arg-type]
    clock.advance(waited)
    claimed = await store.jobs.claim_next("w1", [MODEL, OTHER_MODEL])
    assert claimed is not None and claimed.id == job.id
    clock.advance(gpu)
    assert await store.jobs.finish(job.id, "w1", result(gpu))
    return job.id


async def test_guild_stats_count_gpu_seconds_weights_and_waits_per_day(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    await generous_caps(store, OTHER_GUILD)
    assert (await store.stats.guild_stats(GUILD)).empty  # a server with no data yet

    clock.now = day_start(clock.now) + 12 * HOUR_S
    await run(store, clock, 1, waited=100.0, gpu=30.0)  # eight days ago: outside the seven days
    clock.advance(8 * DAY_S)
    today = day_start(clock.now)
    await run(store, clock, 1, waited=10.0, gpu=20.0)
    await run(store, clock, 2, waited=30.0, gpu=40.0, weight=2.0)
    await run(store, clock, 9, waited=500.0, gpu=99.0, guild_id=OTHER_GUILD)  # another server
    clock.advance(DAY_S)
    await run(store, clock, 1, waited=2.0, gpu=5.0)
    failed = await submit(store, 3)
    clock.advance(4.0)
    assert await store.jobs.claim_next("w1", [MODEL]) is not None
    assert await store.jobs.fail(failed.id, "w1", "out_of_memory", gpu_seconds=1.0)

    stats = await store.stats.guild_stats(GUILD)
    assert not stats.empty
    used = {m.user_id: (m.gpu_seconds, m.weight) for m in stats.gpu_by_member}
    assert used == {1: (25.0, 1.0), 2: (40.0, 2.0), 3: (1.0, 1.0)}  # a failure's GPU time counts too
    assert stats.guild_gpu_seconds == 66.0
    assert len(stats.waits) == 7 and stats.waits[-1].day == today + DAY_S
    yesterday, last = stats.waits[-2], stats.waits[-1]
    assert (yesterday.day, yesterday.jobs, yesterday.p50_s) == (today, 2, 20.0)  # waits of 10 and 30 s
    assert yesterday.p95_s == pytest.approx(29.0)
    assert (last.jobs, last.p50_s, last.p95_s) == (2, 3.0, pytest.approx(3.9))  # 2 s and 4 s
    assert all(d.jobs == 0 and d.p50_s is None for d in stats.waits[:-2])


async def test_store_status_shows_queues_workers_with_their_jobs_and_clips_per_hour(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    await generous_caps(store, OTHER_GUILD)
    empty = await store.stats.store_status()
    assert (empty.queues, empty.workers, empty.clips_last_hour) == ((), (), 0)
    assert empty.clips_per_hour == (0,) * 24

    await store.workers.register_worker("gpu-a", "host-a", "NVIDIA H200", [MODEL], pid=11)
    await store.workers.register_worker(
        "gpu-b", "host-b", "cpu", [OTHER_MODEL], state="paused", note="ffmpeg gone"
    )
    clock.advance(3 * HOUR_S)
    await store.workers.worker_heartbeat("gpu-a")
    await store.workers.worker_heartbeat("gpu-b")
    done = await submit(store, 1)
    assert await store.jobs.claim_next("gpu-a", [MODEL]) is not None
    assert await store.jobs.finish(done.id, "gpu-a", result(5.0))
    clock.advance(2 * HOUR_S)
    await store.workers.worker_heartbeat("gpu-a")
    await store.workers.worker_heartbeat("gpu-b")
    for _ in range(2):
        finished = await submit(store, 1)
        assert await store.jobs.claim_next("gpu-a", [MODEL]) is not None
        assert await store.jobs.finish(finished.id, "gpu-a", result(5.0))
    rendering = await submit(store, 2)
    claimed = await store.jobs.claim_next("gpu-a", [MODEL])
    assert claimed is not None and claimed.id == rendering.id
    assert await store.jobs.heartbeat(rendering.id, "gpu-a", step=3, total_steps=8)
    await submit(store, 2)
    await submit(store, 3)
    await submit(store, 9, guild_id=OTHER_GUILD, model=OTHER_MODEL)

    status = await store.stats.store_status()
    queues = {q.guild_id: (q.queued, q.running) for q in status.queues}
    assert queues == {GUILD: (2, 1), OTHER_GUILD: (1, 0)}
    workers = {w.worker.worker_id: w for w in status.workers}
    assert set(workers) == {"gpu-a", "gpu-b"}
    a, b = workers["gpu-a"], workers["gpu-b"]
    assert [(j.id, j.step, j.total_steps, j.model) for j in a.jobs] == [(rendering.id, 3, 8, MODEL)]
    assert (b.worker.state, b.worker.note, b.jobs) == ("paused", "ffmpeg gone", ())
    assert status.clips_last_hour == 2
    assert sum(status.clips_per_hour) == 3 and status.clips_per_hour[-3] == 1  # two hours earlier
    assert status.unassigned_running == ()

    clock.advance(120.0)  # both workers went silent: they are no longer live, the job is orphaned
    later = await store.stats.store_status()
    assert later.workers == () and [j.id for j in later.unassigned_running] == [rendering.id]
