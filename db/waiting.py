"""Waiting for an asyncio event with a time limit, in the one way that never loses a cancel.

``asyncio.wait_for`` on Python 3.11 can swallow a cancel that lands just as the awaited call returns
(CPython gh-86296, fixed in 3.12): a loop stopped by cancelling it then runs on. ``asyncio.timeout``
does not, so every timed wait on an event goes through here."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Until ``event`` is set (True) or ``timeout`` seconds pass (False); the event is not cleared."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
