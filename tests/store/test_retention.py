"""Media retention on both backends: a posted clip's video and poster, and the pictures its jobs started
from, go a set time after posting; the job row and its message stay. Nothing a job still needs goes:
a clip not posted yet, the clips a clip not posted yet is made from, a scene of an unfinished story, the
picture of a queued job, or a picture a member has just sent again."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import asyncpg
import pytest

from db.media import FileMedia
from db.spec import JobSpec
from db.store import Job, Store, open_store
from db.store.retention import DAY_S, media_pruned
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec

WORKER = "gpu-0"
ALICE, BOB = 11, 12
VIDEO, POSTER = b"\x00\x00\x00\x18ftypmp42 a clip", b"\x89PNG poster"
PICTURE = b"\x89PNG\r\n\x1a\n a member's picture"
WEEK = 7 * DAY_S


async def render(store: Store, job: Job) -> Job:
    """A worker claims ``job``, stores its clip and finishes it (not posted yet)."""
    claimed = await store.jobs.claim_next(WORKER, [MODEL])
    assert claimed is not None and claimed.id == job.id
    ref = await store.jobs.put_media(job.id, VIDEO + str(job.id).encode(), POSTER)
    assert await store.jobs.finish(job.id, WORKER, result(media_ref=ref))
    done = await store.jobs.get(job.id)
    assert done is not None and done.state == "done"
    return done


async def posted_clip(store: Store, job_spec: JobSpec | None = None, **enqueue: object) -> Job:
    job = await store.jobs.enqueue(GUILD, CHANNEL, ALICE, job_spec or spec(), 30.0, **enqueue)  # type: ignore[arg-type]
    await render(store, job)
    assert await store.jobs.mark_posted(job.id, 900_000 + job.id, None)
    posted = await store.jobs.get(job.id)
    assert posted is not None
    return posted


async def test_a_clip_posted_before_the_cutoff_loses_its_files_and_keeps_its_row(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    old = await posted_clip(store)
    clock.advance(WEEK + 60)
    recent = await posted_clip(store)

    report = await store.retention.prune_media(clock.now - WEEK)

    assert report.clips == (old.id,)
    assert await store.jobs.get_media(old.id) is None
    kept = await store.jobs.get_media(recent.id)
    assert kept is not None and kept.video == VIDEO + str(recent.id).encode() and kept.poster == POSTER
    gone = await store.jobs.get(old.id)
    assert gone is not None and gone.state == "done" and media_pruned(gone)
    assert gone.message_id == old.message_id and gone.channel_id == old.channel_id  # /show reposts it
    assert not media_pruned(recent)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()  # once


async def test_a_clip_that_could_never_be_posted_loses_its_files_after_the_period_too(
    store: Store, clock: FakeClock
) -> None:
    """Its channel was deleted before the post: the bot settled it as failed, with its files still kept."""
    job = await store.jobs.enqueue(GUILD, CHANNEL, ALICE, spec(), 30.0)
    await render(store, job)
    assert await store.jobs.fail_delivery(job.id, "channel_gone")
    assert await store.jobs.mark_posted(job.id, None, None)
    clock.advance(WEEK - 60)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()
    clock.advance(120)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == (job.id,)
    assert await store.jobs.get_media(job.id) is None


async def test_a_finished_clip_not_posted_yet_is_kept_however_old(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    waiting = await render(store, await store.jobs.enqueue(GUILD, CHANNEL, ALICE, spec(), 30.0))
    clock.advance(30 * DAY_S)

    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()
    assert await store.jobs.get_media(waiting.id) is not None
    assert await store.jobs.mark_posted(waiting.id, 123, None)  # the bot can still post it


@pytest.mark.parametrize("kind", ["extend", "hd", "bridge"])
async def test_the_clip_a_queued_or_running_job_is_made_from_keeps_its_mp4_until_that_clip_is_posted(
    store: Store, clock: FakeClock, kind: str
) -> None:
    """The worker reads the parent's frames (an extend, an HD version, a bridge from it), and the bot
    signs the new clip with the parent's signed file as an ingredient when it posts it."""
    await generous_caps(store)
    parent = await posted_clip(store)
    clock.advance(WEEK + 60)
    made = replace(spec("what happens next"), continues=parent.id)
    if kind == "hd":
        made = replace(made, continues=None, upscales=parent.id)
    child = await store.jobs.enqueue(GUILD, CHANNEL, BOB, made, 30.0, parent_id=parent.id, kind=kind)  # type: ignore[arg-type]

    assert (
        await store.retention.prune_media(clock.now - WEEK)
    ).clips == ()  # queued: the worker will read it
    claimed = await store.jobs.claim_next(WORKER, [MODEL])
    assert claimed is not None and claimed.id == child.id
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()  # running: it reads it now
    media = await store.jobs.get_media(parent.id)
    assert media is not None and media.video.startswith(VIDEO)

    ref = await store.jobs.put_media(child.id, VIDEO, b"")
    assert await store.jobs.finish(child.id, WORKER, result(media_ref=ref))
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()  # done: the bot signs it now
    assert await store.jobs.mark_posted(child.id, 800_000, None)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == (parent.id,)  # posted


async def test_both_clips_of_a_queued_bridge_are_kept_until_it_is_posted(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    first, second, other = await posted_clip(store), await posted_clip(store), await posted_clip(store)
    clock.advance(WEEK + 60)
    bridge = replace(spec("from one to the other"), continues=first.id, bridges_to=second.id)
    job = await store.jobs.enqueue(GUILD, CHANNEL, BOB, bridge, 30.0, parent_id=first.id, kind="bridge")
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == (other.id,)  # only the third
    assert await store.jobs.cancel(job.id, BOB)
    assert await store.jobs.mark_posted(job.id, None, None)  # its member was told
    assert sorted((await store.retention.prune_media(clock.now - WEEK)).clips) == [first.id, second.id]


async def test_a_remix_keeps_its_parent_until_it_is_posted_and_then_not(
    store: Store, clock: FakeClock
) -> None:
    """A remix needs no frames of its parent, but its content credentials name the parent's signed
    file; once posted it holds nothing."""
    await generous_caps(store)
    parent = await posted_clip(store)
    clock.advance(WEEK + 60)
    remix = await store.jobs.enqueue(
        GUILD, CHANNEL, BOB, spec("a remix"), 30.0, parent_id=parent.id, kind="remix"
    )
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()
    await render(store, remix)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()  # the bot signs it now
    assert await store.jobs.mark_posted(remix.id, 800_000, None)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == (parent.id,)


async def test_a_scene_of_an_unfinished_story_is_kept_until_the_story_ends(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    scene = await posted_clip(store)
    story = await store.stories.create_story(
        GUILD, CHANNEL, 555, ALICE, "The boat", scene.id, scene.spec.prompt
    )
    clock.advance(WEEK + 60)

    assert (await store.retention.prune_media(clock.now - WEEK)).clips == ()  # the film is cut from it
    assert await store.stories.finish_story(story.id)
    assert (await store.retention.prune_media(clock.now - WEEK)).clips == (scene.id,)


async def test_a_picture_goes_once_no_job_that_starts_from_it_still_needs_it(
    store_url: str, backend: str
) -> None:
    # pictures are stamped with the real time (the bot's): this store's clock runs a month behind it,
    # and the picture is made to look two months old
    clock = FakeClock(time.time() - 30 * DAY_S)
    async with await open_store(store_url, clock=clock) as store:
        await generous_caps(store)
        ref = await store.jobs.put_input(PICTURE, "png")
        await age_picture(store, store_url, ref, 60 * DAY_S)
        picture_spec = replace(spec(), start_image=True, image_ref=ref)
        first = await posted_clip(store, picture_spec)
        clock.advance(WEEK + 60)
        # a reroll from the same picture waits in the queue: the picture stays
        queued = await store.jobs.enqueue(
            GUILD, CHANNEL, BOB, picture_spec, 30.0, parent_id=first.id, kind="reroll"
        )
        report = await store.retention.prune_media(clock.now - WEEK)
        assert report.clips == (first.id,) and report.pictures == ()
        assert await store.jobs.get_input(ref) == PICTURE

        await render(store, queued)  # done, but not posted yet: still kept
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == ()
        assert await store.jobs.mark_posted(queued.id, 42, None)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == ()  # posted just now
        clock.advance(WEEK + 60)

        report = await store.retention.prune_media(clock.now - WEEK)
        assert report.clips == (queued.id,) and report.pictures == (ref,)
        assert await store.jobs.get_input(ref) is None
        assert (
            await store.jobs.put_input(PICTURE, "png") == ref
        )  # the same picture, sent again, is stored anew
        assert await store.jobs.get_input(ref) == PICTURE


async def test_a_clips_end_picture_is_kept_while_a_job_still_needs_it(store_url: str, backend: str) -> None:
    clock = FakeClock(time.time() - 30 * DAY_S)
    async with await open_store(store_url, clock=clock) as store:
        await generous_caps(store)
        ref = await store.jobs.put_input(PICTURE, "png")
        await age_picture(store, store_url, ref, 60 * DAY_S)
        queued = await store.jobs.enqueue(
            GUILD, CHANNEL, BOB, replace(spec(), end_image=True, end_image_ref=ref), 30.0
        )
        clock.advance(WEEK + 60)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == ()  # it ends on it
        assert await store.jobs.get_input(ref) == PICTURE
        await render(store, queued)
        assert await store.jobs.mark_posted(queued.id, 42, None)
        clock.advance(WEEK + 60)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == (ref,)


async def test_a_picture_sent_again_is_kept_while_its_new_job_is_being_queued(
    store_url: str, backend: str
) -> None:
    clock = FakeClock(time.time() - WEEK - 3600)
    async with await open_store(store_url, clock=clock) as store:
        await generous_caps(store)
        ref = await store.jobs.put_input(PICTURE, "png")
        await posted_clip(store, replace(spec(), start_image=True, image_ref=ref))
        await age_picture(store, store_url, ref, WEEK + 3600)  # stored with that clip, a week ago
        clock.now = time.time()
        # a member sends it again: the bot stores it, and the prune runs before the job is queued
        assert await store.jobs.put_input(PICTURE, "png") == ref
        report = await store.retention.prune_media(clock.now - WEEK)
        assert report.pictures == () and len(report.clips) == 1
        assert await store.jobs.get_input(ref) == PICTURE
        # not sent again (its time moved back once more): nothing needs it, it goes
        await age_picture(store, store_url, ref, WEEK + 3600)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == (ref,)


async def age_picture(store: Store, store_url: str, ref: str, seconds: float) -> None:
    """Make a stored picture look ``seconds`` older: its file's time, or its row's."""
    media = store._media
    if isinstance(media, FileMedia):
        path = media.input_path(ref)
        stamp = path.stat().st_mtime - seconds
        os.utime(path, (stamp, stamp))
        return
    conn = await asyncpg.connect(store_url)
    try:
        await conn.execute("UPDATE inputs SET created_at = created_at - $1 WHERE ref = $2", seconds, ref)
    finally:
        await conn.close()
