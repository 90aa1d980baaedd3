"""db.waiting.wait_event: set, timed out, and cancelled (a loop that waits can always be stopped)."""

from __future__ import annotations

import asyncio

import pytest

from db.waiting import wait_event


async def test_an_event_set_meanwhile_ends_the_wait_and_a_quiet_one_times_out() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5)
    assert event.is_set()  # not cleared: the caller decides
    assert not await wait_event(asyncio.Event(), 0.01)


async def test_a_cancel_is_never_lost_even_as_the_event_is_set() -> None:
    for ticks in range(6):  # the cancel lands at each point of the wait, together with the event
        event = asyncio.Event()
        waiter = asyncio.create_task(wait_event(event, 10))
        for _ in range(ticks):
            await asyncio.sleep(0)
        event.set()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
