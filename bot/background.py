"""The bot's background loops (delivery, the challenge clock, the story timer) survive a job store or
Discord that is away: each pass that fails is tried again with capped, jittered back-off, and the
outage is logged once when it begins and once when it ends, not once a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, wait_exponential_jitter

log = logging.getLogger(__name__)

MAX_PAUSE_S = 30.0  # the longest wait between tries


_told: set[asyncio.Task[None]] = set()  # on_outage calls in flight (a reference keeps each alive)


async def one_pass(
    what: str,
    step: Callable[[], Awaitable[None]],
    *,
    max_pause_s: float = MAX_PAUSE_S,
    on_outage: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run ``step`` until it succeeds once, waiting out failures as the module says; ``on_outage`` is
    started once when the failures begin (tell the members)."""

    def began(state: RetryCallState) -> None:
        if state.attempt_number == 1:  # once per outage, not once per try
            error = state.outcome.exception() if state.outcome is not None else None
            log.warning("%s paused: %s; trying again", what, error, exc_info=error)
            if on_outage is not None:
                task = asyncio.get_running_loop().create_task(_quietly(what, on_outage))
                _told.add(task)
                task.add_done_callback(_told.discard)

    retrying = AsyncRetrying(
        wait=wait_exponential_jitter(multiplier=0.5, max=max_pause_s), before_sleep=began, reraise=True
    )
    async for attempt in retrying:
        with attempt:
            await step()
    tries = retrying.statistics.get("attempt_number", 1)
    if tries > 1:
        log.info("%s going again after %d tries", what, tries)


async def _quietly(what: str, call: Callable[[], Awaitable[None]]) -> None:
    try:
        await call()
    except Exception:
        log.warning("%s: could not tell the members about the outage", what, exc_info=True)


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a cog's background loop and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
