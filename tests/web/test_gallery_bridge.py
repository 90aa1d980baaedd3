"""The web gallery's page of a bridge names the two clips it joins, by number; the clip it starts from
lists it among the clips made from it. No member's id reaches either page. On both backends."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from db.store import JobResult, Store
from tests.store.conftest import FakeClock
from tests.store.helpers import spec
from tests.web.conftest import CHANNEL, PUBLIC, Gallery, Media, member
from tests.web.test_gallery_store import get, http

__all__ = ["http"]  # the gallery served on loopback, a fixture


async def test_a_bridge_page_names_both_clips_it_joins(
    http: tuple[str, aiohttp.ClientSession], store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    base, session = http
    first, second = gallery.original, gallery.extended
    bridge_spec = replace(spec("the fox leaps across"), continues=first.id, bridges_to=second.id)
    bridge = await store.jobs.enqueue(
        PUBLIC, CHANNEL, member(9), bridge_spec, 1.0, parent_id=first.id, kind="bridge"
    )
    assert await store.jobs.claim_next("w1", [bridge.model]) is not None
    ref = await store.jobs.put_media(bridge.id, media.video, media.poster)
    clock.advance(1.0)
    assert await store.jobs.finish(bridge.id, "w1", JobResult(ref, len(media.video), 256, 160, 24, 24.0, 1.0))
    assert await store.jobs.mark_posted(bridge.id, None, None)
    assert await store.jobs.set_public_channel(bridge.id, True)  # in a channel everyone sees

    status, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{bridge.id}")
    assert status == 200 and f"bridge from #{first.id} to #{second.id}".encode() in body
    assert f'href="/g/{PUBLIC}/clip/{first.id}"'.encode() in body  # the clip it starts from
    _, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{first.id}")
    assert f"bridge to #{second.id}".encode() in body  # made from this clip
    _, listing, _ = await get(session, f"{base}/g/{PUBLIC}?sort=new")
    assert f"bridge from #{first.id} to #{second.id}".encode() in listing
    for page in (body, listing):
        assert str(member(9)).encode() not in page
