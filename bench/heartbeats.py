"""What 1,000 GPU workers' heartbeats cost one PostgreSQL, and what claims cost meanwhile.

1,000 asyncio-simulated workers, each holding a running job, heartbeat as generator/worker.py does
(``store.heartbeat`` every ``--interval`` seconds with a step that advances every 0.5 s, the registry
row every 15 s), through one store and its asyncpg pool (real connections to a throwaway local
cluster, as in the tests). Meanwhile a probe claims and finishes jobs back to back. Reported over
the measuring window: heartbeats/s, transactions/s (``pg_stat_database.xact_commit``: one per
autocommitted statement or transaction), rows written/s (``tup_updated``), the server's CPU
(utime+stime of every PostgreSQL process from /proc, as a share of the machine's cores) and the
probe's claim latency p50/p99. Run: ``python -m bench.heartbeats`` (``--workers``, ``--seconds``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time

import asyncpg

from db.media import DatabaseMedia
from db.postgres import PostgresConnector
from db.spec import JobSpec
from db.store import JobResult, Store
from tests.store.conftest import PostgresCluster

MODEL = "ltx-video"
PROBE_MODEL = "probe"
RESULT = JobResult("file:x.mp4", 1, 768, 512, 121, 24.0, 30.0)


async def _db_counters(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, tup_updated FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    assert row is not None
    return int(row["xact_commit"]), int(row["tup_updated"])


async def run(
    cluster: PostgresCluster, url: str, workers: int, seconds: float, interval: float, pool: int
) -> None:
    connector = await PostgresConnector.open(url, max_size=pool)
    store = Store(connector, DatabaseMedia(connector))
    await store.migrate()
    for guild in (1, 2):
        await store.settings.update_settings(
            guild, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=10_000
        )
    spec = JobSpec("a lighthouse in a storm", model=MODEL, seed=1, seconds=5.0)
    probe_spec = JobSpec("a lighthouse in a storm", model=PROBE_MODEL, seed=1, seconds=5.0)
    for i in range(workers):
        await store.jobs.enqueue(1 + i % 2, 10, i % 200, spec, 20 + i % 100)
    jobs = []
    for i in range(workers):
        job = await store.jobs.claim_next(f"w{i}", [MODEL], 3600)
        assert job is not None
        await store.workers.register_worker(f"w{i}", "bench-host", "H200", [MODEL])
        jobs.append(job)
    probe_jobs = int(seconds * 100) + 200  # the probe claims at most ~60 a second
    for i in range(probe_jobs):
        await store.jobs.enqueue(1 + i % 2, 10, 1000 + i % 50, probe_spec, 30)

    stop = asyncio.Event()
    beats = 0
    lost = 0

    async def worker(i: int) -> None:
        nonlocal beats, lost
        job, wid = jobs[i], f"w{i}"
        began = time.monotonic()
        registry_due = began + 15.0 * random.random()
        await asyncio.sleep(interval * random.random())  # workers do not beat in step
        while not stop.is_set():
            step = min(40, int((time.monotonic() - began) / 0.5))
            if not await store.jobs.heartbeat(job.id, wid, step=step, total_steps=40, lease_s=10.0):
                lost += 1
            beats += 1
            if time.monotonic() >= registry_due:
                registry_due = time.monotonic() + 15.0
                await store.workers.worker_heartbeat(wid)
            await asyncio.sleep(interval)

    latencies: list[float] = []

    async def probe() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            job = await store.jobs.claim_next("probe", [PROBE_MODEL], 60)
            latencies.append(time.perf_counter() - t0)
            if job is None:
                return
            await store.jobs.finish(job.id, "probe", RESULT)
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(worker(i)) for i in range(workers)]
    await asyncio.sleep(interval + 2.0)  # every worker beating
    probe_task = asyncio.create_task(probe())
    await asyncio.sleep(1.0)
    latencies.clear()
    beats0, cpu0, (xact0, upd0), t0 = beats, cluster.cpu_seconds(), await _db_counters(url), time.monotonic()
    await asyncio.sleep(seconds)
    beats1, cpu1, (xact1, upd1), t1 = beats, cluster.cpu_seconds(), await _db_counters(url), time.monotonic()
    stop.set()
    await asyncio.gather(*tasks, probe_task)
    await store.close()
    window = t1 - t0
    cpu = (cpu1 - cpu0) / window
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    print(f"{workers} workers, heartbeat every {interval:g} s, pool of {pool}, {window:.1f} s window")
    print(f"  heartbeats/s          {(beats1 - beats0) / window:10.0f}   (jobs lost: {lost})")
    print(f"  transactions/s        {(xact1 - xact0) / window:10.0f}")
    print(f"  rows updated/s        {(upd1 - upd0) / window:10.0f}")
    print(
        f"  server CPU            {cpu:10.2f} cores = {cpu / (os.cpu_count() or 1):.0%} of {os.cpu_count()}"
    )
    if lat:
        print(
            f"  claim latency         p50 {statistics.median(lat) * 1000:.1f} ms,"
            f" p99 {p99:.1f} ms ({len(lat)} claims)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a worker's heartbeats")
    parser.add_argument("--pool", type=int, default=20, help="connections in the store's pool")
    args = parser.parse_args()
    cluster = PostgresCluster()
    cluster.start()
    try:
        asyncio.run(cluster.create_template())
        url = asyncio.run(cluster.fresh_database())
        asyncio.run(run(cluster, url, args.workers, args.seconds, args.interval, args.pool))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
