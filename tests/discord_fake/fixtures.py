"""pytest fixtures: import them into a conftest (`from tests.discord_fake.fixtures import *`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from .server import DiscordFake, point_discord_py_at

__all__ = ["discord_fake"]


@pytest.fixture
async def discord_fake() -> AsyncIterator[DiscordFake]:
    """A running fake Discord with discord.py pointed at it; fails the test at teardown if the bot
    did anything Discord would refuse (spec, limits, late ack, expired token, oversize upload...)."""
    async with running_fake() as fake:
        yield fake
    fake.assert_no_violations()


@contextlib.asynccontextmanager
async def running_fake() -> AsyncIterator[DiscordFake]:
    """A started fake with discord.py pointed at it; stopped, and discord.py pointed back, after."""
    fake = DiscordFake()
    await fake.start()
    restore = point_discord_py_at(fake.api_url, fake.gateway_url, fake.cdn_url)
    try:
        yield fake
    finally:
        restore()
        await fake.stop()
