"""The gallery served on loopback from a test's store, for tests that fetch its pages over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer

from db.store import Store
from videobot.web import RUNNER_OPTIONS, build_app


@asynccontextmanager
async def gallery_served(store: Store) -> AsyncIterator[str]:
    """The gallery of ``store`` on a free loopback port: its base URL, without a trailing slash."""
    server = TestServer(build_app(store), host="127.0.0.1")
    await server.start_server(**RUNNER_OPTIONS)  # as `videobot web` runs it
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
