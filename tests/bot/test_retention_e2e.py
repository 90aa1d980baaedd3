"""Media retention as members see it, with the real bot, a real worker and the Discord fake: a posted
clip's files are removed by the bot once the retention period is over, ``/show`` of it reposts the video
of its original message (downloaded from Discord, uploaded again) with working buttons, Extend says why
it cannot continue it, and a clip whose original message was deleted gets a clear private answer in the
member's language."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import VideoBot
from bot.config import BotConfig, ConfigError
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, wait_until
from tests.bot.test_pictures_e2e import picture
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import DiscordFake

KEEP_S = 1.5  # the retention period of this test's bot, in seconds


@pytest.fixture
async def short_memory_bot(bot_runner: BotRunner) -> VideoBot:
    """The real bot, keeping clips ``KEEP_S`` seconds after posting and pruning five times a second."""
    return await bot_runner.start(media_days=KEEP_S / 86_400, retention_interval_s=0.2)


def attachment_bytes(fake: DiscordFake, message: dict[str, Any]) -> bytes:
    (attachment,) = [a for a in message["attachments"] if a["filename"].endswith(".mp4")]
    return fake.attachments[attachment["id"]][1]


async def test_show_of_a_pruned_clip_reposts_the_video_of_its_original_message(
    discord_fake: DiscordFake, short_memory_bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    clip = await make_clip(fake, store, "a lighthouse in a storm", model="tiny-ltx")
    job_id = int(clip["embeds"][0]["footer"]["text"].lstrip("#"))
    original = attachment_bytes(fake, clip)

    # the bot removes the clip's files once the retention period is over; the row and message stay
    async def pruned() -> bool:
        job = await store.jobs.get(job_id)
        return job is not None and job.media_ref is None

    await wait_until(pruned, timeout=30, what="the clip's files to be removed")
    assert await store.jobs.get_media(job_id) is None
    job = await store.jobs.get(job_id)
    assert job is not None and job.state == "done" and job.message_id == int(clip["id"])

    show = await fake.slash_command("show", {"job": job_id})
    repost = await show.wait_reply(timeout=15)
    assert not show.ephemeral
    assert repost["id"] != clip["id"] and f"#{job_id}" in repost["content"]
    assert attachment_bytes(fake, repost) == original  # the same video, uploaded again
    assert fake.find_component(repost, f"vb:vote:{job_id}:up") is not None

    # its buttons work: ℹ️ answers, ➕ says why it cannot extend a clip whose video is gone
    info = await fake.click(repost, f"vb:info:{job_id}")
    details = await info.wait_reply()
    assert info.ephemeral and details["embeds"]
    extend = await fake.click(repost, f"vb:extend:{job_id}")
    refusal = await extend.wait_reply()
    assert extend.ephemeral and extend.modal is None
    assert (
        f"Clip #{job_id} is older than" in refusal["content"] and "cannot be extended" in refusal["content"]
    )
    assert not fake.pinged_anyone()


async def test_show_of_a_pruned_clip_whose_message_was_deleted_says_so_in_the_members_language(
    discord_fake: DiscordFake, short_memory_bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    clip = await make_clip(fake, store, "a paper boat on a river", model="tiny-ltx")
    job_id = int(clip["embeds"][0]["footer"]["text"].lstrip("#"))

    async def pruned() -> bool:
        job = await store.jobs.get(job_id)
        return job is not None and job.media_ref is None

    await wait_until(pruned, timeout=30, what="the clip's files to be removed")
    await fake.delete_message(clip["id"])
    before = {m["id"] for m in fake.messages_in("general")}

    show = await fake.slash_command("show", {"job": job_id})
    answer = await wait_until(
        lambda: next((m for m in show.followups if not m["flags"] & 128), None), timeout=15, what="the answer"
    )
    assert answer["flags"] & 64  # only the member sees it
    assert f"Clip #{job_id} is older than" in answer["content"] and "gone too" in answer["content"]
    assert {m["id"] for m in fake.messages_in("general")} == before  # nothing public is left behind

    german = await fake.slash_command("show", {"job": job_id}, locale="de")
    answer = await wait_until(
        lambda: next((m for m in german.followups if not m["flags"] & 128), None), timeout=15, what="German"
    )
    assert answer["flags"] & 64
    assert f"Clip #{job_id} ist älter als" in answer["content"]


async def test_a_reroll_of_a_clip_whose_picture_was_removed_says_why_and_queues_nothing(
    discord_fake: DiscordFake, short_memory_bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    clip = await make_clip(
        fake, store, "the cat starts to dance", model="tiny-ltx", image=("cat.png", picture())
    )
    job_id = int(clip["embeds"][0]["footer"]["text"].lstrip("#"))
    job = await store.jobs.get(job_id)
    assert job is not None and job.spec.image_ref is not None
    ref = job.spec.image_ref

    async def picture_gone() -> bool:
        return await store.jobs.get_input(ref) is None

    await wait_until(picture_gone, timeout=30, what="the picture to be removed")
    reroll = await fake.click(clip, f"vb:reroll:{job_id}")
    refusal = await reroll.wait_reply(timeout=15)
    assert reroll.ephemeral
    assert f"The picture clip #{job_id} started from" in refusal["content"]
    assert await store.jobs.active_jobs() == []  # nothing queued that a worker could only fail


def test_the_retention_period_comes_from_videobot_media_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.delenv("VIDEOBOT_MEDIA_DAYS", raising=False)
    assert BotConfig.from_env().media_days == 7.0
    monkeypatch.setenv("VIDEOBOT_MEDIA_DAYS", "30")
    assert BotConfig.from_env().media_days == 30.0
    monkeypatch.setenv("VIDEOBOT_MEDIA_DAYS", "0")  # keep for ever: the bot prunes nothing
    assert BotConfig.from_env().media_days == 0.0
    for wrong in ("a week", "-1"):
        monkeypatch.setenv("VIDEOBOT_MEDIA_DAYS", wrong)
        with pytest.raises(ConfigError, match="VIDEOBOT_MEDIA_DAYS"):
            BotConfig.from_env()
