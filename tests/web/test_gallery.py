"""The gallery in a real headless Chromium: the pages load, the clips play, a member's <script> is
text, authors are named only if they agreed, no member id is anywhere in the page, the next page is a
link away, a phone-wide screen does not scroll sideways, and screenshots are kept
(``test-output/gallery*.png`` at the repository root, the phone ones also in $TMPDIR)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from db.store import Store
from tests.chromium import Chromium, chromium_or_skip
from tests.store.conftest import FakeClock
from tests.web.conftest import (
    HOSTILE_PROMPT,
    NAMED,
    PRIVATE,
    PUBLIC,
    PUBLIC_NAME,
    Gallery,
    Media,
    crowd,
    repo_root,
)
from tests.web.serving import gallery_served

DESKTOP = (1280, 800)
PHONE = (390, 844)  # an iPhone 12-15's CSS pixels


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the store's half runs on both backends in test_gallery_store.py


@pytest.fixture
async def site(store: Store, gallery: Gallery) -> AsyncIterator[str]:
    async with gallery_served(store) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Chromium]:
    binary = chromium_or_skip()
    chromium = await Chromium.launch(binary)
    try:
        yield chromium
    finally:
        await chromium.close()


PLAY_ALL = """
Promise.all([...document.querySelectorAll('video')].map(v => { v.muted = true; return v.play(); }))
  .then(() => document.querySelectorAll('video').length)
"""
ALL_PLAYING = """
[...document.querySelectorAll('video')].every(v => v.readyState >= 2 && v.currentTime > 0 && !v.error)
"""


async def test_the_gallery_page_loads_and_its_clips_play(
    browser: Chromium, site: str, gallery: Gallery, tmp_path: Path
) -> None:
    await browser.set_viewport(*DESKTOP, mobile=False)
    await browser.navigate(f"{site}/g/{PUBLIC}?period=week")
    assert await browser.evaluate("document.documentElement.scrollWidth") <= DESKTOP[0]
    assert await browser.evaluate("document.title") == f"{PUBLIC_NAME} · videobot gallery"
    assert await browser.evaluate("document.querySelectorAll('video').length") == 5
    assert await browser.evaluate(PLAY_ALL) == 5  # H.264 + AAC: Debian's chromium plays it
    await browser.wait_for(ALL_PLAYING, what="every clip on the page playing")
    states = await browser.evaluate("[...document.querySelectorAll('video')].map(v => v.readyState)")
    assert min(states) >= 2
    await browser.evaluate(
        "Promise.all([...document.querySelectorAll('video')].map(v => { v.pause(); v.currentTime = 0.5;"
        " return new Promise(r => v.addEventListener('seeked', r, {once: true})); }))"
    )  # seeking, as a member scrubbing does: byte ranges
    text = await browser.evaluate("document.body.innerText")
    assert HOSTILE_PROMPT in text  # a member's <script> is shown as text…
    assert await browser.evaluate("typeof window.pwned") == "undefined"  # …and never run
    assert "▲ 3 ▼ 0" in text and f"by {NAMED}" in text and f"by a member of {PUBLIC_NAME}" in text
    assert (
        await browser.evaluate("document.querySelector('img.icon').naturalWidth") == 64
    )  # the server's icon
    await assert_no_member_id(browser, gallery)
    shot = await browser.screenshot(tmp_path / "gallery.png")
    kept = repo_root() / "test-output" / "gallery.png"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, kept)
    print(f"gallery screenshot: {kept} (and {shot})")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 10_000


async def assert_no_member_id(browser: Chromium, gallery: Gallery) -> None:
    html = await browser.evaluate("document.documentElement.outerHTML")
    url = await browser.evaluate("location.href")
    leaked = [m for m in gallery.member_ids if str(m) in html]
    assert not leaked, f"{url} shows member ids {leaked}"


async def follow(browser: Chromium, link: str) -> None:
    """Go where a link on the page leads (the pages have no script: a link is all there is)."""
    await browser.navigate(await browser.evaluate(f"({link}).href"))


def keep_phone_shot(shot: Path, name: str) -> Path:
    """A phone screenshot, copied to $TMPDIR (to look at) and test-output/."""
    kept = Path(tempfile.gettempdir()) / name
    shutil.copyfile(shot, kept)
    (repo_root() / "test-output").mkdir(exist_ok=True)
    shutil.copyfile(shot, repo_root() / "test-output" / name)
    print(f"phone screenshot: {kept}")
    return kept


async def test_the_clip_page_shows_its_chain_and_its_discord_message(
    browser: Chromium, site: str, gallery: Gallery
) -> None:
    g = gallery
    await browser.navigate(f"{site}/g/{PUBLIC}/clip/{g.hostile.id}")
    text = await browser.evaluate("document.body.innerText")
    assert "Made from" in text and g.original.spec.prompt in text and g.extended.spec.prompt in text
    assert await browser.evaluate("typeof window.pwned") == "undefined"
    assert await browser.evaluate("document.querySelector('h1.prompt').textContent") == HOSTILE_PROMPT
    await browser.evaluate("document.querySelector('video').play().then(() => true)")
    await browser.wait_for("document.querySelector('video').readyState >= 2", what="the clip to play")
    # follow the chain to the original, which was posted: its page links the Discord message
    await browser.navigate(f"{site}/g/{PUBLIC}/clip/{g.original.id}")
    link = await browser.evaluate("document.querySelector('a.discord').href")
    assert link == f"https://discord.com/channels/{PUBLIC}/{g.original.channel_id}/{g.message_id}"
    children = await browser.evaluate("[...document.querySelectorAll('.children a')].map(a => a.textContent)")
    assert children == [f"#{g.extended.id}"]
    assert await browser.evaluate("document.querySelector('.byline').textContent") == f"by {NAMED}"
    await assert_no_member_id(browser, gallery)


async def test_a_phone_reaches_the_newest_clips_and_the_next_page(
    browser: Chromium,
    site: str,
    store: Store,
    clock: FakeClock,
    media: Media,
    gallery: Gallery,
    tmp_path: Path,
) -> None:
    more = await crowd(store, clock, media, 20)  # 26 clips: two pages
    width, height = PHONE
    await browser.set_viewport(width, height)
    await browser.navigate(f"{site}/")
    await assert_no_member_id(browser, gallery)
    await follow(browser, "document.querySelector('.servers a')")
    assert await browser.evaluate("location.pathname") == f"/g/{PUBLIC}"
    await follow(browser, "[...document.querySelectorAll('.tabs a')].find(a => a.textContent === 'Newest')")
    assert await browser.evaluate("location.search") == "?sort=new"
    first = await browser.evaluate("[...document.querySelectorAll('.card .prompt')].map(p => p.textContent)")
    assert first[:2] == [more[-1].spec.prompt, more[-2].spec.prompt] and len(first) == 24
    assert await browser.evaluate("document.documentElement.scrollWidth") <= width
    await assert_no_member_id(browser, gallery)
    shot = keep_phone_shot(
        await browser.screenshot(tmp_path / "shot.png", full_page=False), "gallery-phone-newest.png"
    )
    assert shot.stat().st_size > 10_000
    await follow(browser, "document.querySelector('a[rel=next]')")
    assert await browser.evaluate("location.search") == "?sort=new&page=2"
    second = await browser.evaluate("[...document.querySelectorAll('.card .prompt')].map(p => p.textContent)")
    assert second == [gallery.original.spec.prompt, gallery.old.spec.prompt]  # the 25th clip and the 26th
    assert await browser.evaluate("document.documentElement.scrollWidth") <= width
    await assert_no_member_id(browser, gallery)
    keep_phone_shot(await browser.screenshot(tmp_path / "page2.png"), "gallery-phone-page2.png")


async def test_pages_fit_a_phone(browser: Chromium, site: str, gallery: Gallery, tmp_path: Path) -> None:
    width, height = PHONE
    await browser.set_viewport(width, height)
    pages = {
        "index": "/",
        "server": f"/g/{PUBLIC}?period=all",
        "clip": f"/g/{PUBLIC}/clip/{gallery.hostile.id}",
        "long": f"/g/{PUBLIC}/clip/{gallery.long.id}",
    }
    for name, path in pages.items():
        await browser.navigate(site + path)
        assert await browser.evaluate("innerWidth") == width
        scroll_width = await browser.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} scrolls sideways on a phone ({scroll_width} px)"
        video_widths = await browser.evaluate(
            "[...document.querySelectorAll('video')].map(v => v.getBoundingClientRect().right)"
        )
        assert all(right <= width for right in video_widths)
        await assert_no_member_id(browser, gallery)
        shot = await browser.screenshot(tmp_path / f"{name}.png", full_page=name != "server")
        keep_phone_shot(shot, "gallery-phone.png" if name == "long" else f"gallery-phone-{name}.png")


async def test_a_private_server_is_not_found(site: str, gallery: Gallery) -> None:
    async with aiohttp.ClientSession() as session:
        for path in (
            f"/g/{PRIVATE}",
            f"/g/{PRIVATE}/clip/{gallery.private.id}",
            f"/media/{gallery.private.id}.mp4",
        ):
            async with session.get(site + path) as response:
                assert response.status == 404, path
