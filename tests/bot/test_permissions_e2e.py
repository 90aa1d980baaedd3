"""Where the bot may not post, a clip is refused before anything is queued: /video in a channel where an
admin took the bot's Send Messages, Attach Files, Embed Links or View Channel away (in a thread: Send
Messages in Threads) is answered privately, in the member's language, naming what is missing. A status
message Discord refuses is tried again with a capped back-off, not every pass. A clip built on another
(reroll, remix) that would be posted where it was asked obeys the server's channel allowlist too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_posted, run_sql, wait_until
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import Channel, DiscordFake
from tests.discord_fake.models import (
    ATTACH_FILES,
    EMBED_LINKS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from tests.store.helpers import spec


def posts_to(fake: DiscordFake, channel: str) -> int:
    """How often the bot tried to post a message in ``channel`` with its own token."""
    channel_id = fake.channel(channel).id
    requests = fake.requests_to("POST", "/channels/{channel_id}/messages")
    return sum(1 for r in requests if r.params.get("channel_id") == channel_id)


async def video(
    fake: DiscordFake, channel: str | Channel = "general", user: str = "owner", locale: str | None = None
) -> tuple[bool, str]:
    options = {"prompt": "a kite over the sea", "model": "tiny-ltx"}
    handle = await fake.slash_command("video", options, channel=channel, user=user, locale=locale)
    reply = await handle.wait_reply()
    return handle.ephemeral, str(reply["content"])


async def test_video_where_the_bot_may_not_send_messages_is_refused_naming_the_permission(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.set_permissions("videos", fake.bot_user, deny=SEND_MESSAGES)  # an admin took it away there
    ephemeral, text = await video(fake, channel="videos")
    assert ephemeral and "Queued" not in text, text
    assert "Send Messages" in text and "#1" not in text
    assert await store.jobs.active_jobs() == []
    await asyncio.sleep(0.5)
    assert posts_to(fake, "videos") == 0  # no status message tried where Discord answers 403
    # the other channel is as it was
    ephemeral, text = await video(fake, channel="general")
    assert "Queued as #1" in text


async def test_missing_files_and_links_are_named_in_german(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de")
    bot_role = fake.guild.role("videobot")
    fake.set_permissions("videos", bot_role, deny=ATTACH_FILES | EMBED_LINKS)
    ephemeral, text = await video(fake, channel="videos", user="jonas", locale="de")
    assert ephemeral and "Dateien anhängen" in text and "Links einbetten" in text, text
    assert "Nachrichten senden" not in text
    assert await store.jobs.active_jobs() == []


async def test_a_channel_the_bot_cannot_see_is_refused(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.set_permissions("videos", fake.guild.everyone, deny=VIEW_CHANNEL)  # a private channel
    fake.set_permissions("videos", fake.owner, allow=VIEW_CHANNEL)  # that its owner sees
    ephemeral, text = await video(fake, channel="videos")
    assert ephemeral and "View Channel" in text, text
    assert await store.jobs.active_jobs() == []


async def test_in_a_thread_it_is_send_messages_in_threads_that_counts(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    thread = await fake.add_thread("kites", "general")
    fake.set_permissions("general", fake.bot_user, deny=SEND_MESSAGES)  # not needed in a thread
    ephemeral, text = await video(fake, channel=thread)
    assert "Queued as #1" in text, text
    fake.set_permissions("general", fake.bot_user, deny=SEND_MESSAGES_IN_THREADS)
    ephemeral, text = await video(fake, channel=thread)
    assert ephemeral and "Send Messages in Threads" in text, text
    assert [job.id for job in await store.jobs.active_jobs()] == [1]


@pytest.fixture
async def quick_bot(bot_runner: BotRunner) -> VideoBot:
    """The bot with a status board that looks every 0.2 s (a test's minutes in seconds)."""
    return await bot_runner.start(status_interval_s=0.2, delivery_interval_s=0.1)


async def test_a_status_message_discord_refuses_is_tried_again_with_back_off(
    discord_fake: DiscordFake, quick_bot: VideoBot, store: Store, db_path: Path
) -> None:
    """A job queued before an admin took the bot's Send Messages: its status message is not sent every
    pass (each 403 counts toward Discord's ban on invalid requests), but it still is once allowed."""
    fake = discord_fake
    fake.set_permissions("videos", fake.bot_user, deny=SEND_MESSAGES)
    job = await store.jobs.enqueue(int(fake.guild.id), int(fake.channel("videos").id), 1234, spec(), 1.0)
    await run_sql(db_path, f"UPDATE jobs SET created_at = created_at - 60 WHERE id = {job.id}")
    await wait_until(lambda: posts_to(fake, "videos") >= 1, what="a first try")
    await asyncio.sleep(6.0)
    tries = posts_to(fake, "videos")
    assert 2 <= tries <= 6, f"{tries} tries in 6 s"  # every pass would be ~30
    fake.set_permissions("videos", fake.bot_user)  # the admin gives it back
    await wait_until(lambda: fake.messages_in("videos"), timeout=20, what="the status message")
    assert (await store.jobs.get(job.id)).status_message_id is not None  # type: ignore[union-attr]


async def test_a_status_message_whose_edits_discord_refuses_is_edited_again_with_back_off(
    discord_fake: DiscordFake, quick_bot: VideoBot, store: Store, db_path: Path
) -> None:
    """A rendering clip in a channel the bot was locked out of: its progress changes the status text every
    pass, but a refused edit is not tried every pass; once allowed again, the message follows."""
    fake = discord_fake
    job = await store.jobs.enqueue(int(fake.guild.id), int(fake.channel("videos").id), 1234, spec(), 1.0)
    await run_sql(db_path, f"UPDATE jobs SET created_at = created_at - 60 WHERE id = {job.id}")
    status = await wait_until(lambda: fake.messages_in("videos"), what="the status message")
    message_id = str(status[0]["id"])
    assert await store.jobs.claim_next("gpu", [job.model]) is not None
    locked_out = {"message": "Missing Access", "code": 50001}
    fake.fail_next("PATCH", "/channels/{channel_id}/messages/{message_id}", 403, times=1000, body=locked_out)
    for step in range(1, 41):  # the render goes on: new progress, a new status text, every 0.1 s
        await run_sql(db_path, f"UPDATE jobs SET step = {step}, total_steps = 1000 WHERE id = {job.id}")
        await asyncio.sleep(0.1)
    tries = sum(
        1
        for r in fake.requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
        if r.params.get("message_id") == message_id
    )
    assert 1 <= tries <= 8, f"{tries} edits tried for 40 new texts"  # one a pass would be ~20
    fake.faults.clear()  # allowed again

    async def shows_progress() -> bool:
        await run_sql(db_path, f"UPDATE jobs SET step = step + 1 WHERE id = {job.id}")
        return bool(fake.edits_of(message_id))

    await wait_until(shows_progress, timeout=30, what="the status message to be edited again")


async def test_a_reroll_posted_where_it_is_asked_obeys_the_channel_allowlist(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    """A clip of #general shown again in an age-restricted channel where /video is not allowed: a
    reroll asked for there would be posted there, so it is refused as /video would be."""
    fake = discord_fake
    after_dark = fake.add_channel("after-dark", nsfw=True)
    await store.settings.update_settings(
        int(fake.guild.id), allowed_channel_ids=[int(fake.channel("general").id)]
    )
    worker.start()
    await make_clip(fake, store, "a paper boat", model="tiny-ltx")
    await job_posted(store, 1)  # /show takes a clip once its post is recorded, a moment after it appears
    show = await fake.slash_command("show", {"job": 1}, channel=after_dark)
    shown = await show.wait_reply()
    assert not show.ephemeral
    reroll = await fake.click(shown, "vb:reroll:1")
    reply = await reroll.wait_reply()
    assert reroll.ephemeral and "not used in this channel" in reply["content"], reply
    assert await store.jobs.get(2) is None
    # in the clip's own channel a reroll is still made (it is posted in the clip's thread)
    original = await store.jobs.get(1)
    assert original is not None and original.message_id is not None
    clip = fake.message(original.message_id)
    again = await fake.click(clip, "vb:reroll:1")
    assert "Queued as #2" in (await again.wait_reply())["content"]
