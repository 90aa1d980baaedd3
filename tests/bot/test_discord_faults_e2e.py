"""When Discord itself misbehaves (413 on an upload, rate-limit storms, 5xx bursts, gateway drops), the
member is told what happened, in their language, and no clip is lost or posted twice. The real bot in
this process, the spec-checked Discord on loopback, the real store; the test acts as the GPU worker."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.app import VideoBot
from bot.cogs.delivery import file_size
from db.store import JobResult, Store
from tests.bot.conftest import BotRunner, job_in_state, job_posted, wait_until
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.mp4probe import make_clip

MESSAGE = "/channels/{channel_id}/messages/{message_id}"
MESSAGES = "/channels/{channel_id}/messages"
TOO_LARGE = {"message": "Request entity too large", "code": 40005}


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", size=(64, 48), seconds=1.0, tone=None)
    return path.read_bytes()


async def queue_video(fake: DiscordFake, prompt: str, user: str) -> tuple[int, str]:
    """A member's /video: the job id from the private reply, and the id of its status message."""
    handle = await fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"}, user=user)
    reply = await handle.wait_reply()
    job_id = int(str(reply["content"]).split("#")[1].split(":")[0])
    status = await wait_until(
        lambda: next(
            (m for m in fake.messages_in("general") if f"#{job_id}" in m["content"] and not m["flags"] & 64),
            None,
        ),
        what=f"the status message of job {job_id}",
    )
    return job_id, str(status["id"])


async def render(store: Store, job_id: int, mp4: bytes) -> None:
    """What a GPU worker does with a job: claim it, store the clip, mark it done."""
    job = await store.jobs.get(job_id)
    assert job is not None
    claimed = await store.jobs.claim_next("test-gpu", [job.model])
    assert claimed is not None and claimed.id == job_id
    ref = await store.jobs.put_media(job_id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job_id, "test-gpu", JobResult(ref, len(mp4), 64, 48, 24, 24.0, 1.0))


def uploads_to(fake: DiscordFake, message_id: str) -> int:
    """How many times the bot sent a file to this message (edits with a file, accepted or not)."""
    return sum(
        1 for r in fake.requests_to("PATCH", MESSAGE) if r.params.get("message_id") == message_id and r.files
    )


async def test_a_clip_over_the_servers_upload_limit_is_reported_to_its_member_and_not_uploaded_again(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de")
    fake.add_user("alice")
    big, big_status = await queue_video(fake, "ein Leuchtturm im Sturm", "jonas")
    # the guild lost its boost between render and post: Discord refuses the upload, as it always will
    fake.fail_next("PATCH", MESSAGE, 413, body=TOO_LARGE)
    await render(store, big, mp4)
    failed = await job_in_state(store, big, "failed")
    assert failed.error_code == "too_large_to_post"
    told = await wait_until(
        lambda: "Fehlgeschlagen" in fake.message(big_status)["content"] and fake.message(big_status),
        what="the member to be told on their status message",
    )
    assert "zu groß für diesen Server" in told["content"] and not told["attachments"]

    # the loop went on: the next clip is posted, and the refused one was uploaded once, never again
    small, small_status = await queue_video(fake, "a kite over the sea", "alice")
    await render(store, small, mp4)
    await wait_until(lambda: clip_messages(fake, "general"), what="the next clip")
    assert [m["id"] for m in clip_messages(fake, "general")] == [small_status]
    await job_posted(store, small)
    assert uploads_to(fake, big_status) == 1
    assert not any(f"videobot-{big}.mp4" in str(r.files) for r in fake.requests_to("POST", MESSAGES))


async def test_a_clip_refused_as_too_large_when_sent_as_a_new_message_is_reported_too(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    """No status message to edit (someone deleted it): the new message is refused, the member told."""
    fake = discord_fake
    fake.add_user("alice")
    job_id, status = await queue_video(fake, "a paper boat", "alice")
    await fake.delete_message(status)
    fake.fail_next("POST", MESSAGES, 413, body=TOO_LARGE)
    await render(store, job_id, mp4)
    told = await wait_until(
        lambda: next((m for m in fake.messages_in("general") if "Failed" in m["content"]), None),
        what="the member to be told",
    )
    assert "too large for this server" in told["content"] and not told["attachments"]
    assert clip_messages(fake, "general") == []
    assert (await job_posted(store, job_id)).state == "failed"


async def test_a_status_message_refused_by_a_rate_limit_storm_is_posted_once_the_storm_passes(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    """discord.py gives up after 5 tries of a 429; the member's status message still appears, once,
    and the clip takes its place."""
    fake = discord_fake
    fake.add_user("alice")
    fake.fail_next("POST", MESSAGES, 429, times=5, retry_after=0.05)
    handle = await fake.slash_command("video", {"prompt": "a windmill", "model": "tiny-ltx"}, user="alice")
    reply = await handle.wait_reply()
    job_id = int(str(reply["content"]).split("#")[1].split(":")[0])
    status = await wait_until(
        lambda: next((m for m in fake.messages_in("general") if f"#{job_id}" in m["content"]), None),
        timeout=30,
        what="the status message after the storm",
    )
    assert "Waiting" in status["content"]
    await render(store, job_id, mp4)
    await wait_until(lambda: clip_messages(fake, "general"), what="the clip")
    assert [m["id"] for m in fake.messages_in("general")] == [status["id"]]  # one message: the clip


async def test_a_status_message_posted_by_a_bot_killed_before_recording_it_is_adopted_not_left_behind(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, db_path: Path, mp4: bytes
) -> None:
    """The bot dies between Discord accepting a job's status message and the store recording its id
    (here: the status message is in the channel, its id is not in the store). The next bot turns that
    very message into the clip: the channel does not keep a stale "Waiting" message."""
    fake = discord_fake
    fake.add_user("alice")
    await bot_runner.start()
    job_id, status = await queue_video(fake, "a tram at night", "alice")
    await bot_runner.stop()
    # the state a kill leaves there (a test cannot time a SIGKILL to that instant): no id in the row
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE jobs SET status_message_id = NULL WHERE id = ?", (job_id,))
    await bot_runner.start()

    async def adopted() -> int | None:
        job = await store.jobs.get(job_id)
        return job.status_message_id if job is not None else None

    assert str(await wait_until(adopted, timeout=30, what="the status message to be adopted")) == status
    await render(store, job_id, mp4)
    await wait_until(lambda: clip_messages(fake, "general"), what="the clip")
    assert [m["id"] for m in fake.messages_in("general")] == [status]


async def test_a_channel_the_bot_may_not_post_in_is_tried_again_slower_and_gets_the_clip_once_allowed(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    job_id, status = await queue_video(fake, "a heron at dawn", "alice")
    # an admin took the bot's permission away: Discord answers 403 Missing Access, for now
    fake.fail_next("PATCH", MESSAGE, 403, times=1000, body={"message": "Missing Access", "code": 50001})
    await render(store, job_id, mp4)
    await wait_until(lambda: uploads_to(fake, status) >= 1, what="the first try")
    await asyncio.sleep(6)
    tries = uploads_to(fake, status)
    assert 2 <= tries <= 4, tries  # 1, 2 and 4 s apart: not once a pass (every second or so)
    fake.faults.clear()  # the permission is back
    posted = await wait_until(lambda: clip_messages(fake, "general"), timeout=30, what="the clip")
    assert len(posted) == 1 and str(posted[0]["id"]) == status
    assert (await job_posted(store, job_id)).state == "done"


def test_a_refused_clips_size_reads_in_the_unit_that_fits() -> None:
    assert (file_size(9_700_000), file_size(65_536), file_size(300)) == ("9.3 MiB", "64 KiB", "1 KiB")
