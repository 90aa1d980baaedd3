"""Claims per second on each backend with 1, 4, 16 and 64 concurrent worker processes.

Each worker process opens its own store and loops claim → finish until the queue is empty; the
figure is jobs ÷ wall time (one claim and one finish per job). PostgreSQL is a throwaway local
cluster (as in the tests) unless ``--pg URL`` names one. Run: ``python -m bench.claims``."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
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
            await store.update_settings(
                guild, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=10_000
            )
        spec = JobSpec("a lighthouse in a storm", model=MODEL, seed=1, seconds=5.0)
        for i in range(jobs):
            await store.enqueue(1 + i % 2, 10, i % USERS, spec, 20 + i % 100)
    finally:
        await store.close()


async def _work(url: str, worker_id: str, start_at: float) -> int:
    store = await open_store(url)
    done = 0
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while (job := await store.claim_next(worker_id, [MODEL], 60)) is not None:
            await store.finish(job.id, worker_id, RESULT)
            done += 1
    finally:
        await store.close()
    return done


def _worker(url: str, worker_id: str, start_at: float, out: mp.Queue) -> None:
    try:
        out.put((asyncio.run(_work(url, worker_id, start_at)), time.time()))
    except Exception as exc:  # e.g. SQLite's busy timeout: the figure is then "failed"
        out.put((-1, time.time()))
        raise SystemExit(f"{worker_id}: {exc}") from exc


def measure(url: str, workers: int) -> float:
    jobs = JOBS_PER_WORKER * max(workers, 4)
    asyncio.run(_fill(url, jobs))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start_at = time.time() + 3.0  # every process has opened its store by then
    procs = [ctx.Process(target=_worker, args=(url, f"w{i}", start_at, out)) for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    if any(n < 0 for n, _ in results):
        print(f"{url.split('@')[-1]} {workers} workers: a worker failed", flush=True)
        return float("nan")
    total = sum(n for n, _ in results)
    assert total == jobs, (total, jobs)
    rate = total / (max(t for _, t in results) - start_at)
    print(f"{url.split('@')[-1]} {workers} workers: {rate:.0f} claim+finish/s", flush=True)
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
            rows["PostgreSQL"] = [measure(url, n) for url, n in zip(urls, counts, strict=True)]
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
