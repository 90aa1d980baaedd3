"""What a long queue costs the bot: one member's place and ETA, and one status-refresh pass.

With N jobs queued by N/3 members in 3 guilds (SQLite, one live worker), times
``queue_position`` for one job (each `/video` ack needs it) and ``queue_positions`` (the bot's status
refresh, once per pass for every queued job). Both run on the bot's event loop, so their time is
time no interaction is answered. Run: ``python -m bench.queue``."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from db.spec import JobSpec
from db.store import open_store

MODEL = "ltx-video"
SIZES = (100, 1000, 3000)


async def measure(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(str(Path(tmp) / "videobot.db"))
        try:
            for guild in (1, 2, 3):
                await store.settings.update_settings(
                    guild, max_queued_per_user=10_000, daily_clips_per_user=10_000
                )
            await store.workers.register_worker("w1", "bench", "H200", [MODEL])
            spec = JobSpec("a lighthouse in a storm", model=MODEL, seed=1, seconds=5.0)
            members = max(1, n // 3)
            ids = [
                (await store.jobs.enqueue(1 + i % 3, 10, i % members, spec, 20 + i % 100)).id
                for i in range(n)
            ]
            one = []
            for job_id in ids[-5:]:
                started = time.perf_counter()
                await store.jobs.queue_position(job_id)
                one.append(time.perf_counter() - started)
            started = time.perf_counter()
            positions = await store.jobs.queue_positions()
            every = time.perf_counter() - started
            assert len(positions) == n
            return statistics.median(one), every
        finally:
            await store.close()


def main() -> None:
    print("| queued jobs | one place and ETA (ms) | every status, one pass (ms) |")
    print("|---|---|---|")
    for n in SIZES:
        one, every = asyncio.run(measure(n))
        print(f"| {n} | {one * 1000:.1f} | {every * 1000:.1f} |")


if __name__ == "__main__":
    main()
