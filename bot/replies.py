"""How the bot answers an interaction: privately, once acknowledged, and the one error path that every
command, button and modal shares (a short apology in the member's language and an id to quote; the
traceback goes to the log; while the job store is away, "try again in a minute" instead)."""

from __future__ import annotations

import asyncio
import contextlib
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


ACK_WITHIN_S = 1.0  # an answer not ready by then is preceded by "thinking…" (Discord waits 3 s)


class PromptAck:
    """One response instead of two when the answer comes soon: the answer itself, if it is ready
    within ``within_s``; otherwise "thinking…" at ``within_s`` (:func:`think`), then the answer in
    its place. ``async with PromptAck(interaction) as ack: … await ack.answer(text)``; an error
    raised inside leaves the interaction to :func:`answer` or :func:`report_error` as usual."""

    def __init__(self, interaction: Interaction, within_s: float = ACK_WITHIN_S) -> None:
        self.interaction = interaction
        self.within_s = within_s
        self._lock = asyncio.Lock()  # the timer's "thinking…" and the answer never cross
        self._timer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PromptAck:
        self._timer = asyncio.create_task(self._think_later())
        return self

    async def _think_later(self) -> None:
        await asyncio.sleep(self.within_s)
        async with self._lock:
            with contextlib.suppress(discord.HTTPException):  # the answer will say what went wrong
                await think(self.interaction)

    async def _settle(self) -> None:
        async with self._lock:  # a "thinking…" on its way is sent first: then the answer replaces it
            if self._timer is not None:
                self._timer.cancel()

    async def answer(self, text: str | None = None, *, embed: discord.Embed | None = None) -> None:
        await self._settle()
        await answer(self.interaction, text, embed=embed)

    async def __aexit__(self, *exc: object) -> None:
        await self._settle()


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
