"""``videobot web``: the web gallery of the servers that opted in (aiohttp + Jinja2).

Pages: ``/`` (the public servers), ``/g/<guild>`` (a server's best clips of the day, the week or all
time, ``?period=day|week|all``), ``/g/<guild>/clip/<job>`` (one clip, its chain and its Discord
message), and the bytes: ``/media/<job>.mp4`` (with HTTP Range, which browsers seek with) and
``/media/<job>.png`` (the poster). Only servers whose ``gallery_public`` setting is on are shown; any
other server, clip or file answers the same 404 as one that never existed. Every text a member wrote
goes through Jinja2's autoescape, and the pages carry a Content-Security-Policy that runs no script.
The web process reads the store only: no Discord API calls, members are shown by their id.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import jinja2
from aiohttp import web

from db.media import Media
from db.store import Job, JobStore, existing_store, open_store, store_unavailable
from db.store.gallery import GALLERY_PERIODS, GalleryPeriod

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STORE_KEY = web.AppKey("store", JobStore)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
MEDIA_CACHE_KEY = web.AppKey("media_cache", OrderedDict)
MEDIA_CACHE_SIZE = 16  # clips kept in memory: a browser fetches one clip in several ranges

PERIOD_NAMES: dict[GalleryPeriod, str] = {"day": "Today", "week": "This week", "all": "All time"}
DEFAULT_PERIOD: GalleryPeriod = "week"
KIND_WORDS = {"new": "original", "reroll": "reroll of", "remix": "remix of", "extend": "extension of"}

SECURITY_HEADERS = {
    # nothing on these pages is a script; a member's text can never become one
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# ---- pure helpers ----------------------------------------------------------------------------------


class RangeNotSatisfiable(ValueError):
    """A Range header that asks for no byte of the file (416)."""


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``header`` asks of a file of ``size`` bytes, as (first, last) inclusive;
    None for the whole file (no header, a header we do not read, or several ranges, which RFC 9110
    lets a server answer with the whole file). Raises :class:`RangeNotSatisfiable` for a range that
    starts past the end, or an empty suffix."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # bytes=-N: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid: ignored, as RFC 9110 says
    if first >= size:
        raise RangeNotSatisfiable(header)
    return first, min(int(last_text), size - 1) if last_text else size - 1


def discord_link(job: Job) -> str | None:
    """The clip's message in Discord, once it was posted."""
    if job.message_id is None:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"


def when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def period_of(query: str | None) -> GalleryPeriod:
    return cast(GalleryPeriod, query) if query in GALLERY_PERIODS else DEFAULT_PERIOD


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every member's prompt and title is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(discord_link=discord_link, when=when, kind_words=KIND_WORDS, period_names=PERIOD_NAMES)
    return env


# ---- the app -----------------------------------------------------------------------------------------


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    html = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One 404 page for everything not shown (absent or not public alike), 503 while the store is away,
    and the security headers on every answer."""
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = render(request, "not_found.html", status=404)
    except web.HTTPException:
        raise
    except Exception as exc:
        if not store_unavailable(exc):
            raise
        log.warning("the store is unavailable: %s", exc)
        response = render(request, "unavailable.html", status=503)
        response.headers["Retry-After"] = "30"
    response.headers.update(SECURITY_HEADERS)
    return response


def _guild_id(request: web.Request) -> int:
    return int(request.match_info["guild_id"])


async def index(request: web.Request) -> web.Response:
    guilds = await request.app[STORE_KEY].gallery_guilds()
    return render(request, "index.html", guilds=guilds)


async def guild_page(request: web.Request) -> web.Response:
    guild_id = _guild_id(request)
    period = period_of(request.query.get("period"))
    clips = await request.app[STORE_KEY].gallery_best(guild_id, period)
    if clips is None:
        raise web.HTTPNotFound()
    return render(request, "guild.html", guild_id=guild_id, period=period, clips=clips)


async def clip_page(request: web.Request) -> web.Response:
    guild_id = _guild_id(request)
    found = await request.app[STORE_KEY].gallery_clip(guild_id, int(request.match_info["job_id"]))
    if found is None:
        raise web.HTTPNotFound()
    return render(request, "clip.html", guild_id=guild_id, found=found, job=found.clip.job)


async def _media(request: web.Request) -> Media:
    """A showable clip's bytes, from a small cache keyed by the clip's stored reference."""
    job_id = int(request.match_info["job_id"])
    store = request.app[STORE_KEY]
    job = await store.gallery_job(job_id)  # checked on every request: an opt-out counts at once
    if job is None:
        raise web.HTTPNotFound()
    cache: OrderedDict[tuple[int, str | None], Media] = request.app[MEDIA_CACHE_KEY]
    key = (job_id, job.media_ref)
    media = cache.get(key)
    if media is None:
        media = await store.get_media(job_id)
        if media is None or not media.video:
            raise web.HTTPNotFound()
        cache[key] = media
        while len(cache) > MEDIA_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return media


def bytes_response(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """``data`` whole (200) or the one range the request asks for (206, or 416)."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=60"}
    size = len(data)
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    if wanted is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return web.Response(body=data[first : last + 1], status=206, content_type=content_type, headers=headers)


async def video(request: web.Request) -> web.Response:
    media = await _media(request)
    return bytes_response(request, media.video, "video/mp4")


async def poster(request: web.Request) -> web.Response:
    media = await _media(request)
    if not media.poster:
        raise web.HTTPNotFound()
    return bytes_response(request, media.poster, "image/png")


def build_app(store: JobStore) -> web.Application:
    """The gallery over ``store`` (which the caller opens and closes)."""
    app = web.Application(middlewares=[pages_middleware])
    app[STORE_KEY] = store
    app[TEMPLATES_KEY] = templates()
    app[MEDIA_CACHE_KEY] = OrderedDict()
    app.router.add_get("/", index)
    app.router.add_get(r"/g/{guild_id:\d{1,20}}", guild_page)
    app.router.add_get(r"/g/{guild_id:\d{1,20}}/clip/{job_id:\d{1,20}}", clip_page)
    app.router.add_get(r"/media/{job_id:\d{1,20}}.mp4", video)
    app.router.add_get(r"/media/{job_id:\d{1,20}}.png", poster)
    app.router.add_static("/static", HERE / "static", append_version=False)
    return app


async def serve(database: str | None, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    store = await open_store(database)
    runner = web.AppRunner(build_app(store), access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        print(f"videobot web: serving the gallery on http://{host}:{port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await store.close()


def run_web(args: argparse.Namespace) -> int:
    try:
        database = existing_store(args.database)  # the gallery reads; it never creates an empty store
    except ValueError as exc:
        print(f"videobot web: error: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(database, args.host, args.port))
    except Exception as exc:
        if store_unavailable(exc):
            print(f"videobot web: the store is unavailable: {exc}", file=sys.stderr)
        elif isinstance(exc, OSError):
            print(f"videobot web: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        else:
            raise
        return 1
    return 0
