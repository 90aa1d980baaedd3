"""Fixtures for the fake's own tests: the fake, and a real discord.py bot logged in to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import discord
import pytest
from discord.ext import commands

from tests.discord_fake import DiscordFake
from tests.discord_fake.fixtures import discord_fake
from tests.discord_fake.spec import validate_response

__all__ = ["discord_fake"]

BotFactory = Callable[..., Awaitable[commands.Bot]]


class FakeBot(commands.Bot):
    """A small real bot; tests add commands to its tree before it starts."""

    def __init__(self, intents: discord.Intents | None = None, **kwargs: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents or discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
            **kwargs,
        )


@pytest.fixture
async def start_bot(discord_fake: DiscordFake) -> AsyncIterator[BotFactory]:
    """Start a real discord.py bot against the fake; `await start_bot(setup)` returns it once ready."""
    bots: list[tuple[commands.Bot, asyncio.Task[None]]] = []

    async def start(
        setup: Callable[[commands.Bot], None] | None = None,
        *,
        sync: bool = True,
        bot: commands.Bot | None = None,
    ) -> commands.Bot:
        bot = bot or FakeBot()
        if setup is not None:
            setup(bot)
        task = asyncio.create_task(bot.start(discord_fake.token))
        bots.append((bot, task))
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        if sync:
            await bot.tree.sync()
        return bot

    yield start
    for bot, task in bots:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@pytest.fixture(autouse=True)
def fake_answers_as_the_spec_says(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep the fake honest: every successful answer it gave must match the spec's response schema."""
    if "discord_fake" not in request.fixturenames:
        yield
        return
    fake: DiscordFake = request.getfixturevalue("discord_fake")
    yield
    problems = []
    for r in fake.requests:
        if r.template and 200 <= r.status < 300 and not r.injected:
            op = fake.spec.find_operation(r.method, r.path)
            assert op is not None
            problems += [
                f"{r.route} {r.status}: {e}" for e in validate_response(fake.spec, op, r.status, r.response)
            ]
    assert not problems, "the fake answered unlike Discord:\n" + "\n".join(problems)
