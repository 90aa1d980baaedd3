"""Keyframes through the spec-checked Discord (issue 19): /video ends on a picture or loops, its pictures
are checked before anything is stored or queued, a model that cannot do what was asked is refused in the
member's language, /video offers only models that can, and ♾️ Loop under a clip of a model that loops
queues a looping version of it from its first frame, in its thread, charged to whoever asked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import VideoBot
from db.media import input_ref
from db.presets import PresetCatalog
from db.store import Store
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.test_pictures_e2e import picture
from tests.bot.test_video_e2e import clip_messages, custom_ids
from tests.discord_fake import DiscordFake

KEYS = "tiny-keys"  # the tiny LTX with every keyframe mode
PLAIN = "tiny-plain"  # the tiny LTX that starts from text or a picture only


@pytest.fixture(scope="module")
def presets_file(presets_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's presets and two of the tiny LTX's: one that ends on pictures and loops, one that
    does neither (whatever the built-in presets say by then)."""
    presets = json.loads(presets_file.read_text())
    tiny = presets["tiny-ltx"]
    presets[KEYS] = {**tiny, "title": "Tiny keys", "modes": ["text", "image", "continue", "end", "loop"]}
    presets[PLAIN] = {**tiny, "title": "Tiny plain", "modes": ["text", "image"]}
    path = tmp_path_factory.mktemp("keyframes") / "presets.json"
    path.write_text(json.dumps(presets, indent=2))
    return path


@pytest.fixture(scope="module")
def catalog(presets_file: Path) -> PresetCatalog:
    return PresetCatalog.load(presets_file)


def modes(catalog: PresetCatalog, name: str) -> set[str]:
    preset = catalog.get(name)
    assert preset is not None, name
    return set(preset.modes)


def painted(colour: tuple[int, int, int], width: int = 128, height: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


FIRST, LAST = painted((220, 40, 40)), painted((40, 40, 220))


async def refused(fake: DiscordFake, options: dict[str, Any], **how: Any) -> str:
    handle = await fake.slash_command("video", {"prompt": "a door opens", **options}, **how)
    reply = await handle.wait_reply()
    assert handle.ephemeral, reply
    return str(reply["content"])


async def nothing_kept(fake: DiscordFake, store: Store, *pictures: bytes) -> None:
    assert await store.jobs.active_jobs() == []
    assert fake.messages_in("general") == []
    for data in pictures:
        assert await store.jobs.get_input(input_ref(data, "png")) is None


async def test_pictures_and_modes_are_checked_before_anything_is_stored_or_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    # a bad last picture beside a good first one: neither is stored
    words = await refused(fake, {"model": KEYS, "image": ("a.png", FIRST), "end_image": ("b.png", b"no")})
    assert "not a picture I can read" in words
    tiny = ("tiny.png", picture(32, 32))
    words = await refused(fake, {"model": KEYS, "image": ("a.png", FIRST), "end_image": tiny})
    assert "each side must be 64–4096 pixels" in words
    # a loop ends on its own first frame: it takes no end picture
    words = await refused(fake, {"model": KEYS, "end_image": ("b.png", LAST), "loop": True})
    assert "A loop ends on its own first frame" in words
    # a model that cannot end on a picture, or loop, says which can
    words = await refused(fake, {"model": PLAIN, "end_image": ("b.png", LAST)})
    assert "Tiny plain cannot end on a picture" in words and KEYS in words and PLAIN not in words
    words = await refused(fake, {"model": PLAIN, "loop": True})
    assert "Tiny plain cannot make a loop" in words and KEYS in words
    # in the member's language, with the German option names
    words = await refused(
        fake,
        {"beschreibung": "eine Tür geht auf", "modell": PLAIN, "endbild": ("b.png", LAST)},
        locale="de",
    )
    assert "Tiny plain kann nicht auf einem Bild enden" in words
    words = await refused(
        fake, {"beschreibung": "eine Tür", "endbild": ("b.png", LAST), "schleife": True}, locale="de"
    )
    assert "Eine Schleife endet auf ihrem eigenen ersten Bild" in words
    await nothing_kept(fake, store, FIRST, LAST)

    # from the first picture to the last: both are stored with the job
    handle = await fake.slash_command(
        "video",
        {"prompt": "red turns blue", "model": KEYS, "image": ("a.png", FIRST), "end_image": ("b.png", LAST)},
    )
    assert "Queued as #1" in (await handle.wait_reply())["content"]
    job = await store.jobs.get(1)
    assert job is not None and job.spec.start_image and job.spec.end_image and not job.spec.loop
    assert job.spec.image_ref is not None and job.spec.end_image_ref is not None
    assert await store.jobs.get_input(job.spec.image_ref) == FIRST
    assert await store.jobs.get_input(job.spec.end_image_ref) == LAST
    # without a model: one that can end on a picture, not the default that cannot
    handle = await fake.slash_command("video", {"prompt": "the sun sets", "end_image": ("b.png", LAST)})
    assert "Queued as #2" in (await handle.wait_reply())["content"]
    second = await store.jobs.get(2)
    assert second is not None and "end" in modes(bot.catalog, second.model)


async def test_the_model_list_offers_only_models_a_worker_serves_for_what_was_asked(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    await store.workers.register_worker("gpu-1", "host", "cpu", [KEYS, PLAIN, "tiny-wan"], state="ready")

    async def offered(options: dict[str, Any]) -> list[str]:
        typing = await fake.autocomplete(
            "video", {"prompt": "a door", "model": "", **options}, focused="model"
        )
        await typing.wait_ack()
        return [c["value"] for c in typing.choices or []]

    def able(*wanted: str) -> list[str]:
        return [n for n in (KEYS, PLAIN, "tiny-wan") if set(wanted) <= modes(bot.catalog, n)]

    assert await offered({}) == [KEYS, PLAIN, "tiny-wan"]
    assert await offered({"image": ("a.png", FIRST)}) == able("image")
    ending = await offered({"end_image": ("b.png", LAST)})
    assert ending == able("end") and KEYS in ending and PLAIN not in ending
    looping = await offered({"loop": True})
    assert looping == able("loop") and KEYS in looping and PLAIN not in looping
    assert await offered({"loop": False}) == [KEYS, PLAIN, "tiny-wan"]


async def test_a_clip_ends_on_a_picture_and_loop_makes_it_loop_from_its_first_frame(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    worker.start()
    # only an end picture: the clip ends there; and a clip of a model that does not loop
    handle = await fake.slash_command(
        "video", {"prompt": "a door opens", "model": KEYS, "seconds": 1, "end_image": ("b.png", LAST)}
    )
    assert "Queued as #1" in (await handle.wait_reply())["content"]
    handle = await fake.slash_command("video", {"prompt": "a quiet lake", "model": PLAIN, "seconds": 1})
    assert "Queued as #2" in (await handle.wait_reply())["content"]
    for job_id in (1, 2):
        done = await job_in_state(store, job_id, "done", "failed")
        assert done.state == "done", done.error_text
    ending = await store.jobs.get(1)
    assert ending is not None and ending.spec.end_image and not ending.spec.start_image
    assert ending.spec.end_image_ref is not None
    assert await store.jobs.get_input(ending.spec.end_image_ref) == LAST

    def posted(job_id: int) -> dict[str, Any] | None:
        return next((m for m in clip_messages(fake, "general") if f"#{job_id}" in m["content"]), None)

    clip = await wait_until(lambda: posted(1), what="the clip that ends on a picture")
    plain = await wait_until(lambda: posted(2), what="the clip of a model that does not loop")
    assert "vb:loop:1" in custom_ids(clip)
    assert not any(c.startswith("vb:loop:") for c in custom_ids(plain))

    # anyone may loop anyone's clip: charged to them, from the clip's first frame, in its thread
    thread = await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")
    pressed = await fake.click(clip, "vb:loop:1", user="bob")
    assert "Queued as #3" in (await pressed.wait_reply())["content"]
    assert pressed.ephemeral
    loop = await job_in_state(store, 3, "done", "failed")
    assert loop.state == "done", loop.error_text
    assert (loop.parent_id, loop.user_id, loop.model) == (1, int(fake.user("bob").id), KEYS)
    assert loop.spec.loop and loop.spec.start_image and not loop.spec.end_image
    assert (loop.spec.prompt, loop.spec.seed) == (ending.spec.prompt, ending.spec.seed)
    assert loop.spec.image_ref is not None
    frame = await store.jobs.get_input(loop.spec.image_ref)
    assert frame is not None
    with Image.open(io.BytesIO(frame)) as first:  # the clip's own first frame, at the clip's size
        assert first.format == "PNG" and first.size == (ending.width, ending.height)
    looped = await wait_until(lambda: clip_messages(fake, thread), what="the loop in the clip's thread")
    assert "#3" in looped[0]["content"]
    assert not any(c.startswith("vb:loop:") for c in custom_ids(looped[0]))  # a loop is not looped again
    assert not fake.pinged_anyone()
