"""Discord's answers that say a post can never succeed where it was asked for, as the delivery loop
(:mod:`bot.cogs.delivery`) and a story's film (:mod:`bot.cogs.story`) read them: the channel, thread or
server is gone, or the bot may not post there (which an admin may still put right)."""

from __future__ import annotations

import discord

GONE_CODES = frozenset({10003, 10004})  # Unknown Channel, Unknown Guild (404)
NOT_ALLOWED_CODES = frozenset({50001, 50013})  # Missing Access, Missing Permissions (403)


def place_gone(exc: BaseException) -> bool:
    """The channel, thread or server a post was for is gone (deleted, or the bot was removed)."""
    return isinstance(exc, discord.NotFound) and exc.code in GONE_CODES


def not_allowed(exc: BaseException) -> bool:
    """The bot may not post there (an admin took its access or a permission away)."""
    return isinstance(exc, discord.Forbidden) and exc.code in NOT_ALLOWED_CODES
