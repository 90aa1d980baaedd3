"""The bot: one ``commands.Bot`` subclass. Intents, mentions, and ``setup_hook`` (open the job store,
load the cogs, register the persistent buttons, sync the commands). Nothing else lives here.

Sharding: :func:`make_bot` gives a :class:`ShardedVideoBot` (an ``AutoShardedBot``) when the config
names shards (``--shards 0-3 --shard-count 8``); it connects as those shards only, so Discord sends it
the events of their guilds only, and every loop that walks the store across guilds keeps to the guilds
:meth:`VideoBot.owns`. Store-wide chores (pruning media) run in one process: the one that owns shard 0
(:attr:`VideoBot.runs_global_chores`). Commands are synced once per command tree, by whichever process
claims its digest in the store first (:meth:`VideoBot.sync_commands_once`)."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import BotConfig
from bot.credentials import signing_keys
from bot.i18n import CatalogTranslator
from bot.invite import start_line
from bot.replies import report_error
from db.credentials import Keys
from db.presets import PresetCatalog
from db.store import Job, Store, open_store
from db.store.shards import ShardRange

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
    "bot.cogs.bridge",
    "bot.cogs.style",
    "bot.cogs.me",
    "bot.cogs.stats",
    "bot.cogs.retention",
    "bot.cogs.verify",
    "bot.cogs.visibility",
)

# A rule a vote must pass besides the store's own (not your own clip): the reason to refuse it, in the
# voter's language, or None. Community cogs add theirs (a challenge: members who joined too recently).
VoteRule = Callable[[discord.Interaction["VideoBot"], Job], Awaitable[str | None]]

COMMANDS_KEY = "commands:{application_id}"  # bot_state key: the digest of the tree synced last


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
    or cancelled job's ending was posted), ``on_clip_unsigned(job, reason)`` (a clip is posted without
    content credentials: it could not be signed) and ``on_status_posted(job, text)`` (a queued job's status
    message was posted and recorded)."""

    store: Store
    signing_keys: Keys

    def __init__(self, config: BotConfig, catalog: PresetCatalog | None = None, **options: Any) -> None:
        # voice is never used: no warnings at start that PyNaCl or davey are missing
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
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
        self.commands_synced = 0  # syncs this process did (0 when another process or start did it)
        self.announced = False  # the start line is printed once, not at every reconnect

    async def on_ready(self) -> None:
        if not self.announced and self.user is not None and self.application_id is not None:
            self.announced = True
            line = start_line(self.user.name, len(self.guilds), self.application_id)
            print(line, file=sys.stderr, flush=True)

    @property
    def shard_range(self) -> ShardRange | None:
        """The shards this process connects as; None: every guild (not sharded)."""
        return self.config.shards

    def owns(self, guild_id: int | None) -> bool:
        """Whether this process looks after this guild: Discord's ``(guild_id >> 22) % shard_count``
        is one of its shards (always, when not sharded). Loops over the store's rows of every guild
        keep to these; another process posts and edits the others."""
        shards = self.config.shards
        return shards is None or guild_id is None or shards.owns(guild_id)

    @property
    def runs_global_chores(self) -> bool:
        """Whether store-wide chores that one process is enough for (pruning old media) run here:
        the process that owns shard 0, or the only one."""
        shards = self.config.shards
        return shards is None or shards.first == 0

    async def setup_hook(self) -> None:
        self.store = await open_store(self.config.database_url)
        self.signing_keys = await signing_keys(self.store)  # content credentials (bot.credentials)
        await self.tree.set_translator(CatalogTranslator())
        for name in COGS:
            await self.load_extension(name)
        if self.config.sync_commands:
            await self.sync_commands_once(force=self.config.force_sync)

    async def command_tree_digest(self) -> str:
        """A digest of what ``tree.sync()`` sends (the global commands, translated)."""
        tree = self.tree
        translator = tree.translator
        payload = []
        for command in tree.get_commands():
            if translator is not None:
                payload.append(await command.get_translated_payload(tree, translator))
            else:
                payload.append(command.to_dict(tree))
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    async def sync_commands_once(self, *, force: bool = False) -> bool:
        """Sync the command tree when it differs from the one synced last (a fresh store: never
        synced). The digest is claimed in the store first, so of several processes starting at once
        one syncs; when the sync fails the claim is let go, and the next start tries again.
        ``force``: sync anyway. True when this process synced."""
        digest = await self.command_tree_digest()
        key = COMMANDS_KEY.format(application_id=self.application_id)
        claimed = await self.store.shards.claim_bot_state(key, digest)
        if not claimed and not force:
            log.info("application commands are synced already (tree %s)", digest[:12])
            return False
        try:
            synced = await self.tree.sync()
        except BaseException:
            if claimed:
                await self.store.shards.release_bot_state(key, digest)
            raise
        if not claimed:
            await self.store.shards.put_bot_state(key, digest)
        self.commands_synced += 1
        log.info("synced %d application commands (tree %s)", len(synced), digest[:12])
        return True

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

    def server_name(self, guild_id: int) -> str:
        """A server's name as the bot knows it (for what the bot says of it outside the server: content
        credentials), else a placeholder with its id."""
        guild = self.get_guild(guild_id)
        return guild.name if guild is not None else f"Discord server {guild_id}"

    def model_title(self, model: str) -> str:
        preset = self.catalog.get(model)
        return preset.title if preset is not None else model


class ShardedVideoBot(VideoBot, commands.AutoShardedBot):
    """A VideoBot that connects as the shards of ``config.shards`` (discord.py's AutoShardedBot):
    Discord sends it the events of those shards' guilds only."""

    def __init__(self, config: BotConfig, catalog: PresetCatalog | None = None, **options: Any) -> None:
        if config.shards is None:
            raise ValueError("ShardedVideoBot needs config.shards")
        options.setdefault("shard_ids", config.shards.ids)
        options.setdefault("shard_count", config.shards.count)
        super().__init__(config, catalog, **options)


def make_bot(config: BotConfig, catalog: PresetCatalog | None = None, **options: Any) -> VideoBot:
    """The bot for this config: sharded when it names shards, else the one-process VideoBot."""
    if config.shards is not None:
        return ShardedVideoBot(config, catalog, **options)
    return VideoBot(config, catalog, **options)
