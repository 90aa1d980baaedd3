"""Who may see a clip again, in the store (migration V22), on both backends: the web gallery lists and
serves only clips posted where @everyone could view them (``jobs.public_channel`` true), never one whose
channel is private or not known yet (posted before it was recorded); the bot finds the clips it has not
recorded yet; and the copies /show posted are kept with their clip, so deleting it deletes them."""

from __future__ import annotations

from db.store import Job, Store
from tests.store.helpers import CHANNEL, GUILD, MODEL, result, spec


async def posted(store: Store, prompt: str, message_id: int) -> Job:
    job = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec(prompt), 30)
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == job.id
    ref = await store.jobs.put_media(job.id, b"mp4 " + prompt.encode(), b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "w1", result(media_ref=ref))
    assert await store.jobs.mark_posted(job.id, message_id, None)
    return job


async def test_the_gallery_shows_only_clips_posted_where_everyone_could_view_them(store: Store) -> None:
    await store.settings.update_settings(GUILD, gallery_public=True)
    public = await posted(store, "a paper boat", 7001)
    private = await posted(store, "the staff party plans", 7002)
    unknown = await posted(store, "an older clip", 7003)
    assert (await store.jobs.get(unknown.id)).public_channel is None  # type: ignore[union-attr]
    assert await store.jobs.set_public_channel(public.id, True)
    assert await store.jobs.set_public_channel(private.id, False)
    assert not await store.jobs.set_public_channel(999_999, True)

    newest = await store.gallery.gallery_newest(GUILD)
    best = await store.gallery.gallery_best(GUILD, "all")
    assert [e.job.id for e in newest or []] == [public.id] == [e.job.id for e in best or []]
    guild = await store.gallery.gallery_guild(GUILD)
    assert guild is not None and guild.clip_count == 1
    for hidden in (private, unknown):
        assert await store.gallery.gallery_job(hidden.id) is None
        assert await store.gallery.gallery_media(hidden.id) is None
        assert await store.gallery.gallery_clip(GUILD, hidden.id) is None
    assert await store.gallery.gallery_media(public.id) is not None

    # the clips whose channel is not known, a page at a time: the bot records them at start
    assert [j.id for j in await store.jobs.visibility_unknown()] == [unknown.id]
    assert await store.jobs.visibility_unknown(after=unknown.id) == []
    assert await store.jobs.set_public_channel(unknown.id, True)
    assert await store.jobs.visibility_unknown() == []
    assert [e.job.id for e in await store.gallery.gallery_newest(GUILD) or []] == [unknown.id, public.id]


async def test_the_copies_show_posted_are_kept_with_their_clip(store: Store) -> None:
    clip = await posted(store, "a kite", 7001)
    other = await posted(store, "a drum", 7002)
    assert await store.jobs.copies(clip.id) == []
    await store.jobs.add_copy(clip.id, 301, 8001)
    await store.jobs.add_copy(clip.id, 302, 8002)
    await store.jobs.add_copy(clip.id, 301, 8001)  # recorded once
    await store.jobs.add_copy(other.id, 301, 8003)
    assert await store.jobs.copies(clip.id) == [(301, 8001), (302, 8002)]
    assert await store.jobs.copies(other.id) == [(301, 8003)]
