"""A GPU worker stand-in for the multi-process test: ``python -m tests.store.worker_process URL ID
[--vanish]``. Claims until the queue is empty and prints the ids of the jobs whose finish the store
accepted, as JSON. With ``--vanish`` it claims one job and dies without a word (a crashed host)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys

from db.store import open_store
from tests.store.helpers import MODEL, result

LEASE_S = 1.0


async def work(url: str, worker_id: str, vanish: bool) -> list[int]:
    store = await open_store(url)
    finished: list[int] = []
    idle_rounds = 0
    try:
        while idle_rounds < 3:
            job = await store.jobs.claim_next(worker_id, [MODEL], LEASE_S)
            if job is None:
                if not await store.jobs.active_jobs(limit=1):
                    idle_rounds += 1
                await store.jobs.wait_for_work(0.2)
                continue
            idle_rounds = 0
            if vanish:
                os._exit(0)
            await asyncio.sleep(random.uniform(0, 0.01))  # "render"
            if not await store.jobs.heartbeat(job.id, worker_id, step=1, total_steps=1, lease_s=LEASE_S):
                continue
            if await store.jobs.finish(job.id, worker_id, result(gpu_seconds=0.01)):
                finished.append(job.id)
    finally:
        await store.close()
    return finished


if __name__ == "__main__":
    print(json.dumps(asyncio.run(work(sys.argv[1], sys.argv[2], "--vanish" in sys.argv))))
