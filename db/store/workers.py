"""The store's part for the GPU workers' registry: ``store.workers``.

A worker registers (``starting``, ``ready`` or ``paused``, with a note saying why), beats every few
seconds, and goes when it stops; rows of hosts that went away are pruned (claims do it too). Its
queries are in ``db/sql/workers.sql``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from db.store.models import WorkerInfo, WorkerState
from db.store.part import Part

WORKER_MAX_AGE_S = 60.0
STALE_WORKER_S = 600.0  # a registry row not seen this long belongs to a host that went away: claims drop it


class WorkerStore(Part):
    async def register_worker(
        self,
        worker_id: str,
        host: str,
        gpu: str,
        models: Sequence[str],
        *,
        state: WorkerState = "ready",
        note: str = "",
        pid: int | None = None,
        pid_space: str | None = None,
    ) -> WorkerInfo:
        """Enter a worker in the registry: ``starting`` (loading; the bot tells members one is on its
        way), ``ready`` (claiming) or ``paused``; ``note`` says why it serves what it serves; ``pid``
        is its process on ``host`` and ``pid_space`` the process namespace it is from (a successor in
        the same namespace releases its jobs once that process is gone)."""
        now = self.clock()
        await self._db.write_one(
            "upsert_worker",
            worker_id=worker_id,
            host=host,
            gpu=gpu,
            models=json.dumps(list(models)),
            now=now,
            state=state,
            note=note,
            pid=pid,
            pid_space=pid_space,
        )
        return WorkerInfo(worker_id, host, gpu, tuple(models), now, now, state, note, pid, pid_space)

    async def set_worker_state(self, worker_id: str, state: WorkerState, note: str = "") -> bool:
        """False when the worker is not registered (register again)."""
        changed = await self._db.write_one(
            "set_worker_state", worker_id=worker_id, state=state, note=note, now=self.clock()
        )
        return changed == 1

    async def worker_heartbeat(self, worker_id: str) -> bool:
        """False when the worker is not registered (register again)."""
        return await self._db.write_one("worker_heartbeat", worker_id=worker_id, now=self.clock()) == 1

    async def unregister_worker(self, worker_id: str) -> bool:
        return await self._db.write_one("delete_worker", worker_id=worker_id) == 1

    async def workers_on_host(self, host: str) -> list[WorkerInfo]:
        """Every registered worker of ``host``, however long ago it was seen."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("workers_on_host", host=host)
        return [WorkerInfo.from_row(r) for r in rows]

    async def prune_workers(self, max_age_s: float = STALE_WORKER_S) -> int:
        """Forget workers not seen for ``max_age_s`` (claims do it too); how many went."""
        return await self._db.write_one("prune_workers", since=self.clock() - max_age_s)

    async def live_workers(self, max_age_s: float = WORKER_MAX_AGE_S) -> list[WorkerInfo]:
        rows = await self._db.read_all("live_workers", since=self.clock() - max_age_s)
        return [WorkerInfo.from_row(r) for r in rows]

    async def served_models(self, max_age_s: float = WORKER_MAX_AGE_S) -> list[str]:
        """Models some live worker serves or is starting to serve: the only ones the bot should offer."""
        workers = await self.live_workers(max_age_s)
        return sorted({m for w in workers if w.state != "paused" for m in w.models})
