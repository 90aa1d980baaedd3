"""SQLite's one write lock is shared by the bot and every worker process on the file: nothing in this
process may keep it longer than its statements take."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

import db.sqlite
from db.sqlite import SQLiteConnector
from db.store import open_store
from db.store.connector import load_migrations
from tests.store.helpers import submit


async def test_a_call_cancelled_while_it_waits_for_the_write_lock_leaves_the_lock_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "videobot.db"
    store = await open_store(str(path))
    try:
        job = await submit(store, 1)
        other = sqlite3.connect(path, isolation_level=None, timeout=0.5)  # another process, writing
        other.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(store.jobs.cancel(job.id, None))
        await asyncio.sleep(0.3)  # the store waits for the lock in its database thread
        waiting.cancel()  # its caller goes away (a bot shutting down, a timed-out interaction)
        other.execute("COMMIT")
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # the store's BEGIN went through after its caller left; it must not sit on the lock
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()
        # and this connection is not stuck inside that transaction either
        still = await store.jobs.get(job.id)
        assert still is not None and still.state == "queued"
        assert await store.jobs.cancel(job.id, None)
    finally:
        await store.close()


async def test_a_write_that_holds_the_lock_for_long_is_logged_with_its_queries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.sqlite, "SLOW_WRITE_S", 0.2)
    connector = await SQLiteConnector.open(tmp_path / "videobot.db")
    try:
        await connector.migrate(load_migrations(connector.dialect), 0.0)
        with caplog.at_level(logging.WARNING, logger="db.sqlite"):
            async with connector.transaction() as tx:
                await tx.fetch_all("lock_fair_clock")
            assert not caplog.records  # quick: nothing to say
            async with connector.transaction() as tx:
                await tx.fetch_all("lock_fair_clock")
                await asyncio.sleep(0.3)
        (record,) = caplog.records
        assert "write lock" in record.getMessage() and "lock_fair_clock" in record.getMessage()
    finally:
        await connector.close()
