"""The content credentials the bot signs into a clip when it posts it (bot/credentials.py), against a real
store and real keys, without Discord: a clip that fills the room its worker leaves still fits its upload
limit once signed, an extend's manifest carries its parent's, a clip is signed once however often its
post is tried, and a story's film encoded again to fit is signed part by part within the limit."""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import VideoBot
from bot.credentials import public_source, sign_film, sign_for_post
from bot.film import fit_film
from db.credentials import ClipFacts, ensure_keys, post_reserve, sign_clip
from db.media import Media
from db.presets import PresetCatalog
from db.store import Job, JobResult, Store
from generator.encode import encode_mp4
from generator.worker import Worker, WorkerConfig
from tests.bot.credentials_check import verdict_of
from tests.discord_fake import DiscordFake
from tests.store.helpers import spec

GUILD, CHANNEL, OWNER, BOB = 1001, 2002, 3003, 3004
SERVER = "Pixel Forge"
LIMIT = 400_000


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 255, (24, 64, 96, 3), dtype=np.uint8)
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    encode_mp4(frames, 12, out)
    return out.read_bytes()


def padded(mp4: bytes, size: int) -> bytes:
    """``mp4`` grown to ``size`` bytes by a top-level ``free`` box: a clip that fills its budget."""
    room = size - len(mp4)
    assert room >= 8
    return mp4 + struct.pack(">I4s", room, b"free") + bytes(room - 8)


async def finished(
    store: Store, catalog: PresetCatalog, user: int, video: bytes, poster: bytes = b"", **kw: object
) -> Job:
    """A clip a worker rendered and stored (not posted yet)."""
    job = await store.jobs.enqueue(
        GUILD,
        CHANNEL,
        user,
        replace(spec(model="tiny-ltx"), upload_limit=LIMIT),
        1.0,
        **kw,  # type: ignore[arg-type]
    )
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, video, poster)
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(video), 96, 64, 24, 12.0, 1.0))
    found = await store.jobs.get(job.id)
    assert found is not None
    return found


async def post(store: Store, catalog: PresetCatalog, job: Job) -> Media:
    """What the delivery loop uploads for ``job``: its clip signed as the bot signs it."""
    media = await store.jobs.get_media(job.id)
    assert media is not None
    lineage = await store.jobs.lineage(job.id)
    keys = ensure_keys()
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    signed = await sign_for_post(store, catalog, keys, job, media, server=SERVER, lineage=lineage, style=None)
    assert signed.error is None, signed.error
    return signed.media


async def test_an_extend_that_fills_its_workers_budget_fits_once_signed_and_carries_its_parent(
    store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    parent = await finished(store, catalog, OWNER, mp4)
    await post(store, catalog, parent)
    parent = await store.jobs.get(parent.id)  # type: ignore[assignment]
    assert parent.manifest_bytes and parent.manifest_bytes > 0

    extend = await finished(store, catalog, BOB, b"", parent_id=parent.id, kind="extend")
    worker = Worker(store, catalog, None, WorkerConfig("w1", ("tiny-ltx",)))  # type: ignore[arg-type]
    budget = await worker.clip_bytes(extend)
    assert budget == LIMIT - post_reserve([parent.manifest_bytes])
    await store.jobs.put_media(extend.id, padded(mp4, budget), b"")

    posted = await post(store, catalog, extend)
    assert budget < len(posted.video) <= LIMIT
    verdict = await verdict_of(posted.video, store)
    assert verdict.status == "valid" and verdict.ai_generated
    assert verdict.authors == (f"a member of {SERVER}",)  # neither author agreed to be named
    (source,) = verdict.ingredients
    assert (source.title, source.relationship) == (f"videobot clip #{parent.id}", "componentOf")
    assert source.signed
    assert source.model is not None and source.created is not None


async def test_a_post_tried_again_uploads_the_clip_signed_the_first_time(
    store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    job = await finished(store, catalog, OWNER, mp4)
    first = await post(store, catalog, job)
    again = await post(store, catalog, job)  # the bot died after signing, before the post was marked
    assert again.video == first.video
    stored = await store.jobs.get_media(job.id)
    assert stored is not None and stored.video == first.video


async def test_the_poster_the_hall_of_fame_and_gallery_show_is_signed_as_a_still_of_the_signed_clip(
    store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 90, 40)).save(png, format="PNG")
    job = await finished(store, catalog, OWNER, mp4, poster=png.getvalue())
    posted = await post(store, catalog, job)
    stored = await store.jobs.get_media(job.id)
    assert stored is not None and stored.poster == posted.poster != png.getvalue()
    trust = await store.credentials.trust()
    still = trust.verdict(posted.poster, ".png")
    assert (still.status, still.ai_generated, still.model_facts["preset"]) == ("valid", True, "tiny-ltx")
    (clip,) = still.ingredients  # the clip it was taken from, with the clip's own manifest inside
    assert (clip.relationship, clip.signed, clip.title) == ("parentOf", True, f"videobot clip #{job.id}")
    with Image.open(io.BytesIO(posted.poster)) as picture:  # the same picture, still a PNG
        assert picture.format == "PNG" and picture.getpixel((5, 5)) == (200, 90, 40)


async def test_a_member_who_agreed_is_named_and_the_others_are_not(
    store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    await store.profiles.set_gallery_name(GUILD, BOB, True, "Bob the Builder")
    await store.profiles.set_gallery_name(GUILD, OWNER, False, "Secret Owner")
    parent = await finished(store, catalog, OWNER, mp4)
    await post(store, catalog, parent)
    remix = await finished(store, catalog, BOB, mp4, parent_id=parent.id, kind="remix")
    posted = await post(store, catalog, remix)
    verdict = await verdict_of(posted.video, store)
    assert verdict.authors == (f"a member of {SERVER}", "Bob the Builder")
    assert b"Secret Owner" not in posted.video
    (source,) = verdict.ingredients
    assert (source.relationship, source.authors) == ("inputTo", (f"a member of {SERVER}",))


async def test_a_storys_film_encoded_again_to_fit_is_signed_part_by_part_within_the_limit(
    store: Store, catalog: PresetCatalog, mp4: bytes, tmp_path: Path
) -> None:
    scene = await finished(store, catalog, OWNER, mp4)
    posted = await post(store, catalog, scene)
    scene = await store.jobs.get(scene.id)  # type: ignore[assignment]
    limit = len(posted.video) * 2 // 3  # the film is over the channel's limit: encoded again
    parts = fit_film(posted.video, limit, post_reserve([scene.manifest_bytes or 0]))
    keys = ensure_keys()
    signed = await sign_film(store, catalog, keys, scene, parts, server=SERVER, name="story-1", limit=limit)
    assert len(signed) == len(parts) >= 1
    for data in signed:
        assert len(data) <= limit
        verdict = await verdict_of(data, store)
        assert verdict.status == "valid" and verdict.ai_generated
        (source,) = verdict.ingredients
        assert source.title == f"videobot clip #{scene.id}" and source.signed


async def test_a_clip_with_no_room_left_for_its_manifest_is_posted_unsigned_rather_than_lost(
    store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    job = await finished(store, catalog, OWNER, padded(mp4, LIMIT))  # a worker that left no room
    media = await store.jobs.get_media(job.id)
    assert media is not None
    keys = ensure_keys()
    signed = await sign_for_post(store, catalog, keys, job, media, server=SERVER, lineage=[job], style=None)
    assert not signed.signed_now and signed.error is not None and "over the limit" in signed.error
    assert signed.media.video == media.video  # the clip as it was, to be posted all the same
    stored = await store.jobs.get_media(job.id)
    assert stored is not None and stored.video == media.video


def test_a_manifest_names_a_hub_model_by_its_id_and_a_local_one_by_its_folder_only() -> None:
    assert public_source("Lightricks/LTX-Video") == "Lightricks/LTX-Video"
    assert public_source("/srv/operator/models/ltx-2") == "ltx-2"
    assert public_source("C:\\models\\wan") == "wan"
    assert public_source("./models/tiny") == "tiny"


async def test_a_members_picture_goes_into_the_manifest_as_its_pixels_only(
    store: Store, catalog: PresetCatalog, mp4: bytes, tmp_path: Path
) -> None:
    from PIL import Image

    photo = Image.new("RGB", (96, 64), (200, 40, 40))
    exif = Image.Exif()
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x8298] = "(c) Secret Photographer"  # Copyright
    photo.save(tmp_path / "photo.jpg", "JPEG", exif=exif)
    # the photo carries content credentials of its own, naming its maker (a camera's, an editor's)
    own = ClipFacts("camera", "Camera", "-", "-", authors=("Secret Photographer",))
    sign_clip(tmp_path / "photo.jpg", tmp_path / "signed.jpg", own, ensure_keys(tmp_path / "camera"))
    data = (tmp_path / "signed.jpg").read_bytes()
    assert data.count(b"Secret Photographer") >= 2  # in its EXIF and in its manifest
    ref = await store.jobs.put_input(data, "jpg")
    job = await store.jobs.enqueue(
        GUILD, CHANNEL, OWNER, replace(spec(model="tiny-ltx"), image_ref=ref, start_image=True), 1.0
    )
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    stored = await store.jobs.put_media(job.id, mp4, b"")
    assert await store.jobs.finish(job.id, "w1", JobResult(stored, len(mp4), 96, 64, 24, 12.0, 1.0))
    finished_job = await store.jobs.get(job.id)
    assert finished_job is not None
    posted = await post(store, catalog, finished_job)
    assert b"Secret Photographer" not in posted.video  # nothing of the file but its pixels
    (picture,) = (await verdict_of(posted.video, store)).ingredients
    assert (picture.title, picture.relationship) == ("starting picture", "inputTo")
    assert picture.format == "image/png" and not picture.signed


async def test_show_signs_a_clip_posted_before_signing_and_refuses_one_not_posted_yet(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, catalog: PresetCatalog, mp4: bytes
) -> None:
    fake = discord_fake
    delivery = bot.get_cog("DeliveryCog")
    assert delivery is not None and delivery.task is not None  # type: ignore[attr-defined]
    delivery.task.cancel()  # type: ignore[attr-defined]  # this clip is posted as an older videobot did
    guild, channel, owner = int(fake.guild.id), int(fake.channel("general").id), int(fake.user("owner").id)
    old = await store.jobs.enqueue(guild, channel, owner, spec(model="tiny-ltx"), 1.0)
    assert await store.jobs.claim_next("w1", [old.model]) is not None
    ref = await store.jobs.put_media(old.id, mp4, b"")
    assert await store.jobs.finish(old.id, "w1", JobResult(ref, len(mp4), 96, 64, 24, 12.0, 1.0))
    assert await store.jobs.mark_posted(old.id, 123_000_000_000_000_001, None)

    shown = await fake.slash_command("show", {"job": old.id})
    reply = await shown.wait_reply(timeout=15)
    attached = fake.attachments[reply["attachments"][0]["id"]][1]
    verdict = await verdict_of(attached, store)
    assert verdict.status == "valid" and verdict.ai_generated  # signed as it is shown again
    stored = await store.jobs.get_media(old.id)
    assert stored is not None and stored.video == attached  # and kept signed

    waiting = await store.jobs.enqueue(guild, channel, owner, spec(model="tiny-ltx"), 1.0)
    refused = await fake.slash_command("show", {"job": waiting.id})
    assert f"Clip #{waiting.id} is not finished." in (await refused.wait_reply())["content"]
