"""What the gallery's pages show, as plain values: the templates get these and nothing else, so no
member's Discord id can reach a page (a card holds the clip's number, never its author's id).

Pure functions, no I/O: a member's name or "a member of <server>", a prompt with its Discord mentions
and snowflake-shaped numbers taken out, a clip's length, model title and date, pages of 24, and the
Open Graph / Twitter card tags that make a link pasted into Discord (or anywhere) show a preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PureWindowsPath
from typing import Literal, cast
from urllib.parse import urlencode

from db.credentials import Verdict
from db.store import Job
from db.store.gallery import GALLERY_PERIODS, GalleryClip, GalleryGuild, GalleryPeriod
from db.store.styles import Style

PAGE_SIZE = 24
SITE_NAME = "videobot gallery"
UNNAMED_SERVER = "A Discord server"  # a public server whose name the bot has not recorded yet

View = Literal["new", "day", "week", "all"]
VIEW_NAMES: dict[View, str] = {"new": "Newest", "day": "Today", "week": "This week", "all": "All time"}
DEFAULT_VIEW: View = "week"
KIND_WORDS = {
    "new": "original",
    "reroll": "reroll of",
    "remix": "remix of",
    "extend": "extension of",
    "hd": "HD version of",
    "loop": "loop of",
    "bridge": "bridge from",
}

# Discord's mention syntax and anything else shaped like a snowflake (17 to 20 digits: a member's id
# looks like any other): a prompt can name a member, the page must not
_USER_MENTION = re.compile(r"<@!?\d+>")
_ROLE_MENTION = re.compile(r"<@&\d+>")
_CHANNEL_MENTION = re.compile(r"<#\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w{1,32}):\d+>")
_SNOWFLAKE = re.compile(r"(?<!\d)\d{17,20}(?!\d)")


def public_text(text: str) -> str:
    """A member's text as the public page shows it: mentions become "@member", "@role", "#channel",
    a custom emoji its :name:, and any other snowflake-shaped number "…"."""
    text = _USER_MENTION.sub("@member", text)
    text = _ROLE_MENTION.sub("@role", text)
    text = _CHANNEL_MENTION.sub("#channel", text)
    text = _CUSTOM_EMOJI.sub(r":\1:", text)
    return _SNOWFLAKE.sub("…", text)


def shortened(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters (an ellipsis if cut)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def server_name(name: str | None) -> str:
    return public_text(name) if name else UNNAMED_SERVER


def author_label(name: str | None, server: str) -> str:
    """Who made a clip, as the public page says it: the name the member agreed to be shown by, else
    "a member of <server>"."""
    if name:
        return public_text(name)
    return "a member of this server" if server == UNNAMED_SERVER else f"a member of {server}"


def clip_length(job: Job) -> str | None:
    """The clip's length as a member reads it ("4.0 s"); None when the frame count is not known."""
    if not job.frames or not job.fps:
        return None
    return f"{job.frames / job.fps:.1f} s"


def model_title(titles: Mapping[str, str], model: str) -> str:
    """A preset's title; for a model the catalog does not know, its folder's name (never the host's
    path to it) or its name."""
    if model in titles:
        return titles[model]
    return PureWindowsPath(model).name or model  # either kind of slash


def day(epoch: float | None) -> str:
    """A date as people read it: 3 Dec 2026 (UTC)."""
    if epoch is None:
        return ""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment.day} {moment:%b %Y}"


def iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%MZ")


def when(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


# ---- which list, which page ----------------------------------------------------------------------------


def view_of(sort: str | None, period: str | None) -> View:
    """The list a server page shows: ``?sort=new`` the newest, else the best of ``?period=``."""
    if sort == "new":
        return "new"
    return cast(View, period) if period in GALLERY_PERIODS else DEFAULT_VIEW


LAST_PAGE = 1_000_000  # any page past it is as empty as it is


def page_of(query: str | None) -> int:
    """``?page=N`` as a page number (1 for anything that is not a whole number of at least 1 in ASCII
    digits; numbers of any length are read, without int(), which refuses over 4,300 digits)."""
    if query is None or not (query.isascii() and query.isdigit()):
        return 1
    significant = query.lstrip("0")
    if len(significant) > len(str(LAST_PAGE)):
        return LAST_PAGE
    return max(1, min(int(significant or "0"), LAST_PAGE))


def listing_path(guild_id: int, view: View, page: int = 1) -> str:
    """The path of a server's list: ``/g/<id>?sort=new`` or ``?period=…``, and ``&page=N`` after 1."""
    query: dict[str, str | int] = {"sort": "new"} if view == "new" else {"period": view}
    if page > 1:
        query["page"] = page
    return f"/g/{guild_id}?{urlencode(query)}"


def period_of_view(view: View) -> GalleryPeriod:
    assert view != "new"
    return view


@dataclass(frozen=True)
class Pages:
    """Where a page sits: its number and the paths of the pages before and after it, if any."""

    number: int
    previous: str | None
    next: str | None


def pages(guild_id: int, view: View, number: int, has_more: bool) -> Pages:
    return Pages(
        number,
        listing_path(guild_id, view, number - 1) if number > 1 else None,
        listing_path(guild_id, view, number + 1) if has_more else None,
    )


# ---- what a page shows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A public server: its route (``/g/<id>``: a server's id is no member's), name and icon."""

    path: str
    name: str
    icon: str | None  # the path of its icon, if the gallery keeps one
    clip_count: int


def server(guild: GalleryGuild) -> Server:
    icon = f"/g/{guild.guild_id}/icon.png" if guild.has_icon else None
    return Server(f"/g/{guild.guild_id}", server_name(guild.name), icon, guild.clip_count)


@dataclass(frozen=True)
class Card:
    """One clip as a card or a page shows it."""

    number: int  # the clip's job number (ours, not Discord's)
    path: str
    video: str
    poster: str
    width: int | None
    height: int | None
    prompt: str
    author: str
    named: bool  # the author agreed to be named (else ``author`` is "a member of <server>")
    votes_up: int
    votes_down: int
    length: str | None
    model: str
    date: str
    date_iso: str
    relation: str | None  # "remix of #12", "bridge from #12 to #15"


def relation_of(job: Job) -> str | None:
    """How a clip came from others, by their numbers only: "remix of #12"; a bridge names both clips it
    joins, "bridge from #12 to #15"; None for an original."""
    if job.kind == "new" or job.parent_id is None:
        return None
    relation = f"{KIND_WORDS[job.kind]} #{job.parent_id}"
    if job.kind == "bridge" and job.spec.bridges_to is not None:
        relation = f"{relation} to #{job.spec.bridges_to}"
    return relation


def card(
    job: Job, votes_up: int, votes_down: int, author_name: str | None, server: str, titles: Mapping[str, str]
) -> Card:
    """A clip as the pages show it; ``author_name`` is the name its author agreed to, or None."""
    return Card(
        number=job.id,
        path=f"/g/{job.guild_id}/clip/{job.id}",
        video=f"/media/{job.id}.mp4",
        poster=f"/media/{job.id}.png",
        width=job.width,
        height=job.height,
        prompt=public_text(job.spec.prompt),
        author=author_label(author_name, server),
        named=bool(author_name),
        votes_up=votes_up,
        votes_down=votes_down,
        length=clip_length(job),
        model=model_title(titles, job.model),
        date=day(job.finished_at),
        date_iso=iso(job.finished_at),
        relation=relation_of(job),
    )


@dataclass(frozen=True)
class ChainLink:
    """A clip in another clip's chain: its number, its page (None for the clip itself), how it came
    to be, by whom, and its prompt."""

    number: int
    path: str | None
    how: str
    author: str
    prompt: str


CHILD_WORDS = {
    "new": "original",
    "reroll": "reroll",
    "remix": "remix",
    "extend": "extension",
    "hd": "HD version",
    "loop": "loop",
    "bridge": "bridge",
}


def chain_link(job: Job, author: str, *, this: bool = False) -> ChainLink:
    """A clip this one was made from (or, ``this``, the clip itself at the end of its chain)."""
    how = relation_of(job) or KIND_WORDS[job.kind]
    path = None if this else f"/g/{job.guild_id}/clip/{job.id}"
    return ChainLink(job.id, path, how, author, public_text(job.spec.prompt))


def child_link(job: Job, author: str) -> ChainLink:
    """A clip made from this one (a bridge from it says which clip it goes on to)."""
    how = CHILD_WORDS[job.kind]
    if job.kind == "bridge" and job.spec.bridges_to is not None:
        how = f"{how} to #{job.spec.bridges_to}"
    return ChainLink(
        job.id,
        f"/g/{job.guild_id}/clip/{job.id}",
        how,
        author,
        public_text(job.spec.prompt),
    )


@dataclass(frozen=True)
class StyleCredit:
    """The style a clip was made with, as its page credits it: its name, who made it (None: not said)
    and its license ("" when none was given)."""

    name: str
    author: str | None
    license: str


def style_credit(style: Style, author_name: str | None, server: str) -> StyleCredit:
    """A style's credit on the public page: a free-text author as written (mentions taken out); a
    member who made it by the name they agreed to be shown by, else "a member of <server>"."""
    if style.author_id is not None:
        author: str | None = author_label(author_name, server)
    else:
        author = public_text(style.author) if style.author else None
    return StyleCredit(public_text(style.name), author, public_text(style.license))


def style_of(found: GalleryClip, server: str) -> StyleCredit | None:
    """The credit of the style a clip of the gallery was made with, if any."""
    style = found.style
    if style is None:
        return None
    name = found.author_names.get(style.author_id) if style.author_id is not None else None
    return style_credit(style, name, server)


# ---- content credentials ------------------------------------------------------------------------------

CredentialState = Literal["none", "valid", "untrusted", "altered", "invalid", "unreadable"]
CREDENTIAL_WORDS: dict[CredentialState, str] = {
    "none": "none",
    "valid": "valid",
    "untrusted": "signed elsewhere",
    "altered": "altered after signing",
    "invalid": "invalid",
    "unreadable": "unreadable",
}
CHECK_CREDENTIALS = "https://contentcredentials.org/verify"  # anyone's check: drop the mp4 there


@dataclass(frozen=True)
class Credentials:
    """What a clip's content credentials (C2PA, signed by the bot when it posts the clip) say, as its page
    shows it: the state (also the line's CSS class), the line ("Content credentials: valid") and a
    sentence that explains it."""

    state: CredentialState
    line: str
    detail: str
    check: str = CHECK_CREDENTIALS


def _made_by(verdict: Verdict) -> str | None:
    """The model the file says made it, as a title (a path on a host reduced to its folder's name)."""
    facts = verdict.model_facts
    named = facts.get("title") or facts.get("preset")
    if not isinstance(named, str) or not named.strip():
        return None
    return shortened(public_text(model_title({}, named.strip())), 80)


def credentials(verdict: Verdict | None) -> Credentials:
    """The page's words for ``verdict``, the clip's content credentials read against the installation's
    roots; None: the file's credentials could not be read."""
    state: CredentialState = "unreadable" if verdict is None else verdict.status
    line = f"Content credentials: {CREDENTIAL_WORDS[state]}"
    if verdict is None:
        return Credentials(state, line, "The file could not be read to check what it says about itself.")
    model = _made_by(verdict)
    says = ""
    if verdict.ai_generated:
        says = f"; the file says a model made it: {model}" if model else "; the file says a model made it"
    if state == "valid":
        detail = f"Signed by the videobot of this gallery{says}."
    elif state == "none":
        detail = (
            "Nothing in the file says who or what made it: clips posted before videobot signed its clips,"
            " and the rare clip that could not be signed within its upload limit, carry no credentials."
        )
    elif state == "untrusted":
        signer = f" ({shortened(public_text(verdict.signer), 60)})" if verdict.signer else ""
        detail = f"The file is intact, but signed by someone this gallery does not know{signer}{says}."
    elif state == "altered":
        detail = "The file was changed after it was signed: its credentials no longer describe it."
    else:
        detail = "The credentials in the file do not check out (a broken signature or certificate)."
    return Credentials(state, line, detail)


# ---- link previews -----------------------------------------------------------------------------------------


def absolute(base: str, path: str) -> str:
    """``path`` on the gallery's public address (``--public-url``)."""
    return base.rstrip("/") + path


Meta = list[tuple[str, str, str]]  # (attribute, its value, content): ("property", "og:title", "…")


def preview_tags(
    base: str,
    *,
    path: str,
    title: str,
    description: str,
    clip: Card | None,
    kind: str = "website",
) -> Meta:
    """Open Graph and Twitter card tags for a page at ``path``: its title and description and, with a
    clip, the clip's poster as the image and its mp4 as the video, all as absolute URLs on ``base``.
    Twitter's "player" card needs an HTTPS page it may frame (these pages forbid framing), so the card
    is a large image."""
    tags: Meta = [
        ("property", "og:site_name", SITE_NAME),
        ("property", "og:type", kind),
        ("property", "og:url", absolute(base, path)),
        ("property", "og:title", title),
        ("property", "og:description", description),
    ]
    if clip is not None:
        image, video = absolute(base, clip.poster), absolute(base, clip.video)
        size = [] if not (clip.width and clip.height) else [str(clip.width), str(clip.height)]
        tags += [("property", "og:image", image), ("property", "og:image:type", "image/png")]
        if size:
            tags += [("property", "og:image:width", size[0]), ("property", "og:image:height", size[1])]
        tags += [("property", "og:image:alt", shortened(clip.prompt, 200))]
        tags += [("property", "og:video", video)]
        if video.startswith("https://"):
            tags += [("property", "og:video:secure_url", video)]
        tags += [("property", "og:video:type", "video/mp4")]
        if size:
            tags += [("property", "og:video:width", size[0]), ("property", "og:video:height", size[1])]
    tags += [
        ("name", "twitter:card", "summary_large_image" if clip is not None else "summary"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
    ]
    if clip is not None:
        tags += [("name", "twitter:image", absolute(base, clip.poster))]
    return tags


def clip_description(clip: Card, server: str) -> str:
    """One line about a clip: "A 4.0 s clip by Ana on Pixel Forge · LTX-Video 2B · ▲ 3 ▼ 0" (or "by a
    member of Pixel Forge")."""
    length = f"A {clip.length} clip" if clip.length else "A clip"
    made = f"by {clip.author} on {server}" if clip.named else f"by {clip.author}"
    return f"{length} {made} · {clip.model} · ▲ {clip.votes_up} ▼ {clip.votes_down}"


def server_description(name: str, view: View, clip_count: int) -> str:
    count = f"{clip_count} clip" + ("" if clip_count == 1 else "s")
    shown = "the newest" if view == "new" else f"the best of {VIEW_NAMES[view].lower()}"
    if view == "all":
        shown = "the best of all time"
    return f"{count} made together on {name}'s own GPUs: {shown}."
