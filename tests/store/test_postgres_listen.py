"""PostgreSQL wake-ups survive the server dropping the listening connection."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from db.store import open_store
from tests.store.conftest import UrlFactory, need_backend
from tests.store.helpers import submit

LISTENERS = (
    "SELECT pid FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
)


async def test_workers_still_wake_promptly_after_the_server_drops_their_listening_connection(
    url_factories: dict[str, UrlFactory],
) -> None:
    url = await need_backend(url_factories, "postgresql")()
    worker = await open_store(url)
    bot = await open_store(url)
    admin = await asyncpg.connect(url)
    try:
        await worker.jobs.wait_for_work(0.1)  # each listens from its first wait on
        await bot.jobs.wait_for_events(0.1)
        # a restart, failover or idle reaper ends every session that only listens
        old = {row["pid"] for row in await admin.fetch(LISTENERS)}
        assert len(old) == 2  # the worker's and the bot's
        for pid in old:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        deadline = time.monotonic() + 10
        while len({row["pid"] for row in await admin.fetch(LISTENERS)} - old) < 2:
            assert time.monotonic() < deadline, "the store did not listen again"
            await asyncio.sleep(0.05)
        assert await worker.jobs.wait_for_work(2)  # reconnecting wakes waiters once: look for what was missed
        waiter = asyncio.create_task(worker.jobs.wait_for_work(20))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await submit(bot, 1)
        assert await waiter
        assert time.monotonic() - started < 2  # a wake-up, not the 20 s timeout
    finally:
        await admin.close()
        await bot.close()
        await worker.close()
