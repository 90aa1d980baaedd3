"""``videobot web``: the web gallery of the servers that opted in (aiohttp + Jinja2).

Pages: ``/`` (the public servers), ``/g/<guild>`` (a server's best clips of the day, the week or all
time, ``?period=day|week|all``, or its newest, ``?sort=new``; 24 a page, ``&page=2`` …),
``/g/<guild>/clip/<job>`` (one clip, its chain and its Discord message), and the bytes:
``/media/<job>.mp4`` (with HTTP Range, which browsers seek with), ``/media/<job>.png`` (the poster) and
``/g/<guild>/icon.png`` (the server's icon). Only servers whose ``gallery_public`` setting is on are
shown, and never a clip made in an age-restricted channel (:mod:`db.store.gallery`); any other server,
clip or file answers the same 404 as one that never existed, and so does an id that is not ASCII digits
without a leading zero or that no store's integer can hold (one clip, one address). Every text a
member wrote goes through Jinja2's autoescape, and every answer (a page, the bytes, a 403, 405 or 500
alike) carries a Content-Security-Policy that runs no script and loads nothing from elsewhere. A bug
answers a short page with a reference to quote, its traceback logged once; what a visitor sends (an
id, a page number, a Range of any length) never logs one.

Nothing is used from a browser's cache without asking (``Cache-Control: no-cache``, with an ETag, so
an unchanged page or clip is a 304): a server that opts out is hidden at once, even from a browser
that kept its clips, because the gallery checks the server on every request, 304s included.

The web process reads the store only: no Discord API calls. Servers are shown by the name the bot
recorded; a clip's author by the name they agreed to be shown by (``/me gallery-name``), else as "a
member of <server>". No member's Discord id reaches a page: the templates get the plain values of
:mod:`videobot.gallery_view`, which hold none. Each page has Open Graph and Twitter card tags (poster,
mp4) with absolute URLs on ``--public-url``, so a link pasted into Discord shows the clip.

A clip's page says what its content credentials say (C2PA, :mod:`db.credentials`; the bot signs each clip
when it posts it and stores the signed mp4 in place of the unsigned one, which is what ``/media/<job>.mp4``
serves byte for byte): valid (signed under one of the installation's roots, ``store.credentials``, and
intact), none (posted before clips were signed), signed elsewhere, altered after signing, or invalid. The
file is read when the page is rendered, once per clip and size (an LRU in this process), against roots
read from the store at most once a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import re
import secrets
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yarl
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from db.credentials import UnreadableFile, Verdict
from db.media import Media
from db.presets import BUILTIN_PRESETS, PresetCatalog, PresetError
from db.store import Job, Store, existing_store, open_store, store_unavailable
from db.store.credentials import Trust
from db.store.gallery import GalleryEntry, GalleryGuild
from videobot import gallery_view as view

log = logging.getLogger(__name__)


class _NotOurError(logging.Filter):
    """Keeps out of the log aiohttp's traceback for a request it could not read (a line over 8 KiB, a
    byte no header may hold): the visitor's mistake, answered 400; logged, anyone could flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


SERVER_LOG = logging.getLogger(f"{__name__}.server")  # what aiohttp's server logs, through the runner
SERVER_LOG.addFilter(_NotOurError())
RUNNER_OPTIONS: dict[str, Any] = {"access_log": None, "logger": SERVER_LOG}  # web.AppRunner's, TestServer's

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Site:
    """What the pages need besides the store: the gallery's public address (None: the address each
    request came to) and the models' titles."""

    public_url: str | None = None
    model_titles: Mapping[str, str] = field(default_factory=dict)


STORE_KEY = web.AppKey("store", Store)
SITE_KEY = web.AppKey("site", Site)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
MEDIA_CACHE_KEY = web.AppKey("media_cache", OrderedDict)
MEDIA_CACHE_SIZE = 16  # clips kept in memory: a browser fetches one clip in several ranges
CREDENTIALS_CACHE_SIZE = 512  # clips whose credentials were read (a few hundred bytes each)
ROOTS_SECONDS = 60.0  # how long the installation's roots read from the store are used

SECURITY_HEADERS = {
    # nothing on these pages is a script, so a member's text can never become one; and nothing is
    # loaded from elsewhere (no Discord CDN icon): a visitor's address reaches no one but this gallery
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# a browser may keep a copy but asks before each use: a server's opt-out answers that question with 404
REVALIDATE = "no-cache"
STORE_ID_MAX = 2**63 - 1  # the store's integer (SQLite INTEGER, PostgreSQL bigint)
# an id in a route: ASCII digits (\d is any script's digits) without a leading zero, at most 19 of them
ID = "[1-9][0-9]{0,18}"


# ---- pure helpers ----------------------------------------------------------------------------------


class RangeNotSatisfiable(ValueError):
    """A Range header that asks for no byte of the file (416)."""


# RFC 9110 §14.1.2: DIGIT is ASCII only, and whitespace is spaces and tabs
_RANGE = re.compile(r"[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*")


def _magnitude(digits: str) -> tuple[int, str]:
    """A key that orders decimal numbers of any length as numbers, without int()."""
    significant = digits.lstrip("0")
    return len(significant), significant


def _at_most(digits: str, cap: int) -> int:
    """The number ``digits`` spells, or ``cap`` if it is larger (int() refuses over 4,300 digits)."""
    magnitude = _magnitude(digits)
    if magnitude > _magnitude(str(cap)):
        return cap
    return int(magnitude[1] or "0")  # int() counts leading zeros towards its limit too


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``header`` asks of a file of ``size`` bytes, as (first, last) inclusive;
    None for the whole file (no header, a header we do not read, an invalid one, or several ranges,
    which RFC 9110 lets a server answer with the whole file). Numbers may have any number of digits.
    Raises :class:`RangeNotSatisfiable` for a range that starts past the end, or an empty suffix."""
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # bytes=-N: the last N bytes (all of them when N is more)
        suffix = _at_most(last_text, size)
        if suffix == 0:
            raise RangeNotSatisfiable(header)
        return size - suffix, size - 1
    if last_text and _magnitude(last_text) < _magnitude(first_text):
        return None  # invalid: ignored, as RFC 9110 says
    first = _at_most(first_text, size)
    if first >= size:
        raise RangeNotSatisfiable(header)
    return first, _at_most(last_text, size - 1) if last_text else size - 1


def entity_tag(*parts: str | bytes) -> str:
    """An ETag (without its quotes) for what ``parts`` make: it names no path or id of the host."""
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def discord_link(job: Job) -> str | None:
    """The clip's message in Discord, once it was posted (server, channel and message ids: no
    member's), for the server's members to open."""
    if job.message_id is None:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"


def default_public_url(host: str, port: int) -> str:
    """``http://HOST:PORT``, the address ``videobot web`` listens on (IPv6 in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def checked_public_url(url: str) -> str:
    """A ``--public-url`` without its trailing slash; ValueError unless it is the root of an http(s)
    address."""
    try:
        parsed = yarl.URL(url)
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"--public-url must be an http:// or https:// address, not {url!r}")
    if parsed.path not in ("", "/") or parsed.query_string or parsed.fragment:
        # the pages link to each other from the root (/g/…, /media/…): a sub-path would break them
        raise ValueError(f"--public-url is the root of an address (https://clips.example.org), not {url!r}")
    return url.rstrip("/")


def model_titles(presets_file: str | None = None) -> dict[str, str]:
    """Each preset's title by name: the operator's presets (``$VIDEOBOT_PRESETS``) where they load,
    else the built-in ones (the gallery shows a title, never fails for want of one)."""
    try:
        presets = list(PresetCatalog.load(presets_file))
    except (PresetError, OSError) as exc:
        log.warning("the gallery shows the built-in model titles: %s", exc)
        presets = list(BUILTIN_PRESETS)
    return {p.name: p.title for p in presets}


def read_verdict(video: bytes, trust: Trust) -> Verdict | None:
    """What ``video``'s (an mp4's bytes) content credentials say, checked against the installation's
    roots and signing certificates (none known yet: nothing is valid); None for a file c2pa cannot read.
    Blocks: run it in a thread."""
    try:
        return trust.verdict(video)
    except UnreadableFile:
        return None


CredentialsKey = tuple[int, int, str]  # the clip, its size, the roots it was checked against


class CredentialChecks:
    """The web process's memory of what clips' credentials say: each clip's verdict by (job id, size,
    roots), the least recently shown forgotten past ``size``, and the installation's roots, read from the
    store at most every :data:`ROOTS_SECONDS`. A re-signed clip has another size, a new root other roots:
    either is read again."""

    def __init__(
        self, size: int = CREDENTIALS_CACHE_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.clock = clock
        self.shown: OrderedDict[CredentialsKey, view.Credentials] = OrderedDict()
        self._roots: tuple[float, Trust, str] | None = None  # (read at, the trust, its digest)

    async def roots(self, store: Store) -> tuple[Trust, str]:
        """The installation's roots and signing certificates, and a digest of them."""
        now = self.clock()
        if self._roots is None or now - self._roots[0] >= ROOTS_SECONDS or now < self._roots[0]:
            trust = await store.credentials.trust()
            digest = entity_tag(trust.roots + "\n".join(sorted(trust.signers)).encode())
            self._roots = (now, trust, digest)
        return self._roots[1], self._roots[2]

    def get(self, key: CredentialsKey) -> view.Credentials | None:
        found = self.shown.get(key)
        if found is not None:
            self.shown.move_to_end(key)
        return found

    def put(self, key: CredentialsKey, shown: view.Credentials) -> None:
        self.shown[key] = shown
        self.shown.move_to_end(key)
        while len(self.shown) > self.size:
            self.shown.popitem(last=False)


CREDENTIALS_KEY = web.AppKey("credentials", CredentialChecks)


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every member's prompt and name is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(site_name=view.SITE_NAME)
    return env


# ---- the app -----------------------------------------------------------------------------------------


def unchanged(request: web.Request, etag: str) -> web.Response | None:
    """304 when the browser's copy (``If-None-Match``) is the one we would send, else None. Asked
    only after the server's gallery was found public: an opt-out answers 404, never 304."""
    kept = request.if_none_match
    if kept is None or not any(tag.value in (etag, "*") for tag in kept):
        return None
    response = web.Response(status=304)
    response.etag = etag
    return response


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """A page; a shown one (200) with an ETag of its HTML, or a 304 when the browser holds it."""
    context.setdefault("meta", [])
    context.setdefault("canonical", None)
    html = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    etag = entity_tag(html) if status == 200 else None
    if etag is not None and (same := unchanged(request, etag)) is not None:
        return same
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    if etag is not None:
        response.etag = etag
    return response


def public_base(request: web.Request) -> str:
    """The gallery's public address: ``--public-url``, else the address this request came to."""
    return request.app[SITE_KEY].public_url or str(request.url.origin())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One 404 page for everything not shown (absent or not public alike), 503 while the store is away,
    and for a bug a short page with a reference to quote (its traceback logged with it)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render(request, "not_found.html", status=404)
    except web.HTTPException:
        raise  # 403, 405: aiohttp's own short answer (with the headers of add_headers)
    except Exception as exc:
        if store_unavailable(exc):
            log.warning("the store is unavailable: %s", exc)
            response = render(request, "unavailable.html", status=503)
            response.headers["Retry-After"] = "30"
            return response
        reference = secrets.token_hex(3)
        resource = request.match_info.route.resource
        route = "?" if resource is None else resource.canonical  # the route, not what the visitor typed
        log.error("gallery %s failed (ref %s)", route, reference, exc_info=exc)
        return render(request, "error.html", status=500, reference=reference)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer, aiohttp's own 403, 405 and 500 too: the security headers, and no copy used
    without asking (``no-cache``, unless the answer set its own ``Cache-Control``)."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", REVALIDATE)


def _id(request: web.Request, name: str) -> int:
    """The route's ``name`` (ASCII digits, no leading zero: the route says so), or 404 when the
    store's integer cannot hold it: no such clip or server can exist."""
    number = int(request.match_info[name])
    if number > STORE_ID_MAX:
        raise web.HTTPNotFound()
    return number


def _guild_id(request: web.Request) -> int:
    return _id(request, "guild_id")


def _card(request: web.Request, entry: GalleryEntry, server: view.Server) -> view.Card:
    titles = request.app[SITE_KEY].model_titles
    return view.card(entry.job, entry.votes.up, entry.votes.down, entry.author_name, server.name, titles)


async def index(request: web.Request) -> web.Response:
    servers = [view.server(g) for g in await request.app[STORE_KEY].gallery.gallery_guilds()]
    meta = view.preview_tags(
        public_base(request),
        path="/",
        title=view.SITE_NAME,
        description="Short clips made together by Discord communities on their own GPUs.",
        clip=None,
    )
    return render(request, "index.html", servers=servers, meta=meta)


async def _listing(
    store: Store, guild: GalleryGuild, shown: view.View, page: int
) -> tuple[list[GalleryEntry], bool] | None:
    """A page of a server's list and whether another page follows; None when it is not public."""
    offset = (page - 1) * view.PAGE_SIZE
    if shown == "new":
        entries = await store.gallery.gallery_newest(guild.guild_id, view.PAGE_SIZE + 1, offset)
    else:
        period = view.period_of_view(shown)
        entries = await store.gallery.gallery_best(guild.guild_id, period, view.PAGE_SIZE + 1, offset)
    if entries is None:
        return None
    return entries[: view.PAGE_SIZE], len(entries) > view.PAGE_SIZE


async def guild_page(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    guild = await store.gallery.gallery_guild(_guild_id(request))
    if guild is None:
        raise web.HTTPNotFound()
    shown = view.view_of(request.query.get("sort"), request.query.get("period"))
    page = view.page_of(request.query.get("page"))
    listed = await _listing(store, guild, shown, page)
    if listed is None or (page > 1 and not listed[0]):
        raise web.HTTPNotFound()  # not public (any more), or past the last page
    entries, more = listed
    server = view.server(guild)
    cards = [_card(request, entry, server) for entry in entries]
    path = view.listing_path(guild.guild_id, shown, page)
    title = server.name if page == 1 else f"{server.name} · page {page}"
    meta = view.preview_tags(
        public_base(request),
        path=path,
        title=title,
        description=view.server_description(server.name, shown, server.clip_count),
        clip=cards[0] if cards else None,
    )
    tabs = [
        (name, view.listing_path(guild.guild_id, key), key == shown) for key, name in view.VIEW_NAMES.items()
    ]
    return render(
        request,
        "guild.html",
        server=server,
        shown=shown,
        view_name=view.VIEW_NAMES[shown],
        tabs=tabs,
        cards=cards,
        pages=view.pages(guild.guild_id, shown, page, more),
        meta=meta,
        canonical=view.absolute(public_base(request), path),
        title=title,
    )


async def clip_page(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    guild_id = _guild_id(request)
    found = await store.gallery.gallery_clip(guild_id, _id(request, "job_id"))
    guild = await store.gallery.gallery_guild(guild_id) if found is not None else None
    if found is None or guild is None:
        raise web.HTTPNotFound()
    server = view.server(guild)
    job = found.clip.job

    def author(of: Job) -> str:
        return view.author_label(found.author_name(of), server.name)

    clip = _card(request, GalleryEntry(job, found.clip.votes, found.author_name(job)), server)
    chain = [view.chain_link(a, author(a)) for a in found.ancestors]
    if chain or job.parent_id is not None:
        chain.append(view.chain_link(job, author(job), this=True))
    title = f"{view.shortened(clip.prompt, 70)} · {server.name}"
    meta = view.preview_tags(
        public_base(request),
        path=clip.path,
        title=title,
        description=view.clip_description(clip, server.name),
        clip=clip,
        kind="video.other",
    )
    return render(
        request,
        "clip.html",
        server=server,
        clip=clip,
        finished=view.when(job.finished_at),
        discord=discord_link(job),
        chain=chain,
        children=[view.child_link(c, author(c)) for c in found.children],
        style=view.style_of(found, server.name),
        credentials=await _credentials(request, job),
        meta=meta,
        canonical=view.absolute(public_base(request), clip.path),
        title=title,
    )


async def _shown_clip(request: web.Request) -> Job:
    """The route's clip, checked on every request, a browser's revalidation too: an opt-out counts at
    once."""
    job = await request.app[STORE_KEY].gallery.gallery_job(_id(request, "job_id"))
    if job is None:
        raise web.HTTPNotFound()
    return job


def media_tag(job: Job, kind: str) -> str:
    """The ETag of a clip's ``kind`` ("mp4", "png"): it changes when the stored media do, the signed
    clip that replaces the one its worker stored included (same reference, another size)."""
    return entity_tag(str(job.id), job.media_ref or "", str(job.video_bytes), str(job.manifest_bytes), kind)


MediaKey = tuple[int, str | None, int | None, int | None]


async def _stored_media(request: web.Request, job: Job) -> Media | None:
    """A showable clip's bytes (None when its file is gone), from a small cache keyed by the clip's
    stored reference and size (its signed version replaces it under the same reference)."""
    store = request.app[STORE_KEY]
    cache: OrderedDict[MediaKey, Media] = request.app[MEDIA_CACHE_KEY]
    key = (job.id, job.media_ref, job.video_bytes, job.manifest_bytes)
    media = cache.get(key)
    if media is not None:
        cache.move_to_end(key)
        return media
    media = await store.jobs.get_media(job.id)
    if media is None or not media.video:
        return None
    cache[key] = media  # a file signed since the row was read is kept under the old key, asked no more
    while len(cache) > MEDIA_CACHE_SIZE:
        cache.popitem(last=False)
    return media


async def _media(request: web.Request, job: Job) -> Media:
    """A showable clip's bytes, or 404 when its file is gone."""
    media = await _stored_media(request, job)
    if media is None:
        raise web.HTTPNotFound()
    return media


async def _credentials(request: web.Request, job: Job) -> view.Credentials:
    """What the clip's content credentials say, read once per clip, size and roots."""
    checks = request.app[CREDENTIALS_KEY]
    roots, roots_tag = await checks.roots(request.app[STORE_KEY])
    key = (job.id, job.video_bytes or 0, roots_tag)
    shown = checks.get(key)
    if shown is not None:
        return shown
    media = await _stored_media(request, job)
    if media is None:
        return view.credentials(None)  # its file is gone: nothing to read
    shown = view.credentials(await asyncio.to_thread(read_verdict, media.video, roots))
    checks.put(key, shown)  # as for the bytes: a file signed since the row was read has another key
    return shown


def bytes_response(request: web.Request, data: bytes, content_type: str, etag: str) -> web.Response:
    """``data`` whole (200) or the one range the request asks for (206, or 416); a Range whose
    ``If-Range`` names another copy than ``etag`` gets the whole (RFC 9110 §13.1.5)."""
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{etag}"'}
    size = len(data)
    asked = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != headers["ETag"]:
        asked = None
    try:
        wanted = parse_range(asked, size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    if wanted is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return web.Response(body=data[first : last + 1], status=206, content_type=content_type, headers=headers)


async def video(request: web.Request) -> web.Response:
    job = await _shown_clip(request)
    etag = media_tag(job, "mp4")
    if (same := unchanged(request, etag)) is not None:
        return same  # the browser's copy is current: the bytes are not even read
    media = await _media(request, job)
    return bytes_response(request, media.video, "video/mp4", etag)


async def poster(request: web.Request) -> web.Response:
    job = await _shown_clip(request)
    etag = media_tag(job, "png")
    if (same := unchanged(request, etag)) is not None:
        return same
    media = await _media(request, job)
    if not media.poster:
        raise web.HTTPNotFound()
    return bytes_response(request, media.poster, "image/png", etag)


async def icon(request: web.Request) -> web.Response:
    png = await request.app[STORE_KEY].gallery.gallery_icon(_guild_id(request))
    if png is None:
        raise web.HTTPNotFound()
    etag = entity_tag(png)
    if (same := unchanged(request, etag)) is not None:
        return same
    return bytes_response(request, png, "image/png", etag)


def build_app(
    store: Store, *, public_url: str | None = None, titles: Mapping[str, str] | None = None
) -> web.Application:
    """The gallery over ``store`` (which the caller opens and closes). ``public_url``: the address
    link previews point at (None: the address each request came to); ``titles``: the models' titles
    by preset name (default: :func:`model_titles`)."""
    app = web.Application(middlewares=[pages_middleware])
    app.on_response_prepare.append(add_headers)
    app[STORE_KEY] = store
    app[SITE_KEY] = Site(public_url, model_titles() if titles is None else titles)
    app[TEMPLATES_KEY] = templates()
    app[MEDIA_CACHE_KEY] = OrderedDict()
    app[CREDENTIALS_KEY] = CredentialChecks()
    app.router.add_get("/", index)
    app.router.add_get(f"/g/{{guild_id:{ID}}}", guild_page)
    app.router.add_get(f"/g/{{guild_id:{ID}}}/icon.png", icon)
    app.router.add_get(f"/g/{{guild_id:{ID}}}/clip/{{job_id:{ID}}}", clip_page)
    app.router.add_get(f"/media/{{job_id:{ID}}}.mp4", video)
    app.router.add_get(f"/media/{{job_id:{ID}}}.png", poster)
    app.router.add_static("/static", HERE / "static", append_version=False)
    return app


async def serve(database: str | None, host: str, port: int, public_url: str) -> None:
    """Serve until SIGINT or SIGTERM."""
    store = await open_store(database)
    runner = web.AppRunner(build_app(store, public_url=public_url), **RUNNER_OPTIONS)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        where = default_public_url(host, port)
        shared = "" if public_url == where else f" (links point at {public_url}/)"
        print(f"videobot web: serving the gallery on {where}/{shared}", flush=True)
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
        public_url = checked_public_url(
            getattr(args, "public_url", None) or default_public_url(args.host, args.port)
        )
    except ValueError as exc:
        print(f"videobot web: error: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(database, args.host, args.port, public_url))
    except Exception as exc:
        if store_unavailable(exc):
            print(f"videobot web: the store is unavailable: {exc}", file=sys.stderr)
        elif isinstance(exc, OSError):
            print(f"videobot web: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        else:
            raise
        return 1
    return 0
