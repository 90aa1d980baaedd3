"""Requests that arrive while one batch is being stored wait and go together in the next.

A burst of `/video` commands becomes a few transactions instead of one per command: the first request
starts a batch at once (no timer, no added wait), and whatever arrives while that batch's transaction
runs goes in the next one. Each caller gets its own outcome, or its own exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

R = TypeVar("R")  # a request
A = TypeVar("A")  # its answer


class Batcher(Generic[R, A]):
    """Runs ``store(requests)`` for the requests waiting, ``limit`` at most at a time, one batch after
    another. ``store`` answers each request in order (an answer or an exception for that request
    alone); an exception raised by ``store`` itself goes to every caller of that batch."""

    def __init__(
        self, store: Callable[[Sequence[R]], Awaitable[Sequence[A | BaseException]]], limit: int
    ) -> None:
        self._store = store
        self._limit = max(1, limit)
        self._waiting: list[tuple[R, asyncio.Future[A]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, request: R) -> A:
        future: asyncio.Future[A] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._limit], self._waiting[self._limit :]
            try:
                outcomes = await self._store([request for request, _ in batch])
            except BaseException as exc:  # the whole transaction failed: each caller hears of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller went away (cancelled): the job is stored all the same
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
