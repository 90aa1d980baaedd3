"""The bot on a busy job store: a queued job must not be reported as an error, nor lose its status."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.status import remember_status_message
from db.media import FileMedia
from db.sqlite import SQLiteConnector
from db.store import Store
from tests.store.helpers import submit


async def busy_store(path: Path) -> Store:
    """The real store on SQLite, giving up on a held write lock after 0.2 s instead of 30 s."""
    store = Store(await SQLiteConnector.open(path, busy_timeout_s=0.2), FileMedia(path.parent / "media"))
    await store.migrate()
    return store


async def test_the_status_message_is_recorded_once_another_writer_lets_go(tmp_path: Path) -> None:
    store = await busy_store(tmp_path / "videobot.db")
    try:
        job = await submit(store, 1)
        other = sqlite3.connect(tmp_path / "videobot.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a worker process holding the lock longer than the timeout
        remembering = asyncio.create_task(remember_status_message(store, job.id, 4242, pause_s=0.3))
        await asyncio.sleep(0.5)
        other.execute("COMMIT")
        other.close()
        assert await remembering
        stored = await store.jobs.get(job.id)
        assert stored is not None and stored.status_message_id == 4242
    finally:
        await store.close()


async def test_a_store_that_stays_busy_is_given_up_on_without_raising(tmp_path: Path) -> None:
    store = await busy_store(tmp_path / "videobot.db")
    try:
        job = await submit(store, 1)
        other = sqlite3.connect(tmp_path / "videobot.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        assert not await remember_status_message(store, job.id, 4242, attempts=2, pause_s=0.05)
        other.execute("ROLLBACK")
        other.close()
        stored = await store.jobs.get(job.id)
        assert stored is not None and stored.state == "queued"  # the job itself is untouched
    finally:
        await store.close()
