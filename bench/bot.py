"""The bot's own latency, against the spec-checked Discord on loopback (tests/discord_fake).

    python -m bench.bot

1. Interaction-to-ack latency, and the time until the member reads their place in the queue, p50 and
   p99, for a burst of 100 `/video` commands from 20 members.
2. For clips rendered by a real worker process with a tiny model: the time from a job finishing to
   its clip being posted, and the time the spine adds around the render (command to posted clip,
   minus the GPU time).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.app import VideoBot
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.store import Job, open_store
from tests.discord_fake import DiscordFake, point_discord_py_at
from tests.discord_fake.interactions import InteractionHandle
from tests.tiny_models import build_tiny_ltx, preset_entry

BURST = 100
MEMBERS = 20
RENDERED = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(tmp: Path) -> None:
    model = build_tiny_ltx(tmp / "tiny-ltx")
    presets = tmp / "presets.json"
    presets.write_text(json.dumps({"default": "tiny", "tiny": preset_entry("ltx-video", model)}))
    catalog = PresetCatalog.load(presets)
    db = tmp / "videobot.db"
    store = await open_store(str(db))
    fake = DiscordFake()
    await fake.start()
    restore = point_discord_py_at(fake.api_url, fake.gateway_url)
    config = BotConfig(token=fake.token, database_url=str(db))
    bot = VideoBot(config, catalog, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(config.token))
    try:
        await fake.wait_until_ready()
        await bot.wait_until_ready()
        await store.settings.update_settings(
            int(fake.guild.id), max_queued_per_user=1000, daily_clips_per_user=1000
        )
        members = [fake.add_user(f"member{i}") for i in range(MEMBERS)]
        await asyncio.sleep(0.5)

        handles = await asyncio.gather(
            *(
                fake.slash_command("video", {"prompt": f"clip {i}"}, user=members[i % MEMBERS])
                for i in range(BURST)
            )
        )

        async def replied(handle: InteractionHandle) -> float:
            """Seconds from the command to the member's reply (their place in the queue)."""
            await handle.wait_reply(timeout=60)
            assert handle.state.dispatched_perf is not None
            return time.perf_counter() - handle.state.dispatched_perf

        replies = await asyncio.gather(*(replied(h) for h in handles))
        acks = [h.ack_latency for h in handles if h.ack_latency is not None]
        print(f"## Burst of {BURST} /video from {MEMBERS} members (2 cores)\n")
        print("| | p50 ms | p99 ms | max ms | over 3 s |")
        print("|---|---|---|---|---|")
        for name, values in (("ack (Discord's 3-s deadline)", acks), ("reply with place and ETA", replies)):
            print(
                f"| {name} | {percentile(values, 0.5) * 1000:.0f} | {percentile(values, 0.99) * 1000:.0f} | "
                f"{max(values) * 1000:.0f} | {sum(v > 3 for v in values)} |"
            )

        # cancel the burst, then time a few clips end to end with a real worker process
        for waiting in await store.jobs.active_jobs(limit=1000):
            await store.jobs.cancel(waiting.id, None)
        env = {**os.environ, "VIDEOBOT_PRESETS": str(presets)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "videobot", "worker", "--device", "cpu", "--database", str(db)], env=env
        )
        try:
            while not await store.workers.live_workers():
                await asyncio.sleep(0.2)
            rows = []
            job: Job
            for i in range(RENDERED):
                sent = time.time()
                handle = await fake.slash_command("video", {"prompt": f"timed clip {i}"}, user=members[0])
                await handle.wait_reply(timeout=30)
                job_id = int(str(handle.original["content"]).split("#")[1].split(":")[0])  # type: ignore[index]
                while True:
                    found = await store.jobs.get(job_id)
                    if found is not None and found.posted_at is not None:
                        job = found
                        break
                    await asyncio.sleep(0.02)
                assert (
                    job.posted_at is not None and job.finished_at is not None and job.gpu_seconds is not None
                )
                rows.append((job.posted_at - job.finished_at, job.posted_at - sent - job.gpu_seconds))
        finally:
            worker.terminate()
            worker.wait(30)
        to_post = [r[0] for r in rows]
        spine = [r[1] for r in rows]
        print(f"\n## {RENDERED} clips, tiny model, real worker process: seconds\n")
        print("| | median | max |")
        print("|---|---|---|")
        print(f"| job finished → clip posted | {statistics.median(to_post):.2f} | {max(to_post):.2f} |")
        print(
            f"| command → clip posted, minus GPU time | {statistics.median(spine):.2f} | {max(spine):.2f} |"
        )
    finally:
        await bot.close()
        await task
        restore()
        await fake.stop()
        await store.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
