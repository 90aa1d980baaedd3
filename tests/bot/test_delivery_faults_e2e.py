"""A bad file hurts one clip, never the service: the others are still posted, and the member whose
clip cannot be posted is told why, in their language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.app import VideoBot
from db.store import Job, JobResult, Store
from generator.encode import encode_mp4
from tests.bot.conftest import BotRunner, job_in_state, job_posted, wait_until
from tests.bot.credentials_check import verdict_of
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.store.helpers import spec


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    frames = np.linspace(0, 255, 12 * 32 * 48 * 3).astype(np.uint8).reshape(12, 32, 48, 3)
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    encode_mp4(frames, 12, out)
    return out.read_bytes()


async def finished_clip(
    store: Store,
    fake: DiscordFake,
    mp4: bytes,
    user: int,
    locale: str,
    damage: Callable[[Path], None],
    media_dir: Path,
) -> Job:
    """A clip a worker rendered and stored, whose file is then damaged before the bot posts it."""
    channel = int(fake.channel("general").id)
    job = await store.jobs.enqueue(
        int(fake.guild.id), channel, user, spec(f"clip of {user}"), 1.0, locale=locale
    )
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    damage(media_dir / f"{job.id}.mp4")
    result = JobResult(ref, len(mp4), 48, 32, 12, 12.0, 1.0)
    assert await store.jobs.finish(job.id, "w1", result)
    return job


def into_a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def bit_rot(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)  # zeros where the pictures were
    path.write_bytes(bytes(data))


def no_poster(path: Path) -> None:
    path.with_suffix(".png").unlink()


def untouched(path: Path) -> None:
    assert path.is_file()


@pytest.mark.parametrize(
    "damage",
    [into_a_folder, Path.unlink, truncated, bit_rot],
    ids=["a-folder-in-its-place", "deleted", "truncated", "zeroed"],
)
async def test_one_bad_clip_is_reported_to_its_member_and_the_next_clip_is_still_posted(
    discord_fake: DiscordFake,
    bot: VideoBot,
    store: Store,
    db_path: Path,
    mp4: bytes,
    damage: Callable[[Path], None],
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de")
    media = db_path.parent / "media"
    bad = await finished_clip(store, fake, mp4, 1, "de", damage, media)
    good = await finished_clip(store, fake, mp4, 2, "en-US", untouched, media)
    await job_in_state(store, bad.id, "failed")
    told = await wait_until(
        lambda: next((m for m in fake.messages_in("general") if "Fehlgeschlagen" in m["content"]), None),
        what="the member to be told",
    )
    assert "Der fertige Clip ließ sich zum Posten nicht lesen." in told["content"] and not told["attachments"]
    posted = await wait_until(lambda: clip_messages(fake, "general"), what="the good clip")
    assert [f"#{good.id}" in m["content"] for m in posted] == [True]
    await job_posted(store, good.id)


async def test_a_clip_without_its_poster_is_posted_all_the_same(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path, mp4: bytes
) -> None:
    job = await finished_clip(store, discord_fake, mp4, 1, "de", no_poster, db_path.parent / "media")
    posted = await wait_until(lambda: clip_messages(discord_fake, "general"), what="the clip")
    assert f"#{job.id}" in posted[0]["content"]
    title = bot.model_title(job.model)  # the card says, in its member's language, that a model made it
    assert posted[0]["embeds"][0]["author"]["name"] == f"🤖 KI-generiertes Video · {title}"
    attached = discord_fake.attachments[posted[0]["attachments"][0]["id"]][1]
    stored = await store.jobs.get_media(job.id)
    assert stored is not None and attached == stored.video  # the clip, signed in its place in the store
    verdict = await verdict_of(attached, store)
    assert verdict.status == "valid" and verdict.ai_generated


async def test_a_clip_deleted_before_the_bot_recorded_its_post_does_not_come_back(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, db_path: Path, mp4: bytes
) -> None:
    """The bot edited the clip into its message and stopped before it recorded the post; its member
    pressed 🗑️ meanwhile. After the restart the clip is neither posted again nor reported as failed."""
    fake = discord_fake
    media = db_path.parent / "media"
    deleted = await finished_clip(store, fake, mp4, 1, "de", untouched, media)
    gone = 1_000_000_000_000_000_001  # its message, which the member deleted with it
    assert await store.jobs.set_status_message(deleted.id, gone)
    assert await store.jobs.delete_clip(deleted.id)
    good = await finished_clip(store, fake, mp4, 2, "en-US", untouched, media)
    await bot_runner.start()
    await job_posted(store, good.id)
    settled = await job_posted(store, deleted.id)
    assert settled.state == "done" and settled.deleted
    said = [m["content"] for m in fake.messages_in("general")]
    assert [f"#{good.id}" in text for text in said] == [True], said  # only the other clip: no failure
