"""The web gallery's page of a clip made with a style names the style and its license and credits its
author: a free-text author as written, a member only by the name they agreed to be shown by (else "a
member of <server>"), never by their Discord id. On both backends."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from db.store import JobResult, Store
from db.store.styles import Style
from tests.store.conftest import FakeClock
from tests.store.helpers import spec
from tests.web.conftest import CHANNEL, NAMED, PUBLIC, PUBLIC_NAME, Gallery, Media, member
from tests.web.test_gallery_store import get, http

__all__ = ["http"]  # the gallery served on loopback, a fixture


async def styled(store: Store, clock: FakeClock, media: Media, style: Style, prompt: str) -> int:
    made = replace(spec(prompt), loras=((style.source, style.scale),), style=style.id, trigger=style.trigger)
    job = await store.jobs.enqueue(PUBLIC, CHANNEL, member(9), made, 1.0)
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, media.video, media.poster)
    clock.advance(1.0)
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(media.video), 256, 160, 24, 24.0, 1.0))
    assert await store.jobs.mark_posted(job.id, None, None)
    assert await store.jobs.set_public_channel(job.id, True)  # in a channel everyone sees
    return job.id


async def test_a_styled_clips_page_credits_the_style_without_a_members_id(
    http: tuple[str, aiohttp.ClientSession], store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    base, session = http

    async def add(name: str, author: str = "", author_id: int | None = None, license: str = "") -> Style:
        return await store.styles.add(
            PUBLIC,
            name,
            f"acme/{name.lower().replace(' ', '-')}",
            preset="ltx-video",
            family="ltx-video-2b",
            created_by=member(1),
            author=author,
            author_id=author_id,
            license=license,
        )

    free = await add("Claymation", author="Ana Lima", license="CC BY 4.0")
    named = await add("Ink wash", author_id=member(2))  # a member who agreed to be named
    unnamed = await add("Pastel", author_id=member(3), license="MIT")  # one who did not
    pages = {}
    for style in (free, named, unnamed):
        job_id = await styled(store, clock, media, style, f"a fox in {style.name}")
        status, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{job_id}")
        assert status == 200
        pages[style.name] = body.decode()
    assert 'Style: <span class="style-name">Claymation</span> by Ana Lima' in pages["Claymation"]
    assert "CC BY 4.0" in pages["Claymation"]
    assert f"Ink wash</span> by {NAMED}" in pages["Ink wash"]
    assert f"Pastel</span> by a member of {PUBLIC_NAME}" in pages["Pastel"]
    await store.styles.remove(PUBLIC, "Pastel")  # a removed style is still credited
    _, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{gallery.original.id}")
    assert b'class="style"' not in body  # a clip without a style says nothing of one
    for page in pages.values():
        assert str(member(2)) not in page and str(member(3)) not in page
