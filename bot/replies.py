"""How the bot answers an interaction: privately, once acknowledged, and the one error path that every
command, button and modal shares (a short apology in the member's language and an id to quote; the
traceback goes to the log; while the job store is away, "try again in a minute" instead)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands

from bot.i18n import t
from db.store import store_unavailable

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction: TypeAlias = discord.Interaction[VideoBot]
else:
    Interaction: TypeAlias = discord.Interaction

log = logging.getLogger(__name__)


class RefusedError(Exception):
    """A reason, in the member's language, why nothing was done (nothing was queued or changed)."""


def is_moderator(interaction: Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.administrator)


def is_admin(interaction: Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.administrator)


async def think(interaction: Interaction) -> None:
    """Acknowledge at once ("videobot is thinking…", only the member sees it) before slow work, so
    the 3-second deadline never depends on how busy the job store is."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def answer(
    interaction: Interaction, text: str | None = None, *, embed: discord.Embed | None = None
) -> None:
    """A private answer: the reply, or (after :func:`think`) the one that replaces "thinking…"."""
    parts: dict[str, Any] = {"content": text} if text is not None else {}
    if embed is not None:
        parts["embed"] = embed
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=True, **parts)
    else:
        await interaction.response.send_message(ephemeral=True, **parts)


async def report_error(interaction: Interaction, error: BaseException) -> None:
    """Log with a reference and tell the member, briefly, quoting the reference."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CheckFailure):
        text = str(error) or t(interaction.locale, "error.not_yours")
    elif isinstance(error, RefusedError):
        text = str(error)
    elif store_unavailable(error):  # down, restarting, full: a minute from now it may well work
        log.warning("interaction refused: the job store is unavailable (%s: %s)", type(error).__name__, error)
        text = t(interaction.locale, "error.store_unavailable")
    else:
        ref = secrets.token_hex(3)
        log.error("interaction failed (ref %s)", ref, exc_info=error)
        text = t(interaction.locale, "error.generic", ref=ref)
    try:
        await answer(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the member about the error")
