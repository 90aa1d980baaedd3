"""The gallery's store queries and its HTTP answers, on SQLite and PostgreSQL: only servers that opted
in, their best clips by period, a clip's chain, and the bytes with Range."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from db.store import Store
from db.store.gallery import GalleryGuild
from tests.store.conftest import FakeClock
from tests.web.conftest import (
    DAY,
    HOSTILE_PROMPT,
    NAMED,
    PRIVATE,
    PRIVATE_NAME,
    PUBLIC,
    PUBLIC_NAME,
    Gallery,
    Media,
    clip,
    crowd,
    member,
)
from videobot.web import RangeNotSatisfiable, build_app, parse_range

# ---- the store ---------------------------------------------------------------------------------------


async def test_only_servers_that_opted_in_are_listed(store: Store, gallery: Gallery) -> None:
    assert await store.gallery.gallery_guilds() == [GalleryGuild(PUBLIC, PUBLIC_NAME, True, 6)]
    assert await store.gallery.gallery_guild(PUBLIC) == GalleryGuild(PUBLIC, PUBLIC_NAME, True, 6)
    assert await store.gallery.gallery_guild(PRIVATE) is None  # its name is recorded, but it did not opt in
    await store.settings.update_settings(PUBLIC, gallery_public=False)
    assert await store.gallery.gallery_guilds() == []
    assert await store.gallery.gallery_best(PUBLIC, "all") is None
    assert await store.gallery.gallery_newest(PUBLIC) is None
    assert await store.gallery.gallery_icon(PUBLIC) is None


async def test_best_clips_by_period_best_voted_first(store: Store, gallery: Gallery) -> None:
    g = gallery
    day = await store.gallery.gallery_best(PUBLIC, "day")
    week = await store.gallery.gallery_best(PUBLIC, "week")
    ever = await store.gallery.gallery_best(PUBLIC, "all")
    assert day is not None and week is not None and ever is not None
    assert [r.job.id for r in day] == [g.extended.id, g.hostile.id, g.mentions.id, g.long.id]
    assert [r.job.id for r in week] == [g.original.id, g.extended.id, g.hostile.id, g.mentions.id, g.long.id]
    assert [r.job.id for r in ever] == [
        g.old.id,
        g.original.id,
        g.extended.id,
        g.hostile.id,
        g.mentions.id,
        g.long.id,
    ]
    assert [r.votes.up for r in ever] == [5, 3, 2, 1, 0, 0]
    assert g.deleted.id not in {r.job.id for r in ever}  # deleted, though best voted
    assert await store.gallery.gallery_best(PRIVATE, "all") is None
    assert await store.gallery.gallery_best(123, "all") is None  # no settings at all: not public


async def test_a_clip_with_its_chain(store: Store, gallery: Gallery) -> None:
    g = gallery
    found = await store.gallery.gallery_clip(PUBLIC, g.extended.id)
    assert found is not None
    assert found.clip.votes.up == 2
    assert [a.id for a in found.ancestors] == [g.original.id]
    assert [c.id for c in found.children] == [g.hostile.id]
    tip = await store.gallery.gallery_clip(PUBLIC, g.hostile.id)
    assert tip is not None and [a.id for a in tip.ancestors] == [g.original.id, g.extended.id]
    assert tip.clip.job.spec.prompt == HOSTILE_PROMPT


async def test_nothing_of_a_private_server_or_a_deleted_clip(store: Store, gallery: Gallery) -> None:
    g = gallery
    assert await store.gallery.gallery_clip(PRIVATE, g.private.id) is None
    assert await store.gallery.gallery_clip(PUBLIC, g.private.id) is None  # asked under another server's id
    assert await store.gallery.gallery_clip(PUBLIC, g.deleted.id) is None
    assert await store.gallery.gallery_media(g.private.id) is None
    assert await store.gallery.gallery_media(g.deleted.id) is None
    assert await store.gallery.gallery_job(10_000) is None
    shown = await store.gallery.gallery_media(g.original.id)
    assert shown is not None and shown.video.startswith(b"\x00\x00\x00")


async def test_a_deleted_ancestor_leaves_the_chain(store: Store, gallery: Gallery) -> None:
    assert await store.jobs.delete_clip(gallery.original.id)
    found = await store.gallery.gallery_clip(PUBLIC, gallery.hostile.id)
    assert found is not None and [a.id for a in found.ancestors] == [gallery.extended.id]


async def test_a_clip_from_a_private_server_is_never_in_a_public_chain(
    store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    # a remix whose parent row is another server's (the store does not forbid it): the chain stops there
    remix = await clip(
        store, clock, media, PUBLIC, member(9), "remix across servers", parent=gallery.private, kind="remix"
    )
    found = await store.gallery.gallery_clip(PUBLIC, remix.id)
    assert found is not None and found.ancestors == ()
    assert (await store.gallery.gallery_clip(PUBLIC, gallery.extended.id)) is not None
    clock.advance(2 * DAY)
    assert [r.job.id for r in await store.gallery.gallery_best(PUBLIC, "day") or []] == []


async def test_an_author_is_named_only_if_they_agreed(store: Store, gallery: Gallery) -> None:
    g = gallery
    ever = await store.gallery.gallery_best(PUBLIC, "all")
    assert ever is not None
    names = {r.job.id: r.author_name for r in ever}
    assert names[g.original.id] == NAMED  # agreed
    assert names[g.extended.id] is None  # agreed, then withdrew
    assert {names[j.id] for j in (g.old, g.hostile, g.long, g.mentions)} == {None}  # never said
    found = await store.gallery.gallery_clip(PUBLIC, g.hostile.id)
    assert found is not None and found.author_names == {member(2): NAMED}
    assert found.author_name(g.original) == NAMED and found.author_name(g.hostile) is None


async def test_a_name_is_kept_only_while_its_member_agrees(store: Store, gallery: Gallery) -> None:
    withdrawn = await store.profiles.member_profile(PUBLIC, member(3))
    assert withdrawn is not None and not withdrawn.show_name and withdrawn.display_name is None  # erased
    assert not await store.profiles.record_member_name(
        PUBLIC, member(4), "Never Asked"
    )  # the bot keeps nothing
    assert await store.profiles.member_profile(PUBLIC, member(4)) is None
    assert await store.profiles.record_member_name(PUBLIC, member(2), "Ana Renamed")  # agreed: kept current
    newest = await store.gallery.gallery_newest(PUBLIC)
    assert newest is not None
    assert {r.author_name for r in newest if r.job.user_id == member(2)} == {"Ana Renamed"}
    assert await store.gallery.gallery_best(PRIVATE, "all") is None


async def test_the_newest_clips_first_a_page_at_a_time(
    store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    made = await crowd(store, clock, media, 20)
    first = await store.gallery.gallery_newest(PUBLIC, 24, 0)
    second = await store.gallery.gallery_newest(PUBLIC, 24, 24)
    assert first is not None and second is not None
    assert len(first) == 24 and len(second) == 2  # 20 + the 6 shown clips of the seed
    everything = [r.job for r in first + second]
    assert [j.id for j in everything[:20]] == [j.id for j in reversed(made)]
    finished = [j.finished_at or 0.0 for j in everything]
    assert finished == sorted(finished, reverse=True)
    assert gallery.deleted.id not in {j.id for j in everything}
    best_second = await store.gallery.gallery_best(PUBLIC, "all", 24, 24)
    assert best_second is not None and len(best_second) == 2


async def test_a_public_servers_icon(store: Store, gallery: Gallery, media: Media) -> None:
    assert await store.gallery.gallery_icon(PUBLIC) == media.icon
    await store.profiles.record_guild_icon(PRIVATE, "d4e5f6", media.icon)
    assert await store.gallery.gallery_icon(PRIVATE) is None  # kept, but the server did not opt in
    with pytest.raises(ValueError):
        await store.profiles.record_guild_icon(PUBLIC, "abc", b"<svg onload=alert(1)>")
    await store.profiles.record_guild(PUBLIC, "Pixel Forge Renamed")  # a rename keeps the icon
    profile = await store.profiles.guild_profile(PUBLIC)
    assert profile is not None and profile.name == "Pixel Forge Renamed" and profile.icon_hash == "a1b2c3"
    await store.profiles.record_guild_icon(PUBLIC, None, None)  # the server removed its icon
    assert await store.gallery.gallery_icon(PUBLIC) is None


# ---- Range ---------------------------------------------------------------------------------------------


def test_parse_range() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-", 100) == (0, 99)
    assert parse_range("bytes=0-1", 100) == (0, 1)
    assert parse_range("bytes=90-200", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=-500", 100) == (0, 99)
    assert parse_range("bytes=5-2", 100) is None  # invalid: ignored
    assert parse_range("bytes=0-1,5-6", 100) is None  # several: the whole file
    assert parse_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=-0", "bytes=200-300"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 100)


# ---- HTTP ------------------------------------------------------------------------------------------------


@pytest.fixture
async def http(store: Store, gallery: Gallery) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    server = TestServer(build_app(store), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield str(server.make_url("")).rstrip("/"), session
    finally:
        await server.close()


async def get(session: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    async with session.get(url, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_a_private_server_answers_as_if_it_did_not_exist(
    http: tuple[str, aiohttp.ClientSession], store: Store, gallery: Gallery, media: Media
) -> None:
    base, session = http
    private, absent = gallery.private.id, 987_654
    await store.profiles.record_guild_icon(PRIVATE, "d4e5f6", media.icon)  # kept by the bot, never shown
    answers = [
        await get(session, f"{base}/g/{PRIVATE}/icon.png"),
        await get(session, f"{base}/g/{PRIVATE}"),
        await get(session, f"{base}/g/{PRIVATE}/clip/{private}"),
        await get(session, f"{base}/g/{PUBLIC}/clip/{private}"),
        await get(session, f"{base}/g/{PUBLIC}/clip/{gallery.deleted.id}"),
        await get(session, f"{base}/media/{private}.mp4"),
        await get(session, f"{base}/media/{private}.png"),
        await get(session, f"{base}/media/{gallery.deleted.id}.mp4"),
    ]
    strangers = [
        await get(session, f"{base}/g/424242"),
        await get(session, f"{base}/g/424242/icon.png"),
        await get(session, f"{base}/g/{PUBLIC}/clip/{absent}"),
        await get(session, f"{base}/media/{absent}.mp4"),
    ]
    assert {status for status, _, _ in answers + strangers} == {404}
    assert {body for _, body, _ in answers} == {body for _, body, _ in strangers}  # one and the same page
    status, index, _ = await get(session, f"{base}/")
    assert status == 200 and str(PUBLIC).encode() in index and str(PRIVATE).encode() not in index
    assert b"secret clip" not in index and PRIVATE_NAME.encode() not in index


async def test_pages_escape_what_members_wrote(
    http: tuple[str, aiohttp.ClientSession], gallery: Gallery
) -> None:
    base, session = http
    for url in (f"{base}/g/{PUBLIC}?period=day", f"{base}/g/{PUBLIC}/clip/{gallery.hostile.id}"):
        status, body, headers = await get(session, url)
        assert status == 200
        assert b"&lt;script&gt;window.pwned=1&lt;/script&gt; **x**" in body
        assert b"<script>" not in body
        assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none': no script at all


async def test_the_clip_page_links_its_chain_and_discord(
    http: tuple[str, aiohttp.ClientSession], gallery: Gallery
) -> None:
    base, session = http
    g = gallery
    _, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{g.original.id}")
    link = f"https://discord.com/channels/{PUBLIC}/{g.original.channel_id}/{g.message_id}"
    assert f'href="{link}"'.encode() in body
    assert f'href="/g/{PUBLIC}/clip/{g.extended.id}"'.encode() in body  # made from this clip
    _, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{g.hostile.id}")
    assert f'href="/g/{PUBLIC}/clip/{g.original.id}"'.encode() in body
    assert f'href="/g/{PUBLIC}/clip/{g.extended.id}"'.encode() in body
    assert b"discord.com/channels" not in body  # not posted yet: no link


async def test_hd_versions_and_loops_say_what_they_were_made_from(
    http: tuple[str, aiohttp.ClientSession], store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    base, session = http
    original = gallery.original
    hd = await clip(store, clock, media, PUBLIC, member(1), "a fox", parent=original, kind="hd")
    loop = await clip(store, clock, media, PUBLIC, member(1), "a fox", parent=original, kind="loop")
    for job, words in ((hd, "HD version of"), (loop, "loop of")):
        status, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{job.id}")
        assert status == 200 and f"{words} #{original.id}".encode() in body
    _, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{original.id}")
    assert b"HD version" in body and b"loop" in body  # the clips made from it


async def test_video_bytes_whole_and_by_range(
    http: tuple[str, aiohttp.ClientSession], gallery: Gallery, media: Media
) -> None:
    base, session = http
    url = f"{base}/media/{gallery.original.id}.mp4"
    status, body, headers = await get(session, url)
    assert (status, body, headers["Content-Type"], headers["Accept-Ranges"]) == (
        200,
        media.video,
        "video/mp4",
        "bytes",
    )
    size = len(media.video)
    status, body, headers = await get(session, url, Range="bytes=100-199")
    assert (status, body, headers["Content-Range"]) == (206, media.video[100:200], f"bytes 100-199/{size}")
    status, body, headers = await get(session, url, Range="bytes=-16")
    assert (status, body, headers["Content-Range"]) == (
        206,
        media.video[-16:],
        f"bytes {size - 16}-{size - 1}/{size}",
    )
    status, body, headers = await get(session, url, Range=f"bytes={size}-")
    assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
    status, body, headers = await get(session, f"{base}/media/{gallery.original.id}.png")
    assert (status, body, headers["Content-Type"]) == (200, media.poster, "image/png")


async def test_an_opt_out_hides_the_gallery_at_once(
    http: tuple[str, aiohttp.ClientSession], store: Store, gallery: Gallery
) -> None:
    base, session = http
    assert (await get(session, f"{base}/media/{gallery.original.id}.mp4"))[0] == 200  # now in the cache
    await store.settings.update_settings(PUBLIC, gallery_public=False)
    for url in (
        f"{base}/g/{PUBLIC}",
        f"{base}/g/{PUBLIC}/clip/{gallery.original.id}",
        f"{base}/media/{gallery.original.id}.mp4",
    ):
        assert (await get(session, url))[0] == 404


async def test_a_clip_from_an_age_restricted_channel_is_nowhere_in_the_gallery(
    http: tuple[str, aiohttp.ClientSession], store: Store, clock: FakeClock, media: Media, gallery: Gallery
) -> None:
    """Clips made in an age-restricted channel, and what was built on them anywhere: in no list, no
    count, no chain; their pages, videos and posters are the 404 of a clip that never existed."""
    base, session = http
    g = gallery
    nsfw = await clip(
        store,
        clock,
        media,
        PUBLIC,
        member(9),
        "a clip from the age-restricted channel",
        votes=8,
        age_restricted=True,
    )
    built_on = await clip(  # asked for in an ordinary channel: age-restricted all the same
        store, clock, media, PUBLIC, member(9), "a reroll made elsewhere", parent=nsfw, kind="reroll", votes=7
    )
    remix = await clip(  # a remix of a public clip, asked for in an age-restricted channel
        store,
        clock,
        media,
        PUBLIC,
        member(9),
        "a remix made there",
        parent=g.original,
        kind="remix",
        age_restricted=True,
    )
    hidden = (nsfw, built_on, remix)
    assert all(job.age_restricted for job in hidden)
    prompts = [job.spec.prompt.encode() for job in hidden]
    for path in (f"/g/{PUBLIC}?period=day", f"/g/{PUBLIC}?period=all", f"/g/{PUBLIC}?sort=new", "/"):
        status, body, _ = await get(session, base + path)
        assert status == 200 and not any(prompt in body for prompt in prompts), path
    status, body, _ = await get(session, f"{base}/g/{PUBLIC}/clip/{g.original.id}")
    assert status == 200 and f"/clip/{remix.id}".encode() not in body  # not among what was made from it
    assert b"a remix made there" not in body
    _, absent, _ = await get(session, f"{base}/g/{PUBLIC}/clip/987654")
    for job in hidden:
        for path in (f"/g/{PUBLIC}/clip/{job.id}", f"/media/{job.id}.mp4", f"/media/{job.id}.png"):
            status, body, _ = await get(session, base + path)
            assert status == 404, path
            if "/clip/" in path:
                assert body == absent  # the very page of a clip that does not exist
    assert await store.gallery.gallery_guild(PUBLIC) == GalleryGuild(PUBLIC, PUBLIC_NAME, True, 6)
    for job in hidden:
        assert await store.gallery.gallery_clip(PUBLIC, job.id) is None
        assert await store.gallery.gallery_job(job.id) is None
        assert await store.gallery.gallery_media(job.id) is None


# ---- the command -----------------------------------------------------------------------------------------


async def test_videobot_web_serves_the_gallery_until_told_to_stop(
    store: Store, store_url: str, gallery: Gallery, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        command = [
            "web",
            "--database",
            store_url,
            "--port",
            str(port),
            "--public-url",
            "https://clips.example.org/",
        ]
        process = subprocess.Popen(
            [sys.executable, "-m", "videobot", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, body, _ = await get(session, f"http://127.0.0.1:{port}/g/{PUBLIC}?period=all")
                    break
                except aiohttp.ClientConnectionError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "videobot web did not start serving"
                    await asyncio.sleep(0.1)
            assert status == 200 and gallery.old.spec.prompt.encode() in body
            poster = (
                f'<meta property="og:image" content="https://clips.example.org/media/{gallery.old.id}.png">'
            )
            assert poster.encode() in body  # previews point at the public address
            assert (await get(session, f"http://127.0.0.1:{port}/g/{PRIVATE}"))[0] == 404
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0, log.read_text()
        assert f"http://127.0.0.1:{port}/ (links point at https://clips.example.org/)" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_videobot_web_in_the_wrong_folder_says_so_and_creates_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "videobot", "web", "--database", "missing.db", "--port", "0"],
        cwd=tmp_path,
        env={**os.environ, "VIDEOBOT_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"videobot web: error: no job store at {tmp_path / 'missing.db'} (")
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no empty store, no media folder


def test_videobot_web_refuses_a_public_url_that_is_no_address(store_url: str, gallery: Gallery) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "videobot",
            "web",
            "--database",
            store_url,
            "--public-url",
            "clips.example.org",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "videobot web: error: --public-url must be an http:// or https:// address, not 'clips.example.org'\n"
    )
