"""The gallery in a real headless Chromium: the pages load, the clips play, a member's <script> is
text, a phone-wide screen does not scroll sideways, and a screenshot is kept
(``test-output/gallery.png`` at the repository root, and in the test's tmp_path)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from db.store import JobStore
from tests.chromium import Chromium, chromium_or_skip
from tests.web.conftest import HOSTILE_PROMPT, PRIVATE, PUBLIC, Gallery, repo_root
from videobot.web import build_app

DESKTOP = (1280, 800)
PHONE = (390, 844)  # an iPhone 12-15's CSS pixels


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the store's half runs on both backends in test_gallery_store.py


@pytest.fixture
async def site(store: JobStore, gallery: Gallery) -> AsyncIterator[str]:
    server = TestServer(build_app(store), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


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
    assert await browser.evaluate("document.title") == f"Server {PUBLIC} · videobot gallery"
    assert await browser.evaluate("document.querySelectorAll('video').length") == 4
    assert await browser.evaluate(PLAY_ALL) == 4  # H.264 + AAC: Debian's chromium plays it
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
    assert "▲ 3 ▼ 0" in text and f"member {gallery.original.user_id}" in text
    shot = await browser.screenshot(tmp_path / "gallery.png")
    kept = repo_root() / "test-output" / "gallery.png"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, kept)
    print(f"gallery screenshot: {kept} (and {shot})")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 10_000


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


async def test_pages_fit_a_phone(browser: Chromium, site: str, gallery: Gallery, tmp_path: Path) -> None:
    width, height = PHONE
    await browser.set_viewport(width, height)
    for path in ("/", f"/g/{PUBLIC}?period=all", f"/g/{PUBLIC}/clip/{gallery.long.id}"):
        await browser.navigate(site + path)
        assert await browser.evaluate("innerWidth") == width
        scroll_width = await browser.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} scrolls sideways on a phone ({scroll_width} px)"
        video_widths = await browser.evaluate(
            "[...document.querySelectorAll('video')].map(v => v.getBoundingClientRect().right)"
        )
        assert all(right <= width for right in video_widths)
    shot = await browser.screenshot(tmp_path / "gallery-phone.png", full_page=False)
    kept = repo_root() / "test-output" / "gallery-phone.png"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, kept)
    print(f"phone screenshot: {kept}")


async def test_a_private_server_is_not_found(site: str, gallery: Gallery) -> None:
    async with aiohttp.ClientSession() as session:
        for path in (
            f"/g/{PRIVATE}",
            f"/g/{PRIVATE}/clip/{gallery.private.id}",
            f"/media/{gallery.private.id}.mp4",
        ):
            async with session.get(site + path) as response:
                assert response.status == 404, path
