"""Clips fitted to the upload limit of the server that asked for them: Discord sends it with every
interaction (10 MiB, or 50 and 100 MiB on a boosted server, or lower where Discord lowered it)."""

from __future__ import annotations

from bot.app import VideoBot
from db.spec import JobSpec
from db.store import Store
from generator.encode import DISCORD_DEFAULT_LIMIT
from generator.worker import clip_limit
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake

MiB = 1024 * 1024
LOW_LIMIT = 20_000  # below what a tiny clip weighs at the encoder's best quality, above what it can be made


async def test_a_server_with_a_lower_upload_limit_gets_a_clip_that_fits_it(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.guild.upload_limit_bytes = LOW_LIMIT
    handle = await fake.slash_command("video", {"prompt": "static on an old television", "model": "tiny-ltx"})
    await handle.wait_reply()
    worker.start()
    job = await job_in_state(store, 1, "done", "failed")
    assert job.state == "done", (job.error, worker.log())
    clip = await wait_until(lambda: next(iter(clip_messages(fake, "general")), None), what="the clip")
    attachment = clip["attachments"][0]
    assert attachment["size"] <= LOW_LIMIT  # posted, within the server's limit, not refused by Discord
    assert len(fake.attachments[attachment["id"]][1]) == attachment["size"]


async def test_a_boosted_server_gets_clips_up_to_its_own_limit(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    discord_fake.guild.premium_tier = 2  # boost level 2: 50 MiB
    handle = await discord_fake.slash_command("video", {"prompt": "a kite", "model": "tiny-ltx"})
    await handle.wait_reply()
    job = await store.jobs.get(1)
    assert job is not None and job.spec.upload_limit == 50 * MiB
    assert clip_limit(job.spec, None) == 50 * MiB  # what the worker fits the clip to


def test_the_operators_ceiling_and_older_jobs() -> None:
    boosted = JobSpec("a kite", upload_limit=100 * MiB)
    assert clip_limit(boosted, 25 * MiB) == 25 * MiB  # `videobot worker --max-bytes 25MiB` wins
    assert clip_limit(JobSpec("a kite"), None) == DISCORD_DEFAULT_LIMIT  # stored before the field
