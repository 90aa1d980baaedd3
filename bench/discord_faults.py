"""What members see when the bot or Discord fails (real processes, the spec-checked Discord on loopback,
the real SQLite store; this process acts as the GPU worker, storing a real playable mp4 per job):

    python -m bench.discord_faults [--kills 20] [--jobs 120] [--rate 2] [--scenarios all]

1. kill -9 of the bot: `videobot bot` runs as a child process; jobs queued through /video (so each has
   its status message) are finished at a steady rate while the bot is SIGKILLed at random moments
   during delivery and started again. Counted per job at the end: clip messages carrying its video
   (duplicates, missing), threads per clip, status messages nobody will edit (orphans), jobs marked
   posted without a message; and the seconds from a restart to the first clip posted.
2. Discord faults, the real VideoBot in this process: 429 storms (per route and global), 5xx bursts
   longer than discord.py's own retries, 413 on the clip upload, gateway drops (resumable,
   non-resumable, op 7). For each: what the member saw (ack latency, the private reply, the status
   message, the delay until the clip, any error) and whether anything was lost or posted twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.store import JobResult, Store, open_store
from tests.discord_fake import DiscordFake, point_discord_py_at
from tests.discord_fake.interactions import InteractionHandle
from tests.mp4probe import make_clip
from tests.tiny_models import build_tiny_ltx, preset_entry

MODEL = "tiny"
GPU = "bench-gpu"
MEMBERS = 8
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
MESSAGES = "/channels/{channel_id}/messages"
HEADER = re.compile(r"· #(\d+)\s*$", re.MULTILINE)  # the last part of a status message's first line
EPHEMERAL = 64


@dataclass
class World:
    tmp: Path
    presets: Path
    catalog: PresetCatalog
    mp4: bytes


def setup(tmp: Path) -> World:
    model = build_tiny_ltx(tmp / "tiny-ltx")
    presets = tmp / "presets.json"
    presets.write_text(json.dumps({"default": MODEL, MODEL: preset_entry("ltx-video", model)}))
    clip = make_clip(tmp / "clip.mp4", size=(64, 48), seconds=1.0, tone=None)
    return World(tmp, presets, PresetCatalog.load(presets), clip.read_bytes())


async def open_world_store(db: Path, fake: DiscordFake) -> Store:
    store = await open_store(str(db))
    await store.settings.update_settings(
        int(fake.guild.id), max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=100
    )
    await store.workers.register_worker(GPU, "bench-host", "cpu", [MODEL])
    return store


async def render(store: Store, mp4: bytes) -> int | None:
    """One job done, as a worker does it (claim, store the clip, finish); its id, None if none queued."""
    job = await store.jobs.claim_next(GPU, [MODEL])
    if job is None:
        return None
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, GPU, JobResult(ref, len(mp4), 64, 48, 24, 24.0, 1.0))
    return job.id


def job_of_reply(handle: InteractionHandle) -> int | None:
    original = handle.original
    if original is None or original["flags"] & 128:  # no answer, or still "thinking…"
        return None
    match = re.search(r"#(\d+)", str(original["content"]))
    return int(match.group(1)) if match else None


def clip_messages_of(fake: DiscordFake, channel: str = "general") -> dict[int, list[dict[str, Any]]]:
    """job id -> the channel's messages (current state, edits included) carrying its video."""
    found: dict[int, list[dict[str, Any]]] = {}
    for message in fake.messages_in(channel):
        for attachment in message.get("attachments") or []:
            match = re.fullmatch(r"videobot-(\d+)\.mp4", attachment["filename"])
            if match:
                found.setdefault(int(match.group(1)), []).append(message)
    return found


@dataclass
class Tally:
    jobs: int = 0
    done: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    missing: int = 0
    extra_threads: int = 0
    clips_without_thread: int = 0
    orphans: int = 0
    posted_without_message: int = 0
    unposted: int = 0


async def tally(fake: DiscordFake, store: Store) -> Tally:
    out = Tally()
    clips = clip_messages_of(fake)
    jobs = []
    job_id = 1
    while (job := await store.jobs.get(job_id)) is not None:
        jobs.append(job)
        job_id += 1
    by_id = {j.id: j for j in jobs}
    out.jobs = len(jobs)
    thread_ids = {t.id for t in fake.threads("general")}
    for job in jobs:
        messages = clips.get(job.id, [])
        if job.state == "done":
            out.done += 1
            out.missing += not messages
            out.duplicates += max(0, len(messages) - 1)
            if messages and not any(str(m["id"]) in thread_ids for m in messages):
                out.clips_without_thread += 1
        elif job.state == "failed":
            out.failed[job.error_code or "?"] += 1
        if job.posted and job.message_id is not None and str(job.message_id) not in fake.messages:
            out.posted_without_message += 1
        out.unposted += job.state in ("done", "failed") and not job.posted
    clip_ids = {str(m["id"]) for ms in clips.values() for m in ms}
    out.extra_threads = len(thread_ids - clip_ids)
    for message in fake.messages_in("general"):
        if message["author"]["id"] != fake.bot_user.id or message["flags"] & EPHEMERAL:
            continue
        if message.get("attachments"):
            continue
        match = HEADER.search(str(message["content"]).split("\n", 1)[0])
        if match is None:
            continue
        job = by_id.get(int(match.group(1)))
        if job is None or job.message_id is None or str(job.message_id) != str(message["id"]):
            out.orphans += 1  # a status message nobody edits: its job is posted elsewhere, or not at all
    return out


async def wait_for(check: Callable[[], Awaitable[bool] | bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.05)
    return False


async def all_posted(store: Store) -> bool:
    return not await store.jobs.unposted() and not await store.jobs.active_jobs(limit=1)


# == 1. kill -9 of the bot ==========================================================================


class BotProcess:
    def __init__(self, world: World, fake: DiscordFake, db: Path) -> None:
        self.env = {
            **os.environ,
            **fake.env(),
            "DISCORD_TOKEN": fake.token,
            "VIDEOBOT_PRESETS": str(world.presets),
        }
        self.argv = [sys.executable, "-m", "videobot", "bot", "--database", str(db)]
        self.log = (world.tmp / "bot.log").open("ab")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.log.name.rsplit("/", 1)[0],
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def clip_posts_since(fake: DiscordFake, index: int) -> int:
    """Clip uploads Discord accepted among the requests from ``index`` on."""
    return sum(
        1
        for r in fake.requests[index:]
        if r.files and r.status == 200 and r.template in (MESSAGE, MESSAGES) and not r.injected
    )


def posted_since(fake: DiscordFake, index: int) -> Callable[[], bool]:
    return lambda: clip_posts_since(fake, index) > 0


async def bot_kills(world: World, kills: int, jobs: int, rate: float, seed: int) -> None:
    rng = random.Random(seed)
    fake = await DiscordFake().start()
    db = world.tmp / "kills.db"
    store = await open_world_store(db, fake)
    members = [fake.add_user(f"member{i}") for i in range(MEMBERS)]
    bot = BotProcess(world, fake, db)
    restarts: list[float] = []  # seconds from each restart to its first clip posted
    probes: list[InteractionHandle] = []  # /video sent while the bot was being killed and restarted

    async def start_bot() -> tuple[float, int]:
        fake.gateway.ready.clear()
        started, index = time.monotonic(), len(fake.requests)
        bot.start()
        await fake.wait_until_ready(timeout=60)
        return started, index

    try:
        await start_bot()
        assert await wait_for(lambda: "video" in fake.command_names(), 60), "commands never synced"
        await asyncio.sleep(2.5)  # discord.py waits for the guilds before it dispatches interactions
        handles = []
        for i in range(jobs):
            handles.append(
                await fake.slash_command("video", {"prompt": f"clip {i}"}, user=members[i % MEMBERS])
            )
            await asyncio.sleep(0.02)
        assert await wait_for(lambda: all(job_of_reply(h) for h in handles), 120), "not every /video answered"
        ids = [job_of_reply(h) for h in handles]

        async def statuses_recorded() -> bool:
            found = [await store.jobs.get(i) for i in ids if i is not None]
            return all(j is not None and j.status_message_id is not None for j in found)

        await wait_for(statuses_recorded, 60)

        stop = asyncio.Event()

        async def gpu() -> None:  # the worker: one clip every 1/rate seconds
            while not stop.is_set():
                await render(store, world.mp4)
                await store.workers.worker_heartbeat(GPU)
                await asyncio.sleep(1 / rate)

        worker = asyncio.create_task(gpu())
        index = len(fake.requests)
        await wait_for(posted_since(fake, index), 60)
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.0, 2.0))  # somewhere in the middle of delivery
            if rng.random() < 0.5:  # a member asks for a clip as the bot goes down
                probes.append(
                    await fake.slash_command("video", {"prompt": "probe"}, user=rng.choice(members))
                )
                await asyncio.sleep(rng.uniform(0.0, 0.3))
            bot.kill()
            started, index = await start_bot()
            if len(await store.jobs.active_jobs(limit=1000)) < 10:  # keep clips coming: members ask for more
                await asyncio.sleep(2.5)  # the new bot dispatches interactions once its guilds are in
                for i in range(10):
                    await fake.slash_command("video", {"prompt": f"more {i}"}, user=members[i % MEMBERS])
            if await wait_for(posted_since(fake, index), 60):
                restarts.append(time.monotonic() - started)
        stop.set()
        await worker
        while await render(store, world.mp4) is not None:  # the rest of the backlog
            pass
        drained = await wait_for(lambda: all_posted(store), 180)
        await asyncio.sleep(2.0)  # let a last edit land before counting
        result = await tally(fake, store)
    finally:
        bot.stop()
        await store.close()
        await fake.stop()
    unanswered = sum(1 for h in probes if h.ack_latency is None)
    print(f"## kill -9 of the bot: {kills} kills while {result.jobs} jobs were posted (SQLite, subprocess)\n")
    print("| measure | result | goal |")
    print("|---|---|---|")
    print(f"| clips posted twice (extra messages with the same video) | {result.duplicates} | 0 |")
    print(f"| done clips missing from the channel | {result.missing} | 0 |")
    print(
        f"| jobs not posted after the drain | {result.unposted}"
        f"{'' if drained else ' (drain timed out)'} | 0 |"
    )
    print(
        "| clips without their thread; extra threads | "
        f"{result.clips_without_thread}; {result.extra_threads} | 0; 0 |"
    )
    print(f"| status messages nobody edits (orphans) | {result.orphans} | 0 |")
    print(f"| jobs marked posted without a message | {result.posted_without_message} | 0 |")
    print(f"| jobs failed | {sum(result.failed.values())} {dict(result.failed) or ''} | 0 |")
    print(
        f"| /video sent just before a kill: answered, not answered | "
        f"{len(probes) - unanswered}, {unanswered} | - |"
    )
    if restarts:
        print(
            f"| restart → first clip posted, s: median, max | "
            f"{statistics.median(restarts):.1f}, {max(restarts):.1f} |  |"
        )
    print()


# == 2. Discord faults ==============================================================================


@dataclass
class Scenario:
    name: str
    arm: Callable[[DiscordFake], Awaitable[None]]
    during: Callable[[DiscordFake], Awaitable[None]] | None = None  # mid-burst (gateway faults)


def faults(*specs: tuple[str, str, int, int, dict[str, Any]]) -> Callable[[DiscordFake], Awaitable[None]]:
    async def arm(fake: DiscordFake) -> None:
        for method, template, status, times, options in specs:
            fake.fail_next(method, template, status, times=times, **options)

    return arm


async def nothing(fake: DiscordFake) -> None:
    return None


async def smaller_uploads(fake: DiscordFake) -> None:
    fake.guild.upload_limit_bytes = 1000  # Discord answers 413, code 40005, to a bigger file


SCENARIOS = [
    Scenario("no faults", nothing),
    Scenario(
        "429 storm: 40 on message edit + 40 on create, retry_after 0.1 s",
        faults(
            ("PATCH", MESSAGE, 429, 40, {"retry_after": 0.1}),
            ("POST", MESSAGES, 429, 40, {"retry_after": 0.1}),
        ),
    ),
    Scenario(
        "global 429 storm: 30 on create, retry_after 0.2 s",
        faults(("POST", MESSAGES, 429, 30, {"retry_after": 0.2, "is_global": True, "scope": "global"})),
    ),
    Scenario(
        "502 burst: 12 on edit + 12 on create",
        faults(("PATCH", MESSAGE, 502, 12, {}), ("POST", MESSAGES, 502, 12, {})),
    ),
    Scenario(
        "503 burst: 12 on edit + 12 on create",
        faults(("PATCH", MESSAGE, 503, 12, {}), ("POST", MESSAGES, 503, 12, {})),
    ),
    Scenario("500 burst: 12 on edit", faults(("PATCH", MESSAGE, 500, 12, {}))),
    Scenario("413 on every clip upload (the server's upload limit is 1 KB)", smaller_uploads),
]


def gateway_scenarios() -> list[Scenario]:
    async def resumable(fake: DiscordFake) -> None:
        await fake.drop_gateway(4000)

    async def not_resumable(fake: DiscordFake) -> None:
        await fake.drop_gateway(4009, resumable=False)

    async def reconnect(fake: DiscordFake) -> None:
        await fake.request_reconnect()

    return [
        Scenario("gateway drop, resumable (4000)", nothing, resumable),
        Scenario("gateway drop, not resumable (4009, session forgotten)", nothing, not_resumable),
        Scenario("gateway op 7 RECONNECT", nothing, reconnect),
    ]


@dataclass
class Seen:
    name: str
    commands: int = 0
    acks: list[float] = field(default_factory=list)
    replies: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    clip_delays: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicates: int = 0
    unanswered: int = 0


def gist(text: str) -> str:
    """A member-visible text with the job-specific parts generalised, for counting."""
    text = re.sub(r"#\d+", "#N", text)
    text = re.sub(r"\*\*.*?\*\* — <@\d+> · ", "", text)
    text = re.sub(r"position \d+", "position P", text)
    text = re.sub(r"about [\d.]+ \w+", "about T", text)
    return " ".join(text.split())[:90]


async def one_scenario(world: World, scenario: Scenario, commands: int) -> Seen:
    seen = Seen(scenario.name, commands)
    fake = await DiscordFake().start()
    restore = point_discord_py_at(fake.api_url, fake.gateway_url)
    db = world.tmp / f"scenario-{abs(hash(scenario.name))}.db"
    store = await open_world_store(db, fake)
    config = BotConfig(token=fake.token, database_url=str(db))
    bot = VideoBot(config, world.catalog, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(config.token))
    try:
        await fake.wait_until_ready()
        await bot.wait_until_ready()
        members = [fake.add_user(f"member{i}") for i in range(MEMBERS)]
        await asyncio.sleep(0.5)
        await scenario.arm(fake)
        handles: list[InteractionHandle] = []
        finished: dict[int, float] = {}
        for i in range(commands):
            if scenario.during is not None and i == commands // 2:
                await scenario.during(fake)
            handles.append(
                await fake.slash_command("video", {"prompt": f"clip {i}"}, user=members[i % MEMBERS])
            )
            await asyncio.sleep(0.3)
        await wait_for(lambda: all(h.ack_latency is not None for h in handles), 10)
        await wait_for(lambda: all(job_of_reply(h) for h in handles), 15)
        ids = {job_of_reply(h) for h in handles} - {None}
        for _ in ids:  # the GPU: each job rendered as soon as it is queued
            job_id = await render(store, world.mp4)
            if job_id is not None:
                finished[job_id] = time.monotonic()
        posted_at: dict[int, float] = {}
        deadline = time.monotonic() + 120

        while time.monotonic() < deadline and len(posted_at) < len(finished):
            clips = clip_messages_of(fake)
            for job_id in finished:
                job = await store.jobs.get(job_id)
                if job_id not in posted_at and (
                    clips.get(job_id) or (job is not None and job.state == "failed" and job.posted)
                ):
                    posted_at[job_id] = time.monotonic()
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        fake.faults.clear()
        clips = clip_messages_of(fake)
        for h in handles:
            if h.ack_latency is None:
                seen.unanswered += 1
                continue
            seen.acks.append(h.ack_latency)
            seen.replies[gist(str((h.original or {}).get("content", "")))] += 1
        for job_id, at in finished.items():
            job = await store.jobs.get(job_id)
            assert job is not None
            if job.status_message_id is not None:
                first = fake.message_versions.get(str(job.status_message_id), [{}])[0]
                seen.statuses[gist(str(first.get("content", "")).split("\n")[-1])] += 1
                now = fake.messages.get(str(job.status_message_id), {})
                if "❌" in str(now.get("content", "")):
                    seen.errors[gist(str(now["content"]).split("\n")[-1])] += 1
            else:
                seen.statuses["(no status message)"] += 1
            if job.state == "failed":
                seen.errors.setdefault(f"job failed: {job.error_code}", 0)
            messages = clips.get(job_id, [])
            seen.duplicates += max(0, len(messages) - 1)
            if job.state == "done" and not messages:
                seen.lost += 1
            if job_id in posted_at and messages:
                seen.clip_delays.append(posted_at[job_id] - at)
        seen.lost += len(handles) - seen.unanswered - len(ids)  # answered, but no job id in the reply
    finally:
        await bot.close()
        await task
        restore()
        await fake.stop()
        await store.close()
    return seen


def print_scenario(seen: Seen) -> None:
    def counted(c: Counter[str]) -> str:
        return "; ".join(f"{n}× “{text}”" for text, n in c.most_common()) or "-"

    print(f"## {seen.name}\n")
    print("| what the member saw | result |")
    print("|---|---|")
    if seen.acks:
        acks = sorted(seen.acks)
        median, top = statistics.median(acks) * 1000, acks[-1] * 1000
        print(f"| /video ack, ms: median, max ({seen.commands} commands) | {median:.0f}, {top:.0f} |")
    print(f"| /video never acknowledged (“The application did not respond”) | {seen.unanswered} |")
    print(f"| private reply | {counted(seen.replies)} |")
    print(f"| status message, first text | {counted(seen.statuses)} |")
    if seen.clip_delays:
        print(
            f"| job done → clip in the channel, s: median, max | "
            f"{statistics.median(seen.clip_delays):.1f}, {max(seen.clip_delays):.1f} |"
        )
    print(f"| errors shown | {counted(seen.errors)} |")
    print(f"| clips lost; posted twice | {seen.lost}; {seen.duplicates} |")
    print()


async def run(args: argparse.Namespace, tmp: Path) -> None:
    world = setup(tmp)
    if args.kills > 0:
        await bot_kills(world, args.kills, args.jobs, args.rate, args.seed)
    scenarios = SCENARIOS + gateway_scenarios()
    if args.scenarios != "all":
        wanted = args.scenarios.split(",")
        scenarios = [s for s in scenarios if any(w in s.name for w in wanted)]
    for scenario in scenarios:
        print_scenario(await one_scenario(world, scenario, args.commands))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the bot (0: skip)")
    parser.add_argument("--jobs", type=int, default=120, help="jobs queued for the kill run")
    parser.add_argument("--rate", type=float, default=2.0, help="clips finished per second in the kill run")
    parser.add_argument("--commands", type=int, default=6, help="/video per fault scenario")
    parser.add_argument("--scenarios", default="all", help="comma-separated name parts, or 'all'")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
