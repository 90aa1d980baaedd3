"""The job store's part for a server's styles: LoRAs its admins add (``/style add``), that members choose
for a clip (``/video style:``) and that a clip's card credits to whoever made them.

``store.styles``, a :class:`db.store.part.Part`: its queries in ``db/sql/styles.sql``, its table in
migration V20. A style belongs to one preset family (``db.presets.Preset.family``). Removing a style
keeps its row, so the clips made with it still credit it; a worker that cannot load a style's file marks
it broken with a failure code (``db.failures``), which ``/style list`` shows, instead of every job that
names it failing unexplained.

``add(guild_id, name, source, *, preset, family, created_by, scale=1.0, trigger="", author="",
author_id=None, license="", link="") -> Style`` (raises :class:`StyleRefused`), ``remove(guild_id,
name) -> Style | None``, ``library(guild_id) -> list[Style]``, ``named(guild_id, name) -> Style | None``,
``get(style_id) -> Style | None`` (removed ones too), ``for_family(guild_id, family) -> list[Style]``,
``mark_broken(style_id, code, params)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from db.failures import failure_message, params_from_json
from db.store.models import StoreError
from db.store.part import Part

STYLES_MAX = 100  # styles a server keeps (autocomplete shows 25 at a time)
NAME_MAX = 50


class StyleRefused(StoreError):
    """Something an admin asked of the style library that cannot be done; nothing was stored."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "exists": "This server has a style called “{name}” already; remove it first or choose another name.",
        "too_many": "This server has {limit} styles, the most it may have; remove one first.",
        "unknown": "This server has no style called “{name}”.",
    }


@dataclass(frozen=True)
class Style:
    id: int
    guild_id: int
    name: str
    source: str  # a hub id ("Org/Repo" or "Org/Repo/file.safetensors") or a path on the GPU hosts
    scale: float
    trigger: str  # words put before the prompt, as the style's author says
    preset: str  # the preset it was added for
    family: str  # the presets it fits (db.presets.Preset.family)
    author: str  # who made it, as the admin wrote it
    author_id: int | None  # who made it, when that is a member of the server
    license: str
    link: str
    created_by: int
    created_at: float
    deleted_at: float | None = None
    broken_code: str | None = None  # why a worker could not load it (db.failures), None while it works
    broken_params: Mapping[str, Any] = field(default_factory=dict)
    broken_at: float | None = None

    @property
    def broken(self) -> bool:
        return self.broken_code is not None

    @property
    def broken_text(self) -> str | None:
        """Why it is broken, in English (the bot says it in the admin's language from the code)."""
        return None if self.broken_code is None else failure_message(self.broken_code, self.broken_params)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Style:
        return cls(
            id=int(row["id"]),
            guild_id=int(row["guild_id"]),
            name=str(row["name"]),
            source=str(row["source"]),
            scale=float(row["scale"]),
            trigger=str(row["trigger_words"]),
            preset=str(row["preset"]),
            family=str(row["family"]),
            author=str(row["author"]),
            author_id=None if row["author_id"] is None else int(row["author_id"]),
            license=str(row["license"]),
            link=str(row["link"]),
            created_by=int(row["created_by"]),
            created_at=float(row["created_at"]),
            deleted_at=row["deleted_at"],
            broken_code=row["broken_code"],
            broken_params=params_from_json(row["broken_params"]),
            broken_at=row["broken_at"],
        )


class StyleStore(Part):
    async def add(
        self,
        guild_id: int,
        name: str,
        source: str,
        *,
        preset: str,
        family: str,
        created_by: int,
        scale: float = 1.0,
        trigger: str = "",
        author: str = "",
        author_id: int | None = None,
        license: str = "",
        link: str = "",
    ) -> Style:
        """A new style of ``guild_id``; StyleRefused when the name is taken or the library is full."""
        async with self._db.transaction() as tx:
            if await tx.fetch_one("style_named", guild_id=guild_id, name=name) is not None:
                raise StyleRefused("exists", name=name)
            count = await tx.fetch_one("style_count", guild_id=guild_id)
            if count is not None and int(count["n"]) >= STYLES_MAX:
                raise StyleRefused("too_many", limit=STYLES_MAX)
            row = await tx.fetch_one(
                "style_insert",
                guild_id=guild_id,
                name=name,
                source=source,
                scale=float(scale),
                trigger=trigger,
                preset=preset,
                family=family,
                author=author,
                author_id=author_id,
                license=license,
                link=link,
                created_by=created_by,
                now=self.clock(),
            )
        assert row is not None
        return Style.from_row(row)

    async def remove(self, guild_id: int, name: str) -> Style | None:
        """Remove a style by name (the clips made with it keep crediting it); None if there is none."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("style_remove", guild_id=guild_id, name=name, now=self.clock())
        return None if row is None else Style.from_row(row)

    async def library(self, guild_id: int) -> list[Style]:
        """The server's styles (not removed), by name."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("style_list", guild_id=guild_id)
        return [Style.from_row(row) for row in rows]

    async def named(self, guild_id: int, name: str) -> Style | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("style_named", guild_id=guild_id, name=name)
        return None if row is None else Style.from_row(row)

    async def get(self, style_id: int) -> Style | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("style_get", id=style_id)
        return None if row is None else Style.from_row(row)

    async def for_family(self, guild_id: int, family: str) -> list[Style]:
        """The server's styles that fit presets of ``family``, by name."""
        return [style for style in await self.library(guild_id) if style.family == family]

    async def mark_broken(self, style_id: int, code: str, params: Mapping[str, Any] | None = None) -> None:
        """A worker could not load the style's file: record why (a db.failures code) for the admins."""
        text = json.dumps(dict(params or {}), ensure_ascii=False, sort_keys=True)
        async with self._db.transaction() as tx:
            await tx.execute("style_mark_broken", id=style_id, code=code, params=text, now=self.clock())
