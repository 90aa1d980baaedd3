"""The bot's part of :mod:`bot.visibility` that listens and runs at start: whether @everyone could view
where a clip was posted is recorded as the delivery loop posts it (``clip_posted``), and, once at start,
for the clips posted before that was recorded (their channel as it is now; gone for good: private; out
of the bot's reach now: unknown, hidden, looked at again at the next start)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bot.app import VideoBot
from bot.visibility import Place, clip_place, everyone_may_view
from db.store import Job

log = logging.getLogger(__name__)

BACKFILL_PAGE = 200


class VisibilityCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.task: asyncio.Task[None] | None = None
        self.backfilled = asyncio.Event()  # the start-up pass is over (tests wait for it)

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self.backfill())

    async def cog_unload(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    @commands.Cog.listener()
    async def on_clip_posted(self, job: Job, message: discord.Message) -> None:
        """Record whether @everyone could view where the clip was just posted (the web gallery's rule)."""
        channel = message.channel
        place: Place | None = None
        if isinstance(channel, (discord.abc.GuildChannel, discord.Thread)):
            place = channel
        else:
            place = await clip_place(self.bot, job)
        public = place is not None and everyone_may_view(place)
        await self.bot.store.jobs.set_public_channel(job.id, public)

    async def backfill(self) -> None:
        """At start: record, for the clips posted before it was recorded, whether @everyone can view
        their channel now (this process's servers, whose channels are in its cache)."""
        try:
            await self.bot.wait_until_ready()
            after = 0
            while True:
                page = await self.bot.store.jobs.visibility_unknown(after, BACKFILL_PAGE)
                for job in page:
                    await self._settle(job)
                if len(page) < BACKFILL_PAGE:
                    break
                after = page[-1].id
        except asyncio.CancelledError:
            raise
        except Exception:  # the store away at start: the next start tries again; nothing is shown meanwhile
            log.warning("could not record the visibility of older clips", exc_info=True)
        finally:
            self.backfilled.set()

    async def _settle(self, job: Job) -> None:
        if not self.bot.owns(job.guild_id) or self.bot.get_guild(job.guild_id) is None:
            return  # another process's server, or one this bot is not in (now): left unknown
        guild = self.bot.get_guild(job.guild_id)
        assert guild is not None
        place: Place | None = guild.get_channel_or_thread(job.channel_id)
        if place is None:
            try:
                fetched = await self.bot.fetch_channel(job.channel_id)
            except discord.NotFound:  # gone for good: nobody can tell who saw it, so it stays private
                await self.bot.store.jobs.set_public_channel(job.id, False)
                return
            except discord.HTTPException:  # the bot may not look there (now): asked again next start
                return
            if not isinstance(fetched, (discord.abc.GuildChannel, discord.Thread)):
                return
            place = fetched
        await self.bot.store.jobs.set_public_channel(job.id, everyone_may_view(place))


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VisibilityCog(bot))
