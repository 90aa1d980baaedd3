"""What the web gallery shows instead of Discord ids, kept by the bot (``videobot web`` makes no Discord
calls): a server's name and icon, and the display name of a clip's author who agreed to be named there
(``/me gallery-name``). Recorded when a clip is posted (:mod:`bot.cogs.delivery`) and when an admin
opens the gallery; a member's name is asked of Discord only for a member who agreed, and kept only then.
"""

from __future__ import annotations

import logging

import discord

from db.store import Store
from db.store.profiles import GuildProfile, is_icon_png

log = logging.getLogger(__name__)

ICON_SIZE = 128  # pixels: the gallery shows icons at 40 to 48 CSS pixels, sharp on a phone


def icon_out_of_date(stored: GuildProfile | None, icon_hash: str | None) -> bool:
    """Whether the gallery's copy of a server's icon is not the icon the server has now."""
    if stored is None:
        return icon_hash is not None
    return stored.icon_hash != icon_hash or (icon_hash is not None and not stored.has_icon)


async def icon_png(icon: discord.Asset) -> bytes | None:
    """A server's icon as a small PNG (an animated icon's first frame), or None if the CDN sent
    something else."""
    data = await icon.replace(size=ICON_SIZE, format="png").read()
    return data if is_icon_png(data) else None


async def keep_guild(store: Store, guild: discord.Guild) -> None:
    """Record a server's name, and its icon when it changed (fetched from Discord's CDN once)."""
    stored = await store.profiles.guild_profile(guild.id)
    if stored is None or stored.name != guild.name:
        await store.profiles.record_guild(guild.id, guild.name)
    icon_hash = guild.icon.key if guild.icon is not None else None
    if not icon_out_of_date(stored, icon_hash):
        return
    png = await icon_png(guild.icon) if guild.icon is not None else None
    await store.profiles.record_guild_icon(guild.id, icon_hash if png is not None else None, png)


async def keep_author_name(store: Store, guild: discord.Guild, user_id: int) -> None:
    """Keep the display name of a member who agreed to be named current; nothing for anyone else (no
    request to Discord, no name kept)."""
    profile = await store.profiles.member_profile(guild.id, user_id)
    if profile is None or not profile.show_name:
        return
    member = guild.get_member(user_id)
    if member is None:  # no members intent: asked of Discord, for this member only
        try:
            member = await guild.fetch_member(user_id)
        except discord.NotFound:
            return  # left the server: the name they agreed to stays until they say otherwise
    if member.display_name != profile.display_name:
        await store.profiles.record_member_name(guild.id, user_id, member.display_name)


async def keep_profiles(store: Store, guild: discord.Guild | None, author_id: int | None = None) -> None:
    """:func:`keep_guild` and :func:`keep_author_name`, never raising: what the gallery shows must not
    hold up what the bot does in Discord (a failure is logged; the next post tries again)."""
    if guild is None:
        return
    try:
        await keep_guild(store, guild)
        if author_id is not None:
            await keep_author_name(store, guild, author_id)
    except Exception:
        log.warning("could not record the gallery's names for server %s", guild.id, exc_info=True)
