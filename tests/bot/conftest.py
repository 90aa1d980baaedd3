"""End to end: the real bot (in this process) and a real worker process, against the Discord fake."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import VideoBot
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.store import Job, Store, open_store
from tests.discord_fake import DiscordFake
from tests.discord_fake.fixtures import discord_fake
from tests.processes import WorkerProcess

__all__ = ["WorkerProcess", "discord_fake"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "videobot.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """The test's own connection to the bot's job store (to look, not to act for the bot)."""
    store = await open_store(str(db_path))
    yield store
    await store.close()


class BotRunner:
    """Starts and stops the real VideoBot in this event loop; a restart is a new bot on the same store."""

    def __init__(self, fake: DiscordFake, db_path: Path, catalog: PresetCatalog) -> None:
        self.fake = fake
        self.db_path = db_path
        self.catalog = catalog
        self.bot: VideoBot | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self, **settings: Any) -> VideoBot:
        """The bot, with ``settings`` for its :class:`BotConfig` (intervals a test shortens …)."""
        config = BotConfig(token=self.fake.token, database_url=str(self.db_path), **settings)
        bot = VideoBot(config, self.catalog, guild_ready_timeout=0.1)
        self.bot = bot
        self.task = asyncio.create_task(bot.start(config.token))
        await self.fake.wait_until_ready()
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        return bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self.task is not None:
            await asyncio.wait_for(self.task, 15)
        self.bot = self.task = None


@pytest.fixture
async def bot_runner(
    discord_fake: DiscordFake, db_path: Path, catalog: PresetCatalog
) -> AsyncIterator[BotRunner]:
    runner = BotRunner(discord_fake, db_path, catalog)
    yield runner
    await runner.stop()


@pytest.fixture
async def bot(bot_runner: BotRunner) -> VideoBot:
    return await bot_runner.start()


@pytest.fixture
def worker(db_path: Path, presets_file: Path) -> Iterator[WorkerProcess]:
    """A real `videobot worker` process on the bot's store (started by the test when it wants one).
    Its log is printed at the end: pytest shows it when the test failed."""
    proc = WorkerProcess(db_path, presets_file)
    yield proc
    print(f"--- the worker's log ---\n{proc.log()}")
    proc.stop()


async def run_sql(db_path: Path, *statements: str, timeout: float = 60.0) -> None:
    """``statements`` on the SQLite store from a connection of their own, in a thread: the test's event
    loop, where the bot runs, keeps turning while they wait for the database's lock (run in the loop,
    they would wait for a bot transaction that cannot end until the loop turns)."""

    def run() -> None:
        with sqlite3.connect(db_path, timeout=timeout) as conn:
            for statement in statements:
                conn.execute(statement)

    await asyncio.to_thread(run)


async def wait_until(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def job_in_state(store: Store, job_id: int, *states: str, timeout: float = 60.0) -> Job:
    async def check() -> Job | None:
        job = await store.jobs.get(job_id)
        return job if job is not None and job.state in states else None

    return await wait_until(check, timeout, f"job {job_id} to be {'/'.join(states)}")


async def job_posted(store: Store, job_id: int, timeout: float = 60.0) -> Job:
    """The job once the bot recorded it as posted: after its message (and a clip's thread) exist."""

    async def check() -> Job | None:
        job = await store.jobs.get(job_id)
        return job if job is not None and job.posted else None

    return await wait_until(check, timeout, f"job {job_id} to be recorded as posted")
