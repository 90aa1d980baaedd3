"""Several worker processes claim from one database (SQLite file, PostgreSQL): each job done once."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from db.store import Store, open_store
from tests.store.helpers import GUILD, generous_caps, submit

REPO = Path(__file__).resolve().parents[2]
JOBS = 80
WORKERS = 4


async def test_worker_processes_do_each_job_exactly_once(store: Store, store_url: str) -> None:
    await generous_caps(store)
    jobs = [await submit(store, user_id=1 + i % 7) for i in range(JOBS)]
    # one host crashes holding a job: its lease runs out and another process finishes the job
    crash = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.store.worker_process", store_url, "crashed", "--vanish", cwd=REPO
    )
    assert await crash.wait() == 0
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.store.worker_process",
            store_url,
            f"proc{i}",
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        for i in range(WORKERS)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    assert all(p.returncode == 0 for p in procs)
    finished = Counter(job_id for out, _ in outputs for job_id in json.loads(out))
    assert sorted(finished) == sorted(j.id for j in jobs)
    assert set(finished.values()) == {1}
    assert sum(1 for out, _ in outputs if json.loads(out)) >= 2  # the work really was shared
    fresh = await open_store(store_url)
    try:
        states = Counter(
            j.state for j in await fresh.jobs.jobs_for_user(GUILD, 1, ["done", "queued", "running"])
        )
        assert set(states) == {"done"}
        retried = [j for j in [await fresh.jobs.get(job.id) for job in jobs] if j and j.attempts]
        assert len(retried) == 1 and retried[0].worker_id != "crashed"
    finally:
        await fresh.close()
