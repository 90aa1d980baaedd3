"""Wake-ups between processes name their channel: a worker waiting for work sleeps through progress,
heartbeats and votes of others, and wakes when work comes. Every test runs on SQLite and PostgreSQL,
with the waiter and the writer on two store connections, as two processes would have."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from db.store import Store, open_store
from tests.store.helpers import MODEL, result, submit

QUIET_S = 1.0  # how long a waiter must sleep through commits that are not for it


@pytest.fixture
async def other(store_url: str) -> AsyncIterator[Store]:
    """A second connection to the store's database: the other process."""
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


async def drain(store: Store) -> None:
    """Consume the wake-ups already on their way, so a test sees only those that follow."""
    while await store.jobs.wait_for_work(0.3) or await store.jobs.wait_for_events(0.3):
        pass


async def test_a_worker_waiting_for_work_sleeps_through_commits_that_wake_only_the_bot(
    store: Store, other: Store
) -> None:
    first, second = await submit(other, 1), await submit(other, 2)
    assert await other.jobs.claim_next("w1", [MODEL], 60) is not None
    await drain(store)
    waiter = asyncio.create_task(store.jobs.wait_for_work(QUIET_S))
    await asyncio.sleep(0.1)
    assert await other.jobs.heartbeat(first.id, "w1", step=1, total_steps=40)  # progress: the bot's channel
    assert await other.jobs.claim_next("w2", [MODEL], 60) is not None  # a start: the bot's channel
    assert await other.jobs.finish(first.id, "w1", result())  # an end: the bot's channel
    assert await other.jobs.heartbeat(second.id, "w2", step=1, total_steps=40)
    assert not await waiter


async def test_a_worker_waiting_for_work_sleeps_through_commits_that_wake_nobody(
    store: Store, other: Store
) -> None:
    job = await submit(other, 1)
    await drain(store)
    waiter = asyncio.create_task(store.jobs.wait_for_work(QUIET_S))
    await asyncio.sleep(0.1)
    await other.workers.register_worker("w1", "host", "H200", [MODEL])
    assert await other.workers.worker_heartbeat("w1")
    assert await other.jobs.set_status_message(job.id, 555)
    await other.settings.update_settings(1, max_queued_per_user=9)
    assert not await waiter


async def test_a_worker_waiting_for_work_wakes_when_another_connection_releases_a_job(
    store: Store, other: Store
) -> None:
    job = await submit(other, 1)
    assert await other.jobs.claim_next("w1", [MODEL], 60) is not None
    await drain(store)
    waiter = asyncio.create_task(store.jobs.wait_for_work(10))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    assert await other.jobs.release(job.id, "w1")
    assert await waiter
    assert time.monotonic() - started < 2  # a wake-up, not the timeout


async def test_the_bot_wakes_on_a_heartbeat_from_another_connection(store: Store, other: Store) -> None:
    job = await submit(store, 1)
    assert await other.jobs.claim_next("w1", [MODEL], 60) is not None
    await drain(store)
    waiter = asyncio.create_task(store.jobs.wait_for_events(10))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    assert await other.jobs.heartbeat(job.id, "w1", step=5, total_steps=40)
    assert await waiter
    assert time.monotonic() - started < 2


async def test_work_notified_while_the_bot_waits_for_events_is_still_there_for_the_worker(
    store: Store, other: Store
) -> None:
    job = await submit(other, 1)
    assert await other.jobs.claim_next("w1", [MODEL], 60) is not None
    await drain(store)
    assert await other.jobs.release(job.id, "w1")  # work, committed while nobody waits for it
    assert await other.jobs.claim_next("w2", [MODEL], 60) is not None  # then a start: an event
    assert await store.jobs.wait_for_events(5)  # one connection serving both, the bot side looks first
    assert await store.jobs.wait_for_work(5)
