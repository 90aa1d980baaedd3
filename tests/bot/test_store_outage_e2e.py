"""The bot waits out a job store that is away: delivery pauses, says so once, and posts what finished
as soon as the store is back; a member who asks meanwhile is told to try again in a minute."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import VideoBot
from db.presets import PresetCatalog
from db.store import Store
from tests.bot.conftest import BotRunner, run_sql, wait_until
from tests.bot.test_delivery_faults_e2e import finished_clip, mp4, untouched
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.tmpfs import fill, small_disk

__all__ = ["mp4"]


async def test_delivery_survives_an_outage_logs_it_once_and_posts_when_the_store_is_back(
    discord_fake: DiscordFake,
    bot: VideoBot,
    store: Store,
    db_path: Path,
    mp4: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    def said(words: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if words in r.getMessage()]

    await run_sql(db_path, "ALTER TABLE jobs RENAME TO jobs_away")  # every store call fails
    await wait_until(lambda: said("delivery paused"), timeout=60, what="a delivery pass to fail")
    await asyncio.sleep(2)  # and more passes after it, which must not say so again
    await run_sql(db_path, "ALTER TABLE jobs_away RENAME TO jobs")
    job = await finished_clip(store, discord_fake, mp4, 1, "en-US", untouched, db_path.parent / "media")
    posted = await wait_until(lambda: clip_messages(discord_fake, "general"), timeout=45, what="the clip")
    assert f"#{job.id}" in posted[0]["content"]
    assert not bot.is_closed()
    await wait_until(
        lambda: said("delivery going again"), timeout=10, what="the bot to say the store is back"
    )
    assert len(said("delivery paused")) == 1 and len(said("delivery going again")) == 1, caplog.text


async def test_video_on_a_full_disk_is_answered_try_again_in_the_members_language_and_works_after(
    discord_fake: DiscordFake, catalog: PresetCatalog, tmp_path: Path
) -> None:
    """The SQLite store's disk is full: /video is answered at once, privately, that the queue is
    unavailable and to try again in a minute (not an error id to quote); once there is room it queues."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        runner = BotRunner(discord_fake, disk / "videobot.db", catalog)
        await runner.start()
        filler = disk / "filler"
        try:
            fill(filler)
            for locale, words in (("en-US", "try again in a minute"), ("de", "in einer Minute")):
                handle = await discord_fake.slash_command("video", {"prompt": "a cat"}, locale=locale)
                reply = await handle.wait_reply(timeout=10)
                assert handle.ephemeral and words in reply["content"], reply["content"]
                assert "error" not in reply["content"].lower() and "Fehler" not in reply["content"]
            filler.unlink()
            handle = await discord_fake.slash_command("video", {"prompt": "a cat"})
            reply = await handle.wait_reply(timeout=10)
            assert "Queued as #1" in reply["content"], reply["content"]
        finally:
            filler.unlink(missing_ok=True)
            await runner.stop()


async def test_a_waiting_members_status_message_says_the_queue_is_away_and_recovers_after(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    handle = await fake.slash_command(
        "video", {"prompt": "a lantern in fog", "model": "tiny-ltx"}, locale="de"
    )
    await handle.wait_reply()
    status = await wait_until(lambda: next(iter(fake.messages_in("general")), None), what="the status")
    await wait_until(lambda: "Wartet" in fake.message(status["id"])["content"], what="the waiting status")
    await run_sql(db_path, "ALTER TABLE jobs RENAME TO jobs_away")  # the store is away
    try:
        told = await wait_until(
            lambda: "nicht erreichbar" in fake.message(status["id"])["content"] or None,
            timeout=15,
            what="the status message to say the queue is away",
        )
        assert told and "Dein Clip ist sicher" in fake.message(status["id"])["content"]
    finally:
        await run_sql(db_path, "ALTER TABLE jobs_away RENAME TO jobs")
    await wait_until(
        lambda: "nicht erreichbar" not in fake.message(status["id"])["content"] or None,
        timeout=45,
        what="the status message to move on once the store is back",
    )
    assert "Wartet" in fake.message(status["id"])["content"]
    assert [j.state for j in await store.jobs.active_jobs()] == ["queued"]  # nothing was lost
