"""The gallery as pages people share, over HTTP on SQLite and PostgreSQL: servers by name, authors by
the name they agreed to (else "a member of <server>"), no member's Discord id anywhere on a page, link
previews (Open Graph, Twitter card) whose absolute URLs the gallery serves, the newest clips, and pages
of 24."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from db.presets import PresetCatalog
from db.store import Job, Store
from tests.store.conftest import FakeClock
from tests.web.conftest import (
    MENTION_PROMPT,
    NAMED,
    PUBLIC,
    PUBLIC_NAME,
    Gallery,
    Media,
    crowd,
    member,
    meta_tags,
)
from videobot.web import build_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    base: str  # where the test reaches the gallery
    public: str  # the --public-url the pages link to (here the same server, under another name)
    session: aiohttp.ClientSession

    async def page(self, path: str) -> str:
        async with self.session.get(self.base + path) as response:
            assert response.status == 200, path
            assert response.content_type == "text/html"
            return await response.text()

    async def status(self, path: str) -> int:
        async with self.session.get(self.base + path) as response:
            return response.status

    async def fetch(self, url: str) -> tuple[int, str, bytes]:
        """A URL the pages link to, absolute on the public address, fetched from the gallery."""
        assert url.startswith(self.public + "/"), url
        async with self.session.get(self.base + url.removeprefix(self.public)) as response:
            return response.status, response.content_type, await response.read()


@pytest.fixture
async def site(store: Store, gallery: Gallery) -> AsyncIterator[Site]:
    port = free_port()
    public = f"http://localhost:{port}"  # not the address the test uses: the pages must use this one
    server = TestServer(build_app(store, public_url=public), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield Site(f"http://127.0.0.1:{port}", public, session)
    finally:
        await server.close()


def shown_clips(html: str) -> list[int]:
    """The clip numbers of a list page's cards, in order."""
    return [int(n) for n in re.findall(r'<p class="prompt"><a href="/g/\d+/clip/(\d+)">', html)]


async def every_page(site: Site, gallery: Gallery, clips: list[Job]) -> dict[str, str]:
    paths = ["/", f"/g/{PUBLIC}"]
    paths += [f"/g/{PUBLIC}?period={p}" for p in ("day", "week", "all")]
    paths += [f"/g/{PUBLIC}?sort=new", f"/g/{PUBLIC}?sort=new&page=2", f"/g/{PUBLIC}?period=all&page=2"]
    paths += [f"/g/{PUBLIC}/clip/{job.id}" for job in clips]
    return {path: await site.page(path) for path in paths}


async def test_no_page_shows_a_members_discord_id(
    site: Site, store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    g = gallery
    more = await crowd(store, clock, media, 20)  # so that there is a page 2
    clips = [g.old, g.original, g.extended, g.hostile, g.long, g.mentions, *more]
    pages = await every_page(site, g, clips)
    for path, html in pages.items():
        for member_id in g.member_ids:
            assert str(member_id) not in html, f"{path} shows member id {member_id}"
    mentions = pages[f"/g/{PUBLIC}/clip/{g.mentions.id}"]
    assert "a portrait of @member and @member as foxes" in mentions  # the prompt named two members
    assert MENTION_PROMPT not in mentions


async def test_authors_are_named_only_if_they_agreed(site: Site, gallery: Gallery) -> None:
    g = gallery
    of_server = f"a member of {PUBLIC_NAME}"
    original = await site.page(f"/g/{PUBLIC}/clip/{g.original.id}")
    assert f'<p class="byline">by {NAMED}</p>' in original
    extended = await site.page(f"/g/{PUBLIC}/clip/{g.extended.id}")
    assert f'<p class="byline">by {of_server}</p>' in extended  # agreed, then withdrew
    assert "Withdrawn Wolf" not in extended
    hostile = await site.page(f"/g/{PUBLIC}/clip/{g.hostile.id}")  # its chain credits both
    assert f"original by {NAMED}:" in hostile and f"extension of #{g.original.id} by {of_server}:" in hostile
    listing = await site.page(f"/g/{PUBLIC}?period=all")
    assert listing.count(f'<p class="byline">by {NAMED}</p>') == 1
    assert listing.count(f'<p class="byline">by {of_server}</p>') == 5
    assert (
        f"<h1>{PUBLIC_NAME}</h1>" in listing and f"<title>{PUBLIC_NAME} · videobot gallery</title>" in listing
    )
    index = await site.page("/")
    assert PUBLIC_NAME in index and "6 clips" in index and "Secret Club" not in index


async def test_cards_show_length_model_and_date(site: Site, gallery: Gallery) -> None:
    listing = await site.page(f"/g/{PUBLIC}?period=all")
    card = listing[listing.index(f'href="/g/{PUBLIC}/clip/{gallery.original.id}"') :].split("</article>")[0]
    assert '<span class="length" title="length">1.0 s</span>' in card  # 24 frames at 24 fps
    preset = PresetCatalog.load().get(gallery.original.model)
    assert preset is not None and preset.title != preset.name
    assert f'<span class="model" title="model">{preset.title}</span>' in card  # the title, not the key
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\dZ">\d{1,2} [A-Z][a-z]{2} \d{4}</time>', card)


async def test_link_previews_point_at_what_the_gallery_serves(
    site: Site, gallery: Gallery, media: Media
) -> None:
    clip = gallery.original
    tags = meta_tags(await site.page(f"/g/{PUBLIC}/clip/{clip.id}"))
    assert tags["og:url"] == f"{site.public}/g/{PUBLIC}/clip/{clip.id}"
    assert tags["og:title"] == f"{clip.spec.prompt} · {PUBLIC_NAME}"
    assert tags["og:description"].startswith(f"A 1.0 s clip by {NAMED} on {PUBLIC_NAME} · ")
    assert tags["og:type"] == "video.other"
    assert tags["og:image"] == f"{site.public}/media/{clip.id}.png"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("256", "160")
    assert tags["og:video"] == f"{site.public}/media/{clip.id}.mp4"
    assert (tags["og:video:type"], tags["og:video:width"], tags["og:video:height"]) == (
        "video/mp4",
        "256",
        "160",
    )
    assert "og:video:secure_url" not in tags  # http: only an https address is "secure"
    assert tags["twitter:card"] == "summary_large_image" and tags["twitter:image"] == tags["og:image"]
    assert await site.fetch(tags["og:image"]) == (200, "image/png", media.poster)
    assert await site.fetch(tags["og:video"]) == (200, "video/mp4", media.video)
    assert await site.fetch(tags["og:url"]) == (200, "text/html", (await site.fetch(tags["og:url"]))[2])

    server = meta_tags(await site.page(f"/g/{PUBLIC}?period=all"))
    assert server["og:title"] == PUBLIC_NAME
    assert (
        server["og:description"]
        == f"6 clips made together on {PUBLIC_NAME}'s own GPUs: the best of all time."
    )
    assert server["og:url"] == f"{site.public}/g/{PUBLIC}?period=all"
    assert server["og:image"] == f"{site.public}/media/{gallery.old.id}.png"  # the first card's poster
    assert server["og:video"] == f"{site.public}/media/{gallery.old.id}.mp4"
    assert (await site.fetch(server["og:image"]))[:2] == (200, "image/png")
    assert (await site.fetch(server["og:video"]))[:2] == (200, "video/mp4")


async def test_the_server_icon_is_served_from_the_gallery_itself(
    site: Site, gallery: Gallery, media: Media
) -> None:
    listing = await site.page(f"/g/{PUBLIC}")
    assert f'<img class="icon" src="/g/{PUBLIC}/icon.png"' in listing
    async with site.session.get(f"{site.base}/g/{PUBLIC}/icon.png") as response:
        assert (response.status, response.content_type) == (200, "image/png")
        assert await response.read() == media.icon


async def test_newest_is_in_the_order_clips_were_made(
    site: Site, store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    g = gallery
    newest = shown_clips(await site.page(f"/g/{PUBLIC}?sort=new"))
    assert newest == [g.mentions.id, g.long.id, g.hostile.id, g.extended.id, g.original.id, g.old.id]
    made = await crowd(store, clock, media, 1)
    assert shown_clips(await site.page(f"/g/{PUBLIC}?sort=new"))[0] == made[0].id
    tabs = await site.page(f"/g/{PUBLIC}?sort=new")
    assert f'<a href="/g/{PUBLIC}?sort=new" class="current" aria-current="page">Newest</a>' in tabs


async def test_the_second_page_holds_the_25th_clip(
    site: Site, store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    more = await crowd(store, clock, media, 20)
    newest_first = [j.id for j in reversed(more)] + [
        gallery.mentions.id,
        gallery.long.id,
        gallery.hostile.id,
        gallery.extended.id,
        gallery.original.id,
        gallery.old.id,
    ]
    first = await site.page(f"/g/{PUBLIC}?sort=new")
    assert shown_clips(first) == newest_first[:24]
    assert f'<a rel="next" href="/g/{PUBLIC}?sort=new&amp;page=2">' in first and 'rel="prev"' not in first
    second = await site.page(f"/g/{PUBLIC}?sort=new&page=2")
    assert shown_clips(second) == newest_first[24:]  # the 25th clip and the 26th
    assert shown_clips(second)[0] == newest_first[24] == gallery.original.id
    assert f'<a rel="prev" href="/g/{PUBLIC}?sort=new">' in second and 'rel="next"' not in second
    assert f"<title>{PUBLIC_NAME} · page 2 · videobot gallery</title>" in second
    assert len(shown_clips(await site.page(f"/g/{PUBLIC}?period=all&page=2"))) == 2
    assert await site.status(f"/g/{PUBLIC}?sort=new&page=3") == 404  # past the last page
    assert shown_clips(await site.page(f"/g/{PUBLIC}?sort=new&page=x")) == newest_first[:24]


async def test_previews_without_a_public_url_use_the_address_asked(store: Store, gallery: Gallery) -> None:
    server = TestServer(build_app(store), host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        url = f"{base}/g/{PUBLIC}/clip/{gallery.long.id}"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            tags = meta_tags(await response.text())
        assert tags["og:image"] == f"{base}/media/{gallery.long.id}.png"
    finally:
        await server.close()


def test_member_helper_ids_are_snowflakes() -> None:
    assert len(str(member(1))) == 18  # a page that leaked one could not hide it in another number
