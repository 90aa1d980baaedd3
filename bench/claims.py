"""Claims per second on each backend with 1, 4, 16 and 64 concurrent worker processes.

Each worker process opens its own store and loops claim → finish until the queue is empty; the
figure is jobs ÷ wall time (one claim and one finish per job). Also printed, per job: the CPU the
worker processes spent (their own process time over the loop) and, for the throwaway cluster, the
CPU the PostgreSQL server spent (its processes' time, from /proc), so a reader sees which side a
2-core machine runs out of. PostgreSQL is a throwaway local cluster (as in the tests) unless
``--pg URL`` names one. Run: ``python -m bench.claims``."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from db.spec import JobSpec
from db.store import JobResult, open_store

MODEL = "ltx-video"
JOBS_PER_WORKER = 150
USERS = 64
RESULT = JobResult("file:x.mp4", 1, 768, 512, 121, 24.0, 30.0)


async def _fill(url: str, jobs: int) -> None:
    store = await open_store(url)
    try:
        for guild in (1, 2):
            await store.settings.update_settings(
                guild, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=10_000
            )
        spec = JobSpec("a lighthouse in a storm", model=MODEL, seed=1, seconds=5.0)
        for i in range(jobs):
            await store.jobs.enqueue(1 + i % 2, 10, i % USERS, spec, 20 + i % 100)
    finally:
        await store.close()


async def _work(url: str, worker_id: str, start_at: float) -> tuple[int, float]:
    store = await open_store(url)
    done = 0
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu = time.process_time()
        while (job := await store.jobs.claim_next(worker_id, [MODEL], 60)) is not None:
            await store.jobs.finish(job.id, worker_id, RESULT)
            done += 1
        cpu = time.process_time() - cpu
    finally:
        await store.close()
    return done, cpu


def _worker(url: str, worker_id: str, start_at: float, out: mp.Queue) -> None:
    try:
        done, cpu = asyncio.run(_work(url, worker_id, start_at))
        out.put((done, cpu, time.time()))
    except Exception as exc:  # e.g. SQLite's busy timeout: the figure is then "failed"
        out.put((-1, 0.0, time.time()))
        raise SystemExit(f"{worker_id}: {exc}") from exc


def measure(url: str, workers: int, server_cpu_s: Callable[[], float] | None = None) -> float:
    """claim+finish per second with ``workers`` processes; ``server_cpu_s`` reads the server's CPU
    seconds so far, when the server is a local one."""
    jobs = JOBS_PER_WORKER * max(workers, 4)
    asyncio.run(_fill(url, jobs))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start_at = time.time() + 3.0 + workers * 0.05  # every process has opened its store by then
    procs = [ctx.Process(target=_worker, args=(url, f"w{i}", start_at, out)) for i in range(workers)]
    for p in procs:
        p.start()
    time.sleep(max(0.0, start_at - time.time()))
    server_before = server_cpu_s() if server_cpu_s else 0.0
    results = [out.get() for _ in procs]
    server = (server_cpu_s() if server_cpu_s else 0.0) - server_before
    for p in procs:
        p.join()
    name = f"{url.split('@')[-1]} {workers} workers"
    if any(n < 0 for n, _, _ in results):
        print(f"{name}: a worker failed", flush=True)
        return float("nan")
    total = sum(n for n, _, _ in results)
    assert total == jobs, (total, jobs)
    rate = total / (max(t for _, _, t in results) - start_at)
    client = sum(c for _, c, _ in results)
    cpu = f"CPU per job: workers {1000 * client / total:.2f} ms"
    if server_cpu_s is not None:
        cpu += f", server {1000 * server / total:.2f} ms"
    print(f"{name}: {rate:.0f} claim+finish/s; {cpu}", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database (default: a throwaway cluster)")
    parser.add_argument("--workers", default="1,4,16,64", help="worker counts, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql", help="which backends, comma-separated")
    args = parser.parse_args()
    counts = tuple(int(n) for n in args.workers.split(","))
    backends = set(args.backends.split(","))
    rows: dict[str, list[float]] = {}
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            rows["SQLite (WAL)"] = [measure(str(Path(tmp) / f"bench{n}.db"), n) for n in counts]
    cluster = None
    if "postgresql" not in backends:
        urls: list[str] = []
    elif args.pg:
        urls = [args.pg] * len(counts)
    else:
        from tests.store.conftest import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        asyncio.run(cluster.create_template())
        urls = [asyncio.run(cluster.fresh_database()) for _ in counts]
    try:
        if urls:
            cpu = cluster.cpu_seconds if cluster is not None else None
            rows["PostgreSQL"] = [measure(url, n, cpu) for url, n in zip(urls, counts, strict=True)]
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"{'claim+finish per second':<26}"
        + "".join(f"{f'{n} worker' + ('s' if n > 1 else ''):>14}" for n in counts)
    )
    for name, values in rows.items():
        print(f"{name:<26}" + "".join(f"{v:>14.0f}" for v in values))


if __name__ == "__main__":
    main()
