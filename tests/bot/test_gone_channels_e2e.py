"""Clips that can never be posted where they were asked for: a deleted channel or thread, a server the bot
was removed from, a channel the bot has not been allowed to post in for a long time. They never hold up
anyone else's clips, the GPU does not render clips nobody can be shown, and they are settled (failed with
a reason, no message) instead of being tried for ever."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import VideoBot
from db.store import Job, JobResult, Store
from tests.bot.conftest import BotRunner, job_in_state, job_posted, wait_until
from tests.bot.test_discord_faults_e2e import MESSAGE, MESSAGES, queue_video, render
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.mp4probe import make_clip
from tests.store.helpers import spec

DELETED_CHANNEL = 1_000_000_000_000_000_003  # a channel an admin deleted while its clips rendered


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", size=(64, 48), seconds=1.0, tone=None)
    return path.read_bytes()


async def finished_in(store: Store, guild_id: int, channel_id: int, user: int, mp4: bytes) -> Job:
    """A clip a worker rendered for ``channel_id`` and stored; not posted yet."""
    job = await store.jobs.enqueue(guild_id, channel_id, user, spec(f"clip of {user}"), 1.0)
    claimed = await store.jobs.claim_next("test-gpu", [job.model])
    assert claimed is not None and claimed.id == job.id
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "test-gpu", JobResult(ref, len(mp4), 64, 48, 24, 24.0, 1.0))
    return job


async def test_the_clips_of_a_deleted_channel_never_hold_up_the_others(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    """More of them than the bot reads in one page: the clip after them is posted all the same."""
    fake = discord_fake
    guild = int(fake.guild.id)
    stuck = [await finished_in(store, guild, DELETED_CHANNEL, 100 + n, mp4) for n in range(25)]
    good = await finished_in(store, guild, int(fake.channel("general").id), 2, mp4)
    await bot_runner.start()
    posted = await wait_until(lambda: clip_messages(fake, "general"), what="the other clip")
    assert [f"#{good.id}" in m["content"] for m in posted] == [True]
    for job in stuck:
        settled = await job_posted(store, job.id)
        assert (settled.state, settled.error_code, settled.message_id) == ("failed", "channel_gone", None)


async def queued_in(fake: DiscordFake, channel: Any, user: str = "owner") -> int:
    handle = await fake.slash_command(
        "video", {"prompt": "a lighthouse", "model": "tiny-ltx"}, user=user, channel=channel
    )
    reply = await handle.wait_reply()
    assert "Queued as #" in reply["content"], reply["content"]
    return int(str(reply["content"]).split("#")[1].split(":")[0])


@pytest.mark.parametrize("what", ["channel", "thread"])
async def test_deleting_a_channel_or_thread_cancels_its_queued_clips_and_nobody_elses(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, what: str
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    doomed = fake.add_channel("doomed")
    if what == "thread":  # a clip's discussion thread, where a reroll is posted
        thread = await fake.add_thread("a clip's thread", doomed)
        doomed_job = await queued_in(fake, thread)
        gone: Any = thread
    else:
        doomed_job = await queued_in(fake, "doomed")
        gone = doomed
    other = await queued_in(fake, "general", "alice")
    fake.delete_channel(gone)
    cancelled = await job_in_state(store, doomed_job, "cancelled")
    assert cancelled.error_code == "channel_gone"
    assert (await job_posted(store, doomed_job)).message_id is None  # settled: nowhere to say it
    still = await store.jobs.get(other)
    assert still is not None and still.state == "queued"


async def test_a_server_that_removed_the_bot_has_its_queued_clips_cancelled_and_is_served_once_back(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    other = fake.add_guild("Another Server", channels=("elsewhere",))
    await bot_runner.start()
    leaving = await queued_in(fake, "elsewhere")
    staying = await queued_in(fake, "general")
    fake.remove_bot(other)
    cancelled = await job_in_state(store, leaving, "cancelled")
    assert cancelled.error_code == "channel_gone"
    await job_posted(store, leaving)
    still = await store.jobs.get(staying)
    assert still is not None and still.state == "queued"
    # invited back: its clips are posted as ever
    assert bot_runner.bot is not None
    bot = bot_runner.bot
    await wait_until(lambda: bot.get_guild(int(other.id)) is None, what="the bot to leave")
    fake.invite_bot(other)
    await wait_until(lambda: bot.get_guild(int(other.id)) is not None, what="the bot to be back")
    back = await queued_in(fake, "elsewhere")
    await store.jobs.cancel(staying, None)  # only the new one waits for the GPU
    await render(store, back, mp4)
    posted = await wait_until(lambda: clip_messages(fake, "elsewhere"), what="the clip after the invite")
    assert [f"#{back}" in m["content"] for m in posted] == [True]


async def test_a_channel_the_bot_stays_locked_out_of_has_its_clip_given_up_and_the_next_one_posted(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    cog: Any = bot.get_cog("DeliveryCog")
    cog.give_up_s = 2.0  # half an hour in production: time for its admins to give the permission back
    job_id, _ = await queue_video(fake, "a heron at dawn", "alice")
    locked_out = {"message": "Missing Access", "code": 50001}
    fake.fail_next("PATCH", MESSAGE, 403, times=1000, body=locked_out)
    fake.fail_next("POST", MESSAGES, 403, times=1000, body=locked_out)
    await render(store, job_id, mp4)
    settled = await job_posted(store, job_id, timeout=30)
    assert (settled.state, settled.error_code) == ("failed", "cannot_post_here")
    assert clip_messages(fake, "general") == []
    fake.faults.clear()  # allowed again: the next clip is posted as ever
    next_id, _ = await queue_video(fake, "a crane at dusk", "alice")
    await render(store, next_id, mp4)
    posted = await wait_until(lambda: clip_messages(fake, "general"), what="the next clip")
    assert [f"#{next_id}" in m["content"] for m in posted] == [True]
