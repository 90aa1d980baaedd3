"""The bot's own latency, against the spec-checked Discord on loopback (tests/discord_fake).

    python -m bench.bot [--runs 3] [--in-process]

1. Interaction-to-ack latency, and the time until the member reads their place in the queue, p50 and
   p99, for a burst of 100 `/video` commands from 20 members, ``--runs`` times (each on a fresh store).
   The bot runs as its own process (``videobot bot``), as in production, where Discord's work is
   done elsewhere; ``--in-process`` runs it in the bench's own event loop instead, beside the fake
   Discord, whose OpenAPI checks of every request then take turns with the bot on the same core.
2. For clips rendered by a real worker process with a tiny model: the time from a job finishing to
   its clip being posted, and the time the spine adds around the render (command to posted clip,
   minus the GPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
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


Figures = tuple[list[float], list[float]]  # ack and reply latencies, seconds


async def burst(fake: DiscordFake) -> Figures:
    """100 `/video` at once from 20 members: each one's ack and reply latency. One `/video` first,
    not counted: the first request of each kind builds the fake's OpenAPI validators, in its loop."""
    members = [fake.add_user(f"member{i}") for i in range(MEMBERS)]
    await (await fake.slash_command("video", {"prompt": "warm-up"}, user=members[0])).wait_reply(timeout=60)
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
    return [h.ack_latency for h in handles if h.ack_latency is not None], list(replies)


async def generous(store_url: str, fake: DiscordFake) -> None:
    async with await open_store(store_url) as store:
        await store.settings.update_settings(
            int(fake.guild.id), max_queued_per_user=1000, daily_clips_per_user=1000
        )


@contextlib.asynccontextmanager
async def bot_in_process(db: Path, catalog: PresetCatalog) -> AsyncIterator[DiscordFake]:
    """The fake Discord and the bot in this event loop, both ready."""
    fake = DiscordFake()
    await fake.start()
    restore = point_discord_py_at(fake.api_url, fake.gateway_url)
    config = BotConfig(token=fake.token, database_url=str(db))
    bot = VideoBot(config, catalog, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(config.token))
    try:
        await fake.wait_until_ready()
        await bot.wait_until_ready()
        yield fake
    finally:
        await bot.close()
        await task
        restore()
        await fake.stop()


async def burst_in_process(tmp: Path, catalog: PresetCatalog) -> Figures:
    db = tmp / "videobot.db"
    async with bot_in_process(db, catalog) as fake:
        await generous(str(db), fake)
        await asyncio.sleep(0.5)
        return await burst(fake)


async def burst_bot_process(tmp: Path, presets: Path) -> Figures:
    db = tmp / "videobot.db"
    fake = DiscordFake()
    await fake.start()
    env = {**os.environ, **fake.env(), "DISCORD_TOKEN": fake.token, "VIDEOBOT_PRESETS": str(presets)}
    bot = subprocess.Popen(
        [sys.executable, "-m", "videobot", "bot", "--database", str(db)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        await fake.wait_until_ready(timeout=60)
        while "video" not in fake.command_names():
            await asyncio.sleep(0.1)
        await generous(str(db), fake)
        await asyncio.sleep(2.5)  # discord.py waits for guilds before dispatching interactions
        return await burst(fake)
    finally:
        bot.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            bot.wait(30)
        if bot.poll() is None:
            bot.kill()
        await fake.stop()


def latency_table(runs: list[Figures], layout: str) -> None:
    print(f"## Burst of {BURST} /video from {MEMBERS} members, {layout} ({os.cpu_count()} cores)\n")
    print("| run | ack p50 ms | ack p99 ms | reply p50 ms | reply p99 ms | over 3 s |")
    print("|---|---|---|---|---|---|")
    for n, (acks, replies) in enumerate(runs, 1):
        print(
            f"| {n} | {percentile(acks, 0.5) * 1000:.0f} | {percentile(acks, 0.99) * 1000:.0f} | "
            f"{percentile(replies, 0.5) * 1000:.0f} | {percentile(replies, 0.99) * 1000:.0f} | "
            f"{sum(v > 3 for v in acks + replies)} |"
        )


async def clips_end_to_end(tmp: Path, catalog: PresetCatalog, presets: Path) -> None:
    """A few clips timed end to end with a real worker process."""
    db = tmp / "videobot.db"
    async with await open_store(str(db)) as store, bot_in_process(db, catalog) as fake:
        member = fake.add_user("member0")
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
                handle = await fake.slash_command("video", {"prompt": f"timed clip {i}"}, user=member)
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


async def run(tmp: Path, *, runs: int, in_process: bool, clips: bool) -> None:
    model = build_tiny_ltx(tmp / "tiny-ltx")
    presets = tmp / "presets.json"
    presets.write_text(json.dumps({"default": "tiny", "tiny": preset_entry("ltx-video", model)}))
    catalog = PresetCatalog.load(presets)
    figures = []
    for n in range(runs):
        folder = tmp / f"run-{n}"
        folder.mkdir()
        if in_process:
            figures.append(await burst_in_process(folder, catalog))
        else:
            figures.append(await burst_bot_process(folder, presets))
    latency_table(figures, "bot in the bench's process" if in_process else "bot in its own process")
    if clips:
        folder = tmp / "clips"
        folder.mkdir()
        await clips_end_to_end(folder, catalog, presets)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bot", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="bursts, each on a fresh store (default 3)")
    parser.add_argument("--in-process", action="store_true", help="the bot in the bench's event loop")
    parser.add_argument("--no-clips", action="store_true", help="only the bursts, no rendered clips")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp), runs=args.runs, in_process=args.in_process, clips=not args.no_clips))


if __name__ == "__main__":
    main()
