"""How soon a member hears back from `/video`: the answer itself as the interaction's one response when
the job store is quick, "thinking…" within a second (Discord allows three) when it is not."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.app import VideoBot
from tests.discord_fake import DiscordFake
from tests.discord_fake.interactions import InteractionHandle

CHANNEL_MESSAGE = 4  # the interaction answered with a message
DEFERRED_MESSAGE = 5  # "thinking…"
EPHEMERAL = 64


async def test_a_quick_answer_is_the_one_response_with_no_thinking_first(
    discord_fake: DiscordFake, bot: VideoBot
) -> None:
    handle = await discord_fake.slash_command("video", {"prompt": "a kite"})
    assert await handle.wait_ack() == CHANNEL_MESSAGE
    reply = await handle.wait_reply()
    assert reply["content"].startswith("Queued as #1") and reply["flags"] & EPHEMERAL
    assert not discord_fake.edits_of(reply["id"])  # nothing was replaced: no "thinking…" came first


async def test_a_slow_store_gets_thinking_within_a_second_then_the_answer(
    discord_fake: DiscordFake, bot: VideoBot, db_path: Path
) -> None:
    # another process holds the write lock (taken in a thread: the bot's loop must keep turning)
    other = sqlite3.connect(db_path, isolation_level=None, timeout=60, check_same_thread=False)
    await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
    try:
        handle: InteractionHandle = await discord_fake.slash_command("video", {"prompt": "a kite"})
        assert await handle.wait_ack(timeout=3) == DEFERRED_MESSAGE
        assert handle.ack_latency is not None and handle.ack_latency < 3.0  # Discord's deadline
        await asyncio.sleep(1.5)
        assert handle.original is not None and handle.original["flags"] & 128  # still "thinking…"
    finally:
        await asyncio.to_thread(other.execute, "COMMIT")
        other.close()
    reply = await handle.wait_reply(timeout=10)
    assert reply["content"].startswith("Queued as #1") and reply["flags"] & EPHEMERAL
