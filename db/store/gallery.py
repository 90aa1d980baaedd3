"""The job store's part for the web gallery: the best and the newest clips of the servers that opted in,
a page at a time, and a clip's chain; with each server's name and each author's name where the author
agreed to be named (:mod:`db.store.profiles`), never an id to show instead.

``store.gallery``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/gallery.sql``.

Nothing here hands out anything of a server whose ``gallery_public`` setting is off: every method
answers None or an empty list then, exactly as for a server or clip that does not exist. Nor anything
of a clip made in an age-restricted channel (``Job.age_restricted``): it is in no list, count or chain,
and its clip, page and media answer None, as for a clip that does not exist. Nor anything of a clip
posted in a channel or thread that @everyone could not view (``Job.public_channel``, recorded by the bot
as it posts a clip; a clip whose channel is not known yet counts as not public).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from db.media import Media
from db.store.connector import Transaction
from db.store.models import GuildSettings, Job, RankedClip, VoteCounts
from db.store.part import Part
from db.store.profiles import is_icon_png
from db.store.styles import Style

GalleryPeriod = Literal["day", "week", "all"]
GALLERY_PERIODS: dict[GalleryPeriod, float | None] = {"day": 86_400.0, "week": 7 * 86_400.0, "all": None}


def period_start(period: GalleryPeriod, now: float) -> float:
    """The moment from which a period's clips count (0 for all time)."""
    length = GALLERY_PERIODS[period]
    return 0.0 if length is None else now - length


def shown_in_gallery(job: Job) -> bool:
    """A clip the gallery may show (once its server opted in): posted in Discord (so signed with its
    content credentials: the bot signs a clip as it posts it), stored, not deleted, not made in an
    age-restricted channel (nor built on a clip that was), and posted where @everyone could see it."""
    return (
        job.state == "done"
        and job.posted_at is not None
        and not job.deleted
        and job.media_ref is not None
        and not job.age_restricted
        and bool(job.public_channel)  # None (not known) is not public; SQLite says 0 or 1
    )


@dataclass(frozen=True)
class GalleryGuild:
    """A public server as the gallery shows it: its name (None until the bot recorded one), whether
    its icon is kept, and how many clips its gallery holds."""

    guild_id: int
    name: str | None
    has_icon: bool
    clip_count: int


@dataclass(frozen=True)
class GalleryEntry(RankedClip):
    """A clip with its votes, and its author's name if the author agreed to be named (else None)."""

    author_name: str | None = None


@dataclass(frozen=True)
class GalleryClip:
    """One clip's page: the clip and its votes, the clips it was made from (the original first) and
    the clips made from it (extends, remixes, rerolls), all of the same server and all showable;
    ``author_names``: member id → name, for those of their authors (and of its style's author) who
    agreed to be named; ``style``: the style it was made with (removed since or not), if any."""

    clip: RankedClip
    ancestors: tuple[Job, ...]
    children: tuple[Job, ...]
    author_names: Mapping[int, str] = field(default_factory=dict)
    style: Style | None = None

    def author_name(self, job: Job) -> str | None:
        return self.author_names.get(job.user_id)


def _entry(row: dict[str, Any]) -> GalleryEntry:
    return GalleryEntry(
        Job.from_row(row), VoteCounts(int(row["vote_up"]), int(row["vote_down"])), row["author_name"]
    )


class GalleryStore(Part):
    async def gallery_guilds(self) -> list[GalleryGuild]:
        """The servers whose gallery is public (in id order), with their names, icons and clip counts."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("gallery_settings_candidates")
            return [await self._gallery_guild(tx, row) for row in rows if _public(row)]

    async def gallery_guild(self, guild_id: int) -> GalleryGuild | None:
        """A public server's name, icon and clip count; None when its gallery is not public."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("gallery_guild", guild_id=guild_id)
            if row is None or not _public(row):
                return None
            return await self._gallery_guild(tx, row)

    async def gallery_is_public(self, guild_id: int) -> bool:
        async with self._db.transaction(write=False) as tx:
            return await self._gallery_public(tx, guild_id)

    async def gallery_best(
        self, guild_id: int, period: GalleryPeriod, limit: int = 24, offset: int = 0
    ) -> list[GalleryEntry] | None:
        """A public server's best clips of the day, the week or all time (net votes, then newest),
        ``limit`` of them after the first ``offset``; None when the server's gallery is not public."""
        since = period_start(period, self.clock())
        async with self._db.transaction(write=False) as tx:
            if not await self._gallery_public(tx, guild_id):
                return None
            rows = await tx.fetch_all(
                "gallery_best", guild_id=guild_id, since=since, limit=limit, offset=offset
            )
        return [_entry(r) for r in rows]

    async def gallery_newest(
        self, guild_id: int, limit: int = 24, offset: int = 0
    ) -> list[GalleryEntry] | None:
        """A public server's clips, the newest first, ``limit`` of them after the first ``offset``;
        None when the server's gallery is not public."""
        async with self._db.transaction(write=False) as tx:
            if not await self._gallery_public(tx, guild_id):
                return None
            rows = await tx.fetch_all("gallery_newest", guild_id=guild_id, limit=limit, offset=offset)
        return [_entry(r) for r in rows]

    async def gallery_icon(self, guild_id: int) -> bytes | None:
        """A public server's icon (a PNG the bot recorded), or None."""
        async with self._db.transaction(write=False) as tx:
            if not await self._gallery_public(tx, guild_id):
                return None
            row = await tx.fetch_one("profile_guild_icon", guild_id=guild_id)
        icon = None if row is None else bytes(row["icon"])
        return icon if is_icon_png(icon) else None

    async def gallery_job(self, job_id: int) -> Job | None:
        """The clip if the gallery may show it (its server opted in), else None."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_job", id=job_id)
            if row is None:
                return None
            job = Job.from_row(row)
            if not shown_in_gallery(job) or not await self._gallery_public(tx, job.guild_id):
                return None
        return job

    async def gallery_clip(self, guild_id: int, job_id: int) -> GalleryClip | None:
        """A clip of a public server with its votes and chain; None unless the clip is of ``guild_id``,
        that server's gallery is public, and the clip is finished and not deleted."""
        async with self._db.transaction(write=False) as tx:
            if not await self._gallery_public(tx, guild_id):
                return None
            row = await tx.fetch_one("get_job", id=job_id)
            if row is None:
                return None
            job = Job.from_row(row)
            if job.guild_id != guild_id or not shown_in_gallery(job):
                return None
            votes = await tx.fetch_one("vote_counts", job_id=job_id)
            assert votes is not None
            ancestors: list[Job] = []
            seen = {job_id}
            parent = job.parent_id
            while parent is not None and parent not in seen:
                seen.add(parent)
                parent_row = await tx.fetch_one("get_job", id=parent)
                if parent_row is None:
                    break
                ancestor = Job.from_row(parent_row)
                if ancestor.guild_id != guild_id:
                    break
                ancestors.append(ancestor)
                parent = ancestor.parent_id
            children = [Job.from_row(r) for r in await tx.fetch_all("children", id=job_id)]
            shown_ancestors = tuple(a for a in reversed(ancestors) if shown_in_gallery(a))
            shown_children = tuple(c for c in children if c.guild_id == guild_id and shown_in_gallery(c))
            style = None
            if job.spec.style is not None:
                style_row = await tx.fetch_one("style_get", id=job.spec.style)
                style = None if style_row is None else Style.from_row(style_row)
                if style is not None and style.guild_id != guild_id:
                    style = None
            names: dict[int, str] = {}
            authors = {j.user_id for j in (job, *shown_ancestors, *shown_children)}
            if style is not None and style.author_id is not None:
                authors.add(style.author_id)
            for author in authors:
                name = await tx.fetch_one("gallery_author_name", guild_id=guild_id, user_id=author)
                if name is not None:
                    names[author] = str(name["display_name"])
        return GalleryClip(
            clip=RankedClip(job, VoteCounts(int(votes["up"]), int(votes["down"]))),
            ancestors=shown_ancestors,
            children=shown_children,
            author_names=names,
            style=style,
        )

    async def gallery_media(self, job_id: int) -> Media | None:
        """A showable clip's mp4 and poster, or None (not public, not finished, deleted, missing)."""
        if await self.gallery_job(job_id) is None:
            return None
        return await self._media.get(job_id)

    @staticmethod
    async def _gallery_public(tx: Transaction, guild_id: int) -> bool:
        row = await tx.fetch_one("get_settings", guild_id=guild_id)
        return row is not None and GuildSettings.from_row(row).gallery_public

    @staticmethod
    async def _gallery_guild(tx: Transaction, row: dict[str, Any]) -> GalleryGuild:
        guild_id = int(row["guild_id"])
        count = await tx.fetch_one("gallery_guild_clip_count", guild_id=guild_id)
        return GalleryGuild(
            guild_id, row["profile_name"], bool(row["has_icon"]), int(count["n"]) if count else 0
        )


def _public(settings_row: dict[str, Any]) -> bool:
    return GuildSettings.from_row(settings_row).gallery_public
