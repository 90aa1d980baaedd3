"""``videobot status``: the queue per server, the workers with their model and current job, and clips
per hour, read from the job store.

Plain text tables on stdout, exit status 0. A store that cannot be opened (PostgreSQL away, no SQLite
file at that path: status never creates one) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from db.store import Job, existing_store, open_store
from db.store.stats import StoreStatus

STORE_OPEN_TIMEOUT_S = 20.0


class StoreUnavailable(Exception):
    """The job store cannot be opened: said in one line, exit status 1."""


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell; numbers (cells of digits) right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if cell.isdigit() else cell.ljust(w) for cell, w in zip(cells, widths, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def job_cell(job: Job) -> str:
    progress = f"step {job.step}/{job.total_steps}" if job.total_steps > 0 else "starting"
    return f"#{job.id} {job.model} {progress}"


def format_status(status: StoreStatus) -> str:
    """The report `videobot status` prints."""
    moment = datetime.fromtimestamp(status.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"videobot status at {moment}", ""]

    waiting = sum(q.queued for q in status.queues)
    lines.append(f"Queue: {waiting} waiting, {sum(q.running for q in status.queues)} rendering")
    if status.queues:
        rows = [[str(q.guild_id), str(q.queued), str(q.running)] for q in status.queues]
        lines += table(["server", "waiting", "rendering"], rows)
    else:
        lines.append("  (empty)")
    lines.append("")

    lines.append(f"Workers: {len(status.workers)} online")
    if status.workers:
        rows = [
            [
                w.worker.worker_id,
                w.worker.host,
                w.worker.gpu,
                w.worker.state,
                ",".join(w.worker.models) or "-",
                "; ".join(job_cell(j) for j in w.jobs) or "idle",
                w.worker.note,
            ]
            for w in status.workers
        ]
        lines += table(["worker", "host", "gpu", "state", "models", "job", "note"], rows)
    else:
        lines.append("  (none: queued clips wait until a worker starts)")
    for job in status.unassigned_running:
        lines.append(
            f"  {job_cell(job)} is held by {job.worker_id}, which is not online (its lease runs out)"
        )
    lines.append("")

    per_hour = status.clips_per_hour
    lines.append(f"Clips: {status.clips_last_hour} in the last hour, {sum(per_hour)} in the last 24 hours")
    if per_hour:
        counts = " ".join(str(n) for n in per_hour)
        lines.append(f"  per hour, {len(per_hour) - 1} hours ago to the last hour: {counts}")
    return "\n".join(lines) + "\n"


async def read_status(url: str | None) -> StoreStatus:
    try:
        url = existing_store(url)  # status reads; it never creates an empty store by mistake
    except ValueError as exc:
        raise StoreUnavailable(str(exc)) from exc
    try:
        store = await asyncio.wait_for(open_store(url), STORE_OPEN_TIMEOUT_S)
    except TimeoutError as exc:
        raise StoreUnavailable(f"no answer from the job store within {STORE_OPEN_TIMEOUT_S:g} s") from exc
    except Exception as exc:
        raise StoreUnavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    try:
        return await store.stats.store_status()
    except Exception as exc:
        raise StoreUnavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    finally:
        await store.close()


def run_status(args: argparse.Namespace) -> int:
    try:
        status = asyncio.run(read_status(args.database))
    except StoreUnavailable as exc:
        print(f"videobot status: error: cannot open the job store: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(format_status(status))
    return 0
