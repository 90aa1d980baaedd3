"""The bot: one ``commands.Bot`` subclass. Intents, mentions, and ``setup_hook`` (open the job store,
load the cogs, register the persistent buttons, sync the commands). Nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import BotConfig
from bot.i18n import CatalogTranslator
from bot.replies import report_error
from db.presets import PresetCatalog
from db.store import Job, JobStore, open_store

log = logging.getLogger(__name__)

COGS = (
    "bot.cogs.video",
    "bot.cogs.queue",
    "bot.cogs.gallery",
    "bot.cogs.settings",
    "bot.cogs.delivery",
    "bot.cogs.halloffame",
    "bot.cogs.challenge",
    "bot.cogs.story",
    "bot.cogs.me",
    "bot.cogs.stats",
)

# A rule a vote must pass besides the store's own (not your own clip): the reason to refuse it, in the
# voter's language, or None. Community cogs add theirs (a challenge: members who joined too recently).
VoteRule = Callable[[discord.Interaction["VideoBot"], Job], Awaitable[str | None]]


class VideoTree(app_commands.CommandTree["VideoBot"]):
    async def on_error(
        self, interaction: discord.Interaction[VideoBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class VideoBot(commands.Bot):
    """Events the cogs listen to (``@commands.Cog.listener()``), dispatched with ``bot.dispatch``:
    ``on_clip_posted(job, message)`` (the delivery loop posted a finished clip, or an extend),
    ``on_clip_votes(job, votes)`` (a member voted; ``votes`` are the new counts) and
    ``on_clip_deleted(job)`` (its author or a moderator deleted it), ``on_ending_posted(job)`` (a failed
    or cancelled job's ending was posted) and ``on_status_posted(job, text)`` (a queued job's status
    message was posted and recorded)."""

    store: JobStore

    def __init__(self, config: BotConfig, catalog: PresetCatalog | None = None, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and threads in the cache; members come with each interaction
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # prompts are user text: never ping anyone
            help_command=None,
            tree_cls=VideoTree,
            **options,
        )
        self.config = config
        self.catalog = catalog or PresetCatalog.load()
        self.vote_rules: list[VoteRule] = []

    async def setup_hook(self) -> None:
        self.store = await open_store(self.config.database_url)
        await self.tree.set_translator(CatalogTranslator())
        for name in COGS:
            await self.load_extension(name)
        if self.config.sync_commands:
            synced = await self.tree.sync()
            log.info("synced %d application commands", len(synced))

    async def close(self) -> None:
        await super().close()
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()

    async def messageable(self, channel_id: int) -> discord.abc.Messageable:
        """A channel or thread to send to, from the cache or, after a restart, from Discord."""
        channel = self.get_channel(channel_id)
        if channel is None:
            channel = await self.fetch_channel(channel_id)
        assert isinstance(channel, discord.abc.Messageable)
        return channel

    async def vote_refusal(self, interaction: discord.Interaction[VideoBot], job: Job) -> str | None:
        """Why this member may not vote on this clip (the first rule that says so), or None."""
        for rule in self.vote_rules:
            refusal = await rule(interaction, job)
            if refusal is not None:
                return refusal
        return None

    def model_title(self, model: str) -> str:
        preset = self.catalog.get(model)
        return preset.title if preset is not None else model
