"""Media retention: once an hour the bot removes the video and poster of clips posted more than
``VIDEOBOT_MEDIA_DAYS`` days ago (7 by default; 0 keeps everything), and the members' pictures no job
still needs, through :meth:`db.store.Store.prune_media` (which knows what must stay: clips not
posted yet, the parent of an extend in the queue, scenes of an unfinished story).

The clip itself lives on in Discord: ``/show`` of an older clip reposts the attachment of its original
message (:mod:`bot.cogs.gallery`). With several bot processes (shards) one is enough: the one that runs
the store-wide chores."""

from __future__ import annotations

import asyncio
import logging

from discord.ext import commands

from bot.app import VideoBot
from bot.background import one_pass, stop
from db.store.retention import DAY_S, PruneReport

log = logging.getLogger(__name__)


class RetentionCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.task: asyncio.Task[None] | None = None
        self.passes = 0  # prune passes done (tests and logs)
        self.last: PruneReport | None = None

    @property
    def enabled(self) -> bool:
        return self.bot.config.media_days > 0 and bool(getattr(self.bot, "runs_global_chores", True))

    async def cog_load(self) -> None:
        if self.enabled:
            self.task = asyncio.create_task(self.loop())
        elif self.bot.config.media_days <= 0:
            log.info("media retention is off (VIDEOBOT_MEDIA_DAYS=0): clips and pictures are kept for ever")

    async def cog_unload(self) -> None:
        await stop(self.task)

    async def loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            await one_pass("media retention", self.prune_once)
            await asyncio.sleep(self.bot.config.retention_interval_s)

    async def prune_once(self) -> None:
        """Remove what is older than the retention period now."""
        cutoff = self.bot.store.clock() - self.bot.config.media_days * DAY_S
        report = await self.bot.store.retention.prune_media(cutoff)
        self.last = report
        self.passes += 1
        if report.clips or report.pictures:
            log.info(
                "media retention: removed the files of %d clip(s) and %d picture(s) older than %g days",
                len(report.clips),
                len(report.pictures),
                self.bot.config.media_days,
            )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(RetentionCog(bot))
