"""What a hostile or careless visitor sends the gallery (``videobot web`` over HTTP, on SQLite and
PostgreSQL): ids no store can hold, numbers too long to read, digits of other scripts, methods and
paths it does not serve, a page that fails; and a server that opts out while browsers keep its clips.
Every such answer is a 4xx (or the short error page), carries the pages' security headers, and logs
no traceback, so a visitor cannot flood the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from db.store import Store
from tests.web.conftest import PUBLIC, Gallery, Media
from videobot.web import RUNNER_OPTIONS, build_app

STORE_MAX = 2**63 - 1  # the largest id the store's integer holds (SQLite INTEGER, PostgreSQL bigint)
HUGE_IDS = (str(STORE_MAX + 1), "9" * 20, "9" * 23, "1" * 5000)
LONG = "9" * 5000  # past Python's 4,300 digits for int(): a careless parser raises
SECURITY = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")

Answer = tuple[int, bytes, Mapping[str, str]]  # the headers as HTTP reads them: in any case


@pytest.fixture
async def site(store: Store, gallery: Gallery) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    server = TestServer(build_app(store, titles={}), host="127.0.0.1")
    await server.start_server(**RUNNER_OPTIONS)  # as `videobot web` runs it
    try:
        async with aiohttp.ClientSession() as session:
            yield str(server.make_url("")).rstrip("/"), session
    finally:
        await server.close()


async def fetch(session: aiohttp.ClientSession, url: str, method: str = "GET", **headers: str) -> Answer:
    async with session.request(method, url, headers=headers) as response:
        return response.status, await response.read(), CIMultiDict(response.headers)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def security(headers: Mapping[str, str]) -> dict[str, str | None]:
    return {name: headers.get(name) for name in SECURITY}


def other_digits(number: int, zero: str) -> str:
    """``number`` written in the digits of another script (zero: that script's 0)."""
    return "".join(chr(ord(zero) + int(d)) for d in str(number))


async def test_ids_no_store_can_hold_are_not_found_and_log_nothing(
    site: tuple[str, aiohttp.ClientSession], gallery: Gallery, caplog: pytest.LogCaptureFixture
) -> None:
    base, session = site
    _, not_found, _ = await fetch(session, f"{base}/g/424242")
    clip = gallery.original.id
    for huge in (str(STORE_MAX), *HUGE_IDS):  # the largest the store holds, absent; and beyond
        for path in (
            f"/g/{huge}",
            f"/g/{huge}/icon.png",
            f"/g/{PUBLIC}/clip/{huge}",
            f"/g/{huge}/clip/{clip}",
            f"/media/{huge}.mp4",
            f"/media/{huge}.png",
        ):
            status, body, headers = await fetch(session, base + path)
            assert (status, body) == (404, not_found), path[:60]
            assert headers["X-Content-Type-Options"] == "nosniff"
    assert errors_logged(caplog) == []


async def test_a_page_number_of_any_length_or_script(
    site: tuple[str, aiohttp.ClientSession], caplog: pytest.LogCaptureFixture
) -> None:
    base, session = site
    _, first, _ = await fetch(session, f"{base}/g/{PUBLIC}?sort=new")
    for page in ("x", "²", "٢", "２"):  # not a number in ASCII digits: the first page
        status, body, _ = await fetch(session, f"{base}/g/{PUBLIC}?sort=new&page={page}")
        assert (status, body) == (200, first), page
    status, _, _ = await fetch(session, f"{base}/g/{PUBLIC}?sort=new&page={LONG}")
    assert status == 404  # past the last page
    assert errors_logged(caplog) == []


async def test_a_range_of_any_length_is_read_as_rfc_9110_says(
    site: tuple[str, aiohttp.ClientSession],
    gallery: Gallery,
    media: Media,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base, session = site
    url = f"{base}/media/{gallery.original.id}.mp4"
    video, size = media.video, len(media.video)
    whole = (200, video)
    cases = {
        f"bytes={LONG}-": 416,  # starts past the end: unsatisfiable
        f"bytes={'9' * 4000}-{'9' * 4001}": 416,  # (a header is at most 8,190 bytes)
        f"bytes=0-{LONG}": (206, video),  # ends past the end: up to the end
        f"bytes=-{LONG}": (206, video),  # a suffix longer than the file: all of it
        f"bytes={'0' * 5000}5-9": (206, video[5:10]),  # leading zeros are still a number
        f"bytes={'9' * 4001}-{'9' * 4000}": whole,  # last before first: invalid, so ignored
        "bytes=٠-١": whole,  # not ASCII digits: no range at all, so ignored
        "bytes=１-２": whole,
    }
    for header, expected in cases.items():
        status, body, headers = await fetch(session, url, Range=header)
        if expected == 416:
            assert (status, headers["Content-Range"]) == (416, f"bytes */{size}"), header[:20]
        else:
            assert (status, body) == expected, header[:20]
        assert headers["X-Content-Type-Options"] == "nosniff"
    icon = await fetch(session, f"{base}/g/{PUBLIC}/icon.png", Range=f"bytes={LONG}-")
    assert icon[0] == 416
    assert errors_logged(caplog) == []


async def test_a_request_too_long_to_read_is_a_400_and_logs_nothing(
    site: tuple[str, aiohttp.ClientSession], caplog: pytest.LogCaptureFixture
) -> None:
    base, session = site
    too_long = "9" * 9000  # aiohttp reads lines of at most 8,190 bytes
    assert (await fetch(session, f"{base}/g/{PUBLIC}", Range=f"bytes={too_long}-"))[0] == 400
    assert (await fetch(session, f"{base}/g/{too_long}"))[0] == 400
    assert errors_logged(caplog) == []


async def test_an_id_in_other_digits_or_with_leading_zeros_is_not_found(
    site: tuple[str, aiohttp.ClientSession], gallery: Gallery, caplog: pytest.LogCaptureFixture
) -> None:
    base, session = site
    clip = gallery.original.id
    assert (await fetch(session, f"{base}/media/{clip}.mp4"))[0] == 200
    for zero in ("٠", "०", "０", "𝟎"):  # Arabic-Indic, Devanagari, fullwidth, mathematical bold
        job, guild = other_digits(clip, zero), other_digits(PUBLIC, zero)
        for path in (
            f"/media/{job}.mp4",
            f"/media/{job}.png",
            f"/g/{guild}",
            f"/g/{guild}/icon.png",
            f"/g/{PUBLIC}/clip/{job}",
            f"/g/{guild}/clip/{clip}",
        ):
            assert (await fetch(session, base + path))[0] == 404, path
    for path in (f"/media/0{clip}.mp4", f"/g/0{PUBLIC}", f"/g/{PUBLIC}/clip/00{clip}", "/media/0.mp4"):
        assert (await fetch(session, base + path))[0] == 404, path  # one clip, one address
    assert errors_logged(caplog) == []


async def test_every_error_answer_carries_the_pages_security_headers(
    site: tuple[str, aiohttp.ClientSession], gallery: Gallery, caplog: pytest.LogCaptureFixture
) -> None:
    base, session = site
    _, _, page = await fetch(session, f"{base}/")
    assert page["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in page["Content-Security-Policy"]
    clip = f"/g/{PUBLIC}/clip/{gallery.original.id}"
    answers = {
        ("POST", "/"): 405,
        ("PUT", clip): 405,
        ("DELETE", f"/media/{gallery.original.id}.mp4"): 405,
        ("GET", "/static/"): 403,  # a folder: no listing
        ("GET", "/no/such/page"): 404,
        ("GET", f"/g/{PUBLIC}/clip/{gallery.private.id}"): 404,
    }
    for (method, path), expected in answers.items():
        status, _, headers = await fetch(session, base + path, method)
        assert status == expected, (method, path)
        assert security(headers) == security(page), (method, path)
    video = f"{base}/media/{gallery.original.id}.mp4"
    status, _, headers = await fetch(session, video, Range="bytes=99999999-")
    assert (status, security(headers)) == (416, security(page))
    assert errors_logged(caplog) == []


async def test_a_failing_page_is_the_short_error_page_with_a_reference_and_one_logged_traceback(
    site: tuple[str, aiohttp.ClientSession],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base, session = site
    _, _, page = await fetch(session, f"{base}/")

    async def broken() -> None:
        raise RuntimeError("cannot read table jobs on db.internal as admin")

    monkeypatch.setattr(store.gallery, "gallery_guilds", broken)
    status, body, headers = await fetch(session, f"{base}/")
    assert status == 500
    assert headers["Content-Type"].startswith("text/html")
    assert security(headers) == security(page)
    text = body.decode()
    assert "Something went wrong" in text
    for secret in ("db.internal", "RuntimeError", "Traceback", "admin"):
        assert secret not in text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1 and logged[0].exc_info is not None  # the operator gets the traceback, once
    reference = logged[0].getMessage().rsplit(" ", 1)[-1].strip("()")
    assert f"<code>{reference}</code>" in text  # … and the page the reference to quote


async def test_a_browser_revalidates_so_an_opt_out_hides_what_it_kept_at_once(
    site: tuple[str, aiohttp.ClientSession], store: Store, gallery: Gallery, media: Media
) -> None:
    base, session = site
    clip = gallery.original.id
    urls = [
        f"{base}/media/{clip}.mp4",
        f"{base}/media/{clip}.png",
        f"{base}/g/{PUBLIC}/icon.png",
        f"{base}/g/{PUBLIC}",
        f"{base}/g/{PUBLIC}/clip/{clip}",
    ]
    kept: dict[str, str] = {}
    for url in urls:
        status, _, headers = await fetch(session, url)
        assert status == 200
        directives = {d.strip() for d in headers["Cache-Control"].split(",")}
        assert "no-cache" in directives and not any(d.startswith("max-age") for d in directives), url
        kept[url] = headers["ETag"]
        status, body, headers = await fetch(session, url, **{"If-None-Match": kept[url]})
        assert (status, body, headers["ETag"]) == (304, b"", kept[url]), url  # unchanged: not sent again
    video, tag = urls[0], kept[urls[0]]
    seek = await fetch(session, video, Range="bytes=100-199", **{"If-Range": tag})
    assert (seek[0], seek[1], seek[2]["ETag"]) == (206, media.video[100:200], tag)
    changed = await fetch(session, video, Range="bytes=100-199", **{"If-Range": '"another"'})
    assert (changed[0], changed[1]) == (200, media.video)  # not the copy the browser holds: all of it

    await store.settings.update_settings(PUBLIC, gallery_public=False)
    now = formatdate(usegmt=True)  # what a browser that kept a copy asks with
    for url, etag in kept.items():
        for asked in (
            {"If-None-Match": etag},
            {"If-Modified-Since": now},
            {"If-None-Match": etag, "Range": "bytes=0-1", "If-Range": etag},
        ):
            assert (await fetch(session, url, **asked))[0] == 404, (url, asked)
