"""/video with a picture: checked before anything is queued; a bad one gets a short private reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.app import VideoBot
from bot.pictures import MAX_BYTES, PictureRefused, check_picture
from db.store import Store
from tests.discord_fake import DiscordFake


def picture(width: int = 128, height: int = 96, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), (200, 120, 40))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (("notes.png", b"this is not a picture at all"), "not a picture I can read"),
        (("huge.png", b"\x89PNG" + b"\0" * (MAX_BYTES + 1)), "at most 10 MiB"),
        (("tiny.png", picture(32, 32)), "each side must be 64–4096 pixels"),
        (("anim.gif", picture(fmt="GIF")), "not a picture I can read"),
    ],
    ids=["not-an-image", "oversized", "tiny", "gif"],
)
async def test_a_bad_picture_is_refused_privately_and_nothing_is_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, upload: tuple[str, bytes], words: str
) -> None:
    handle = await discord_fake.slash_command(
        "video", {"prompt": "make it move", "model": "tiny-ltx", "image": upload}
    )
    reply = await handle.wait_reply()
    assert handle.ephemeral and words in reply["content"], reply["content"]
    assert await store.jobs.active_jobs() == []
    assert discord_fake.messages_in("general") == []


async def test_a_picture_for_a_model_that_cannot_start_from_one_is_refused(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    handle = await discord_fake.slash_command(
        "video", {"prompt": "make it move", "model": "tiny-wan", "image": ("cat.png", picture())}
    )
    reply = await handle.wait_reply()
    assert handle.ephemeral and "cannot start from a picture" in reply["content"]
    assert await store.jobs.active_jobs() == []


def test_a_truncated_picture_is_refused_before_it_reaches_a_worker() -> None:
    whole = picture(256, 256, "JPEG")
    assert check_picture(whole) == "jpg"
    with pytest.raises(PictureRefused) as refused:
        check_picture(whole[: len(whole) // 2])
    assert refused.value.code == "not_a_picture"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = picture(5000, 64)  # fine to read, too large to animate
    with pytest.raises(PictureRefused) as refused:
        check_picture(bomb)
    assert (refused.value.code, refused.value.params["width"]) == ("bad_size", 5000)
