"""Outages of the job store, as members see them (real processes, real servers, the tiny LTX model):

    python -m bench.outages [--outage-s 60] [--full-s 30] [--skip-postgres] [--skip-sqlite]

1. PostgreSQL down mid-render: a throwaway cluster (``initdb``/``pg_ctl``, as tests/store/conftest.py
   starts one), a real ``videobot worker`` process and the real bot in this process against the
   Discord fake. A member runs /video; once the job renders, ``pg_ctl stop -m fast``, wait, start it
   again. Then the same outage with the worker and the bot idle.
2. SQLite disk full: the database file and the media folder on a small tmpfs (needs root), filled up
   with a filler file while a clip renders, so storing it meets ENOSPC; the filler goes after a while.
   Once with the worker's temp folder on another disk, once on the full one (encoding meets it first).

Reported per scenario: whether the worker process stayed up, the job's end, renders (claims), whether
the clip was posted once and decodes, how long after the store's return it was posted, what the status
message showed meanwhile, what /video answers during the outage, and what was lost or left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from bot.clipcheck import decode_problem
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Job, Store, open_store
from generator.worker import TEMP_PREFIX
from tests.discord_fake import DiscordFake
from tests.discord_fake.fixtures import running_fake
from tests.processes import WorkerProcess
from tests.tiny_models import build_tiny_ltx, preset_entry
from tests.tmpfs import fill
from tests.worker.conftest import PausableCluster

POLL_S = 0.1
LONG_RENDER_S = 20.0  # the render the outage lands in lasts about this long, on any machine
MIN_LONG_STEPS = 1200
SHORT_STEPS = 30


def long_steps(model: Path, seconds: float = LONG_RENDER_S) -> int:
    """Steps of the tiny pipeline that take about ``seconds`` on this machine, measured here (a step
    with and without the fixed cost of a render): a fixed count, 1,200 steps, ended in 1.9 s on a quiet
    machine, before the bench could see the job running."""
    from generator.loader import PipelineCache
    from generator.render import render

    presets = model.parent / "calibration.json"
    presets.write_text(json.dumps({"calibration": preset_entry("ltx-video", model, max_steps=100)}))
    catalog = PresetCatalog.load(presets)
    cache = PipelineCache(device="cpu")

    def timed(steps: int) -> float:
        spec = JobSpec("a storm over the sea", model="calibration", steps=steps, seed=1)
        started = time.perf_counter()
        render(spec, catalog=catalog, cache=cache)
        return time.perf_counter() - started

    timed(2)  # loads the pipeline
    per_step = max((timed(60) - timed(10)) / 50, 1e-4)
    return max(MIN_LONG_STEPS, math.ceil(seconds / per_step))


# ---- helpers ---------------------------------------------------------------------------------------


class LogCount(logging.Handler):
    """Counts log lines of the bot (in this process) that contain some words."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def count(self, words: str) -> int:
        return sum(words in line for line in self.lines)


async def until(check: Callable[[], Any], timeout: float) -> Any:
    """Poll ``check`` (sync or async) until it gives something truthy; None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the store may be away: look again
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
        await asyncio.sleep(POLL_S)
    return None


async def get_job(store: Store, job_id: int) -> Job | None:
    try:
        return await asyncio.wait_for(store.jobs.get(job_id), 5)
    except Exception:
        return None


def clip_posts(fake: DiscordFake, job_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.messages_in("general")
        if m.get("attachments")
        and any(f"#{job_id}" in e.get("footer", {}).get("text", "") for e in m["embeds"])
    ]


def clip_decodes(fake: DiscordFake, message: dict[str, Any]) -> bool:
    attachment = message["attachments"][0]
    return decode_problem(fake.attachments[attachment["id"]][1]) is None


def short(text: str, limit: int = 110) -> str:
    text = " ".join(text.replace("|", "/").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Answer:
    ack_s: float | None = None
    answer_s: float | None = None
    text: str = "(no answer)"
    ephemeral: bool = False
    queued_job: int | None = None


async def ask_video(fake: DiscordFake, prompt: str, user: str, model: str, wait_s: float = 60) -> Answer:
    """/video as ``user``: how fast it was acknowledged, and what the member was told in the end."""
    started = time.monotonic()
    handle = await fake.slash_command("video", {"prompt": prompt, "model": model}, user=user)
    result = Answer()
    with contextlib.suppress(Exception):
        await handle.wait_reply(timeout=wait_s)
    result.ack_s = handle.ack_latency
    original = handle.original
    if original is not None and not original["flags"] & 128:
        result.answer_s = time.monotonic() - started
        result.text = original["content"] or "(empty)"
        result.ephemeral = handle.ephemeral
        if "#" in result.text and "Queued" in result.text:
            with contextlib.suppress(ValueError):
                result.queued_job = int(result.text.split("#")[1].split(":")[0].split()[0])
    return result


def answer_cells(answer: Answer) -> tuple[str, str]:
    ack = "never" if answer.ack_s is None else f"{answer.ack_s:.2f} s"
    answered = "never" if answer.answer_s is None else f"{answer.answer_s:.1f} s"
    where = "ephemeral" if answer.ephemeral else "public"
    return f"{ack} (final answer after {answered}, {where})", short(answer.text)


class StatusWatch:
    """Every distinct text a status message showed, with when."""

    def __init__(self, fake: DiscordFake) -> None:
        self.fake = fake
        self.seen: list[tuple[float, str]] = []
        self.message_id: str | None = None

    def look(self, job_id: int) -> None:
        if self.message_id is None:
            for m in self.fake.messages_in("general"):
                if f"#{job_id}" in m["content"] or any(
                    f"#{job_id}" in e.get("footer", {}).get("text", "") for e in m.get("embeds", [])
                ):
                    self.message_id = m["id"]
                    break
        if self.message_id is None:
            return
        text = self.fake.message(self.message_id)["content"]
        if not self.seen or self.seen[-1][1] != text:
            self.seen.append((time.monotonic(), text))

    def between(self, start: float, end: float) -> str:
        """The texts shown at some moment in [start, end] (the one showing at start, then the edits),
        each from the job's number on (the prompt and the mention before it are the same throughout)."""
        shown = [text for at, text in self.seen if at <= start][-1:]
        shown += [text for at, text in self.seen if start < at <= end]
        tails = [short(text.split("· ", 1)[-1], 80) for text in dict.fromkeys(shown)]
        return " → ".join(f"“{tail}”" for tail in tails) or "(none)"


class Bot:
    """The real VideoBot in this event loop against the fake."""

    def __init__(self, fake: DiscordFake, database: str, catalog: PresetCatalog) -> None:
        self.fake, self.database, self.catalog = fake, database, catalog
        self.bot: VideoBot | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> VideoBot:
        config = BotConfig(token=self.fake.token, database_url=self.database)
        self.bot = VideoBot(config, self.catalog, guild_ready_timeout=0.1)
        self.task = asyncio.create_task(self.bot.start(config.token))
        await self.fake.wait_until_ready()
        await asyncio.wait_for(self.bot.wait_until_ready(), 30)
        return self.bot

    def alive(self) -> bool:
        return (
            self.bot is not None
            and not self.bot.is_closed()
            and self.task is not None
            and not self.task.done()
        )

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 30)


async def wait_worker_ready(store: Store, worker: WorkerProcess, timeout: float = 180) -> None:
    async def ready() -> bool:
        assert worker.process is not None and worker.process.poll() is None, worker.log()[-3000:]
        return any(w.state == "ready" for w in await store.workers.live_workers())

    if not await until(ready, timeout):
        raise RuntimeError(f"the worker never became ready:\n{worker.log()[-3000:]}")


async def stop_worker(worker: WorkerProcess) -> str:
    """SIGTERM, as a supervisor stops it: how long it took to exit, and its exit status."""
    process = worker.process
    if process is None or process.poll() is not None:
        return "not running"
    started = time.monotonic()
    process.terminate()
    try:
        code = await asyncio.to_thread(process.wait, 60)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait, 30)
        return f"still running {time.monotonic() - started:.0f} s after SIGTERM: killed"
    return f"{time.monotonic() - started:.1f} s, exit status {code}"


def worker_up(worker: WorkerProcess) -> str:
    process = worker.process
    if process is None:
        return "never started"
    code = process.poll()
    return "yes" if code is None else f"no (exit {code})"


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}\n")
    print("| measure | result |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    sys.stdout.flush()


@dataclass
class Claims:
    """Each claim of a job seen (its started_at), while the store answers."""

    seen: set[float] = field(default_factory=set)

    async def look(self, store: Store, job_id: int) -> Job | None:
        job = await get_job(store, job_id)
        if job is not None and job.state == "running" and job.started_at is not None:
            self.seen.add(job.started_at)
        return job


# ---- 1. PostgreSQL down ----------------------------------------------------------------------------


async def postgres_mid_render(
    cluster: PausableCluster, presets: Path, catalog: PresetCatalog, outage_s: float
) -> None:
    url = await cluster.new_database()
    store = await open_store(url)  # the bench's own connection: to look, not to act
    await store.close()
    async with running_fake() as fake:
        fake.add_user("alice")
        fake.add_user("bob")
        bot_log = LogCount()
        logging.getLogger("bot").addHandler(bot_log)
        runner = Bot(fake, url, catalog)
        worker = WorkerProcess(url, presets)
        store = await open_store(url)
        try:
            await runner.start()
            worker.start()
            await wait_worker_ready(store, worker)
            asked = await ask_video(fake, "a storm over the sea", "alice", "tiny-long")
            job_id = asked.queued_job
            assert job_id is not None, asked.text
            claims = Claims()
            status = StatusWatch(fake)

            async def rendering() -> bool:
                status.look(job_id)
                job = await claims.look(store, job_id)
                return job is not None and job.state == "running" and job.step >= 1

            if not await until(rendering, 120):
                raise RuntimeError(f"job {job_id} never rendered:\n{worker.log()[-3000:]}")
            running = await store.jobs.get(job_id)
            assert running is not None
            step_before, long_total = running.step, running.total_steps
            await asyncio.to_thread(cluster.pause)
            down_at = time.monotonic()
            during: Answer | None = None

            async def ask_during() -> None:
                nonlocal during
                await asyncio.sleep(min(10.0, outage_s / 3))
                during = await ask_video(fake, "a calm lake", "bob", "tiny", wait_s=outage_s)

            asker = asyncio.create_task(ask_during())
            while time.monotonic() - down_at < outage_s:
                status.look(job_id)
                await asyncio.sleep(POLL_S)
            await asyncio.to_thread(cluster.resume)
            back_at = time.monotonic()
            await asker

            async def posted() -> bool:
                status.look(job_id)
                await claims.look(store, job_id)
                return bool(clip_posts(fake, job_id))

            await until(posted, 180)
            posted_at = time.monotonic()
            # anything still coming (a second post, a re-render)?
            await until(lambda: len(clip_posts(fake, job_id)) > 1, 8)
            final = await get_job(store, job_id)
            posts = clip_posts(fake, job_id)
            later: Answer | None = None
            if during is not None and during.queued_job is not None:
                queued_later = during.queued_job
                later_job = await until(lambda: _ended(store, queued_later), 120)
                later = Answer(text=f"job #{queued_later} {later_job.state if later_job else 'never ended'}")
            worker_log = worker.log()
            rows: list[tuple[str, str]] = [
                ("render when the database went down", f"step {step_before} of {long_total}"),
                ("worker process stayed up", worker_up(worker)),
                ("bot stayed up", "yes" if runner.alive() else "no"),
                ("job's final state", _state(final)),
                (
                    "renders (claims seen)",
                    f"{len(claims.seen)} (attempts {final.attempts if final else '?'})",
                ),
                (
                    "clip posted exactly once, decodes",
                    f"{len(posts)} post(s), "
                    + (
                        "decodes"
                        if posts and all(clip_decodes(fake, m) for m in posts)
                        else "does not decode"
                    ),
                ),
                (
                    "database back → clip posted",
                    f"{posted_at - back_at:.1f} s" if posts else "never",
                ),
                (
                    "status message during the outage",
                    status.between(down_at, back_at),
                ),
                (
                    "status message after",
                    status.between(back_at, posted_at),
                ),
            ]
            if during is not None:
                ack, text = answer_cells(during)
                rows += [("/video during the outage: ack", ack), ("/video during the outage: answer", text)]
                if later is not None:
                    rows.append(("that job after the outage", later.text))
            rows += [
                (
                    "worker log: unreachable / reachable again lines",
                    f"{worker_log.count('job store unreachable')} / {worker_log.count('reachable again')}",
                ),
                (
                    "bot log: delivery paused / store back lines",
                    f"{bot_log.count('delivery paused')} / {bot_log.count('delivery going again')}",
                ),
            ]
            rows.append(("worker exit on SIGTERM afterwards", await stop_worker(worker)))
            print_table(f"PostgreSQL down {outage_s:.0f} s mid-render (1 worker, CPU)", rows)
        finally:
            logging.getLogger("bot").removeHandler(bot_log)
            worker.stop()
            await runner.stop()
            with contextlib.suppress(Exception):
                await store.close()


async def _ended(store: Store, job_id: int) -> Job | None:
    job = await get_job(store, job_id)
    return job if job is not None and job.state in ("done", "failed", "cancelled") and job.posted else None


def _state(job: Job | None) -> str:
    if job is None:
        return "unknown"
    if job.state == "failed":
        return f"failed ({job.error_code}: {short(job.error or '', 60)})"
    return job.state + (", posted" if job.posted else "")


async def postgres_idle(
    cluster: PausableCluster, presets: Path, catalog: PresetCatalog, outage_s: float
) -> None:
    url = await cluster.new_database()
    async with running_fake() as fake:
        bot_log = LogCount()
        logging.getLogger("bot").addHandler(bot_log)
        runner = Bot(fake, url, catalog)
        worker = WorkerProcess(url, presets)
        store = await open_store(url)
        try:
            await runner.start()
            worker.start()
            await wait_worker_ready(store, worker)
            await asyncio.to_thread(cluster.pause)
            await asyncio.sleep(outage_s)
            await asyncio.to_thread(cluster.resume)
            back_at = time.monotonic()
            asked = await ask_video(fake, "a fox after the outage", "owner", "tiny")
            job_id = asked.queued_job
            posted = None
            if job_id is not None:
                posted = await until(lambda: clip_posts(fake, job_id), 120)
            posted_at = time.monotonic()
            final = None if job_id is None else await get_job(store, job_id)
            worker_log = worker.log()
            ack, text = answer_cells(asked)
            rows = [
                ("worker process stayed up", worker_up(worker)),
                ("bot stayed up", "yes" if runner.alive() else "no"),
                ("/video right after the return: ack", ack),
                ("/video right after the return: answer", text),
                ("that job's final state", _state(final)),
                (
                    "database back → clip posted",
                    f"{posted_at - back_at:.1f} s" if posted else "never",
                ),
                (
                    "clip posted exactly once, decodes",
                    "-"
                    if job_id is None
                    else f"{len(clip_posts(fake, job_id))} post(s), "
                    + ("decodes" if posted and all(clip_decodes(fake, m) for m in posted) else "no clip"),
                ),
                (
                    "worker log: unreachable / reachable again lines",
                    f"{worker_log.count('job store unreachable')} / {worker_log.count('reachable again')}",
                ),
                (
                    "bot log: delivery paused / store back lines",
                    f"{bot_log.count('delivery paused')} / {bot_log.count('delivery going again')}",
                ),
            ]
            rows.append(("worker exit on SIGTERM afterwards", await stop_worker(worker)))
            print_table(f"PostgreSQL down {outage_s:.0f} s, worker and bot idle", rows)
        finally:
            logging.getLogger("bot").removeHandler(bot_log)
            worker.stop()
            await runner.stop()
            with contextlib.suppress(Exception):
                await store.close()


# ---- 2. SQLite disk full ---------------------------------------------------------------------------


def leftovers(media: Path, tmpdir: Path) -> list[str]:
    found = [p.name for p in media.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    found += [p.name for p in tmpdir.iterdir() if p.name.startswith(TEMP_PREFIX)]
    return found


async def sqlite_disk_full(
    tmp: Path, presets: Path, catalog: PresetCatalog, full_s: float, *, temp_on_disk: bool
) -> None:
    """``temp_on_disk``: the worker's temp folder (frames, the mp4 being encoded) is on the full disk
    too, as /tmp is on a one-disk machine; else on another disk, so only storing the clip meets it."""
    if os.geteuid() != 0:
        print("\n## SQLite disk full\n\nskipped: mounting a small tmpfs needs root")
        return
    disk = tmp / f"disk-{int(temp_on_disk)}"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True)
    try:
        worker_tmp = disk / "tmp" if temp_on_disk else tmp / "worker-tmp"
        worker_tmp.mkdir()
        where = "on the full disk too" if temp_on_disk else "on another disk"
        await _sqlite_disk_full(disk, worker_tmp, presets, catalog, full_s, where)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


async def _sqlite_disk_full(
    disk: Path, worker_tmp: Path, presets: Path, catalog: PresetCatalog, full_s: float, where: str
) -> None:
    database = str(disk / "videobot.db")
    media_dir = disk / "media"
    async with running_fake() as fake:
        for name in ("alice", "bob", "carol"):
            fake.add_user(name)
        bot_log = LogCount()
        logging.getLogger("bot").addHandler(bot_log)
        runner = Bot(fake, database, catalog)
        worker = WorkerProcess(database, presets, env={"TMPDIR": str(worker_tmp)})
        filler = disk / "filler"
        store: Store | None = None
        try:
            await runner.start()
            store = await open_store(database)
            worker.start()
            await wait_worker_ready(store, worker)
            # one clip stored and posted before anything goes wrong
            first = await ask_video(fake, "a lighthouse", "carol", "tiny")
            assert first.queued_job is not None, first.text
            first_id = first.queued_job
            await until(lambda: clip_posts(fake, first_id), 120)
            before = await store.jobs.get_media(first_id)
            asked = await ask_video(fake, "a storm over the sea", "alice", "tiny-long")
            job_id = asked.queued_job
            assert job_id is not None, asked.text
            claims = Claims()
            status = StatusWatch(fake)
            s = store

            async def rendering() -> bool:
                status.look(job_id)
                job = await claims.look(s, job_id)
                return job is not None and job.state == "running" and job.step >= 1

            if not await until(rendering, 120):
                raise RuntimeError(f"job {job_id} never rendered:\n{worker.log()[-3000:]}")
            waiting = await ask_video(fake, "a queued cat", "bob", "tiny")  # queued behind it
            filled = await asyncio.to_thread(fill, filler)
            full_at = time.monotonic()
            during = await ask_video(fake, "a cat on a full disk", "carol", "tiny", wait_s=full_s)
            job_during = None
            while time.monotonic() - full_at < full_s:
                status.look(job_id)
                job_during = await claims.look(store, job_id) or job_during
                await asyncio.sleep(POLL_S)
            left_while_full = leftovers(media_dir, worker_tmp)
            state_while_full = _state(await get_job(store, job_id))
            filler.unlink()
            freed_at = time.monotonic()

            async def ended() -> bool:
                status.look(job_id)
                job = await claims.look(s, job_id)
                return job is not None and job.state in ("done", "failed") and job.posted

            await until(ended, 180)
            ended_at = time.monotonic()
            final = await get_job(store, job_id)
            posts = clip_posts(fake, job_id)
            queued_end = None
            if waiting.queued_job is not None:
                wait_id = waiting.queued_job
                queued_end = await until(lambda: _ended(s, wait_id), 120)
            await asyncio.sleep(2)
            after = await store.jobs.get_media(first_id)
            first_job = await get_job(store, first_id)
            worker_log = worker.log()
            ack, text = answer_cells(during)
            rows = [
                ("filler written", f"{filled / 1024**2:.1f} MiB (disk 8 MiB, full for {full_s:.0f} s)"),
                ("worker process stayed up", worker_up(worker)),
                ("bot stayed up", "yes" if runner.alive() else "no"),
                ("job while the disk was full", state_while_full),
                ("job's final state", _state(final)),
                (
                    "renders (claims seen)",
                    f"{len(claims.seen)} (attempts {final.attempts if final else '?'})",
                ),
                (
                    "clip posted exactly once, decodes",
                    f"{len(posts)} post(s), "
                    + (
                        "decodes" if posts and all(clip_decodes(fake, m) for m in posts) else "no clip posted"
                    ),
                ),
                ("disk freed → job ended and posted", f"{ended_at - freed_at:.1f} s"),
                (
                    "status message while full",
                    status.between(full_at, freed_at),
                ),
                (
                    "status message after",
                    status.between(freed_at, ended_at),
                ),
                ("/video while full: ack", ack),
                ("/video while full: answer", text),
                ("partial/temp files while full", ", ".join(left_while_full) or "none"),
                ("partial/temp files after", ", ".join(leftovers(media_dir, worker_tmp)) or "none"),
                (
                    "clip stored before: still there, same bytes",
                    "yes"
                    if before is not None and after is not None and before.video == after.video
                    else "no",
                ),
                ("job stored before: state after", _state(first_job)),
                ("job queued before the fill: end", _state(queued_end)),
                (
                    "worker log: unreachable / reachable again lines",
                    f"{worker_log.count('job store unreachable')} / {worker_log.count('reachable again')}",
                ),
                (
                    "bot log: delivery paused / store back lines",
                    f"{bot_log.count('delivery paused')} / {bot_log.count('delivery going again')}",
                ),
            ]
            rows.append(("worker exit on SIGTERM afterwards", await stop_worker(worker)))
            print_table(
                f"SQLite disk full for {full_s:.0f} s while a clip renders (tmpfs 8 MiB; "
                f"the worker's temp folder {where})",
                rows,
            )
            if "store_failed" in worker_log or "Traceback" in worker_log:
                tail = [line for line in worker_log.splitlines() if "rror" in line][-6:]
                print("\nworker log, errors:\n\n" + "\n".join(f"    {line}" for line in tail))
        finally:
            logging.getLogger("bot").removeHandler(bot_log)
            with contextlib.suppress(OSError):
                filler.unlink()
            worker.stop()
            await runner.stop()
            if store is not None:
                with contextlib.suppress(Exception):
                    await store.close()


# ---- main ------------------------------------------------------------------------------------------


async def run(tmp: Path, args: argparse.Namespace) -> None:
    model = build_tiny_ltx(tmp / "tiny-ltx")
    steps = long_steps(model)
    print(f"the long render: {steps} steps (about {LONG_RENDER_S:g} s here)", flush=True)
    presets = tmp / "presets.json"
    presets.write_text(
        json.dumps(
            {
                "default": "tiny",
                "tiny": preset_entry("ltx-video", model, default_steps=SHORT_STEPS, max_steps=SHORT_STEPS),
                "tiny-long": preset_entry(
                    "ltx-video", model, title="Tiny long", default_steps=steps, max_steps=steps
                ),
            }
        )
    )
    catalog = PresetCatalog.load(presets)
    if not args.skip_postgres:
        cluster = PausableCluster()
        try:
            cluster.start()
            await postgres_mid_render(cluster, presets, catalog, args.outage_s)
            await postgres_idle(cluster, presets, catalog, args.outage_s)
        finally:
            with contextlib.suppress(RuntimeError):
                cluster.stop()
    if not args.skip_sqlite:
        await sqlite_disk_full(tmp, presets, catalog, args.full_s, temp_on_disk=False)
        await sqlite_disk_full(tmp, presets, catalog, args.full_s, temp_on_disk=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outage-s", type=float, default=60.0, help="how long PostgreSQL is down")
    parser.add_argument("--full-s", type=float, default=30.0, help="how long the SQLite disk stays full")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("bot").setLevel(logging.INFO)  # the delivery loop says "delivery going again" at INFO
    os.environ.pop("DISCORD_TOKEN", None)
    tmp = Path(tempfile.mkdtemp(prefix="videobot-outages-"))
    try:
        asyncio.run(run(tmp, args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
