"""The bot waits out a job store that is away: delivery pauses, says so once, and posts what finished
as soon as the store is back."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.app import VideoBot
from db.store import JobStore
from tests.bot.conftest import wait_until
from tests.bot.test_delivery_faults_e2e import finished_clip, mp4, untouched
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake

__all__ = ["mp4"]


async def test_delivery_survives_an_outage_logs_it_once_and_posts_when_the_store_is_back(
    discord_fake: DiscordFake,
    bot: VideoBot,
    store: JobStore,
    db_path: Path,
    mp4: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cogs.delivery")
    with sqlite3.connect(db_path) as conn:  # the jobs table is gone: every store call fails
        conn.execute("ALTER TABLE jobs RENAME TO jobs_away")
    await asyncio.sleep(4)  # several passes fail meanwhile
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE jobs_away RENAME TO jobs")
    job = await finished_clip(store, discord_fake, mp4, 1, "en-US", untouched, db_path.parent / "media")
    posted = await wait_until(lambda: clip_messages(discord_fake, "general"), timeout=45, what="the clip")
    assert f"#{job.id}" in posted[0]["content"]
    assert not bot.is_closed()

    def said(words: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if words in r.getMessage()]

    await wait_until(lambda: said("job store is back"), timeout=10, what="the bot to say the store is back")
    assert len(said("delivery paused")) == 1 and len(said("job store is back")) == 1, caplog.text
