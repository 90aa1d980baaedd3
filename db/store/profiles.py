"""The job store's part for what the web gallery shows instead of Discord ids: a server's name and icon,
and a member's display name, only if that member agreed to be named there.

``store.profiles``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/profiles.sql``, its tables in migration V13. The bot writes (when it posts a
clip, and when a member answers ``/me gallery-name``); the web process only reads, so it makes no
Discord calls.

A member's display name is kept only while they agree to be named: withdrawing erases it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.store.part import Part

ICON_MAX_BYTES = 256 * 1024  # a 128-pixel server icon is a few KiB; anything this big is not one
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_icon_png(data: bytes | None) -> bool:
    """Bytes the gallery may serve as a server's icon (``image/png``): a PNG of a sensible size."""
    return data is not None and data.startswith(PNG_SIGNATURE) and len(data) <= ICON_MAX_BYTES


@dataclass(frozen=True)
class GuildProfile:
    """A server as the bot last saw it."""

    guild_id: int
    name: str
    icon_hash: str | None  # Discord's hash of the icon; None: no icon, or not fetched yet
    has_icon: bool  # the gallery holds the icon's PNG
    updated_at: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> GuildProfile:
        return cls(
            int(row["guild_id"]),
            str(row["name"]),
            row["icon_hash"],
            bool(row["has_icon"]),
            float(row["updated_at"]),
        )


@dataclass(frozen=True)
class MemberProfile:
    """A member's choice about the gallery, and the name kept for it (None unless ``show_name``)."""

    guild_id: int
    user_id: int
    show_name: bool
    display_name: str | None
    updated_at: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MemberProfile:
        return cls(
            int(row["guild_id"]),
            int(row["user_id"]),
            bool(row["show_name"]),
            row["display_name"],
            float(row["updated_at"]),
        )


class ProfileStore(Part):
    async def guild_profile(self, guild_id: int) -> GuildProfile | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("profile_guild", guild_id=guild_id)
        return None if row is None else GuildProfile.from_row(row)

    async def record_guild(self, guild_id: int, name: str) -> None:
        """Record a server's current name (its icon, if known, stays)."""
        async with self._db.transaction() as tx:
            await tx.execute("profile_record_guild", guild_id=guild_id, name=name, now=self.clock())

    async def record_guild_icon(self, guild_id: int, icon_hash: str | None, png: bytes | None) -> None:
        """Record a server's icon (after :meth:`record_guild`): its hash and PNG, or None for both when
        the server has none. Raises ValueError for bytes that are not a small PNG."""
        if (icon_hash is None) != (png is None) or (png is not None and not is_icon_png(png)):
            raise ValueError("an icon is a hash with a PNG of at most 256 KiB, or neither")
        async with self._db.transaction() as tx:
            await tx.execute(
                "profile_record_guild_icon",
                guild_id=guild_id,
                icon_hash=icon_hash,
                icon=png,
                now=self.clock(),
            )

    async def guild_icon(self, guild_id: int) -> bytes | None:
        """A server's icon as a PNG, if the bot recorded one."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("profile_guild_icon", guild_id=guild_id)
        return None if row is None else bytes(row["icon"])

    async def member_profile(self, guild_id: int, user_id: int) -> MemberProfile | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("profile_member", guild_id=guild_id, user_id=user_id)
        return None if row is None else MemberProfile.from_row(row)

    async def set_gallery_name(
        self, guild_id: int, user_id: int, show: bool, display_name: str | None
    ) -> MemberProfile:
        """A member's choice: named in the gallery by ``display_name``, or not (the name is erased)."""
        name = display_name if show else None
        now = self.clock()
        async with self._db.transaction() as tx:
            await tx.execute(
                "profile_set_gallery_name",
                guild_id=guild_id,
                user_id=user_id,
                show_name=show,
                display_name=name,
                now=now,
            )
        return MemberProfile(guild_id, user_id, show, name, now)

    async def record_member_name(self, guild_id: int, user_id: int, display_name: str) -> bool:
        """Keep the display name of a member who agreed to be named current; False (and nothing kept)
        for a member who did not."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "profile_record_member_name",
                guild_id=guild_id,
                user_id=user_id,
                display_name=display_name,
                now=self.clock(),
            )
        return changed > 0
