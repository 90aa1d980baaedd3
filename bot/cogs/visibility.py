"""The bot's part of :mod:`bot.visibility` that listens and runs at start: whether @everyone could view
where a clip was posted is recorded as the delivery loop posts it (``clip_posted``), and, once at start,
for the clips posted before that was recorded (their channel as it is now; gone for good, or refused to
the bot (403): private; out of reach for a moment (5xx): unknown, hidden, looked at again at the next
start). The start-up pass asks Discord once per channel, however many clips were posted there. A clip
made of other clips is public only when they are too (:func:`bot.visibility.made_of_public`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bot.app import VideoBot
from bot.visibility import Place, clip_place, everyone_may_view, made_of_public
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
        public = place is not None and everyone_may_view(place) and await made_of_public(self.bot, job)
        await self.bot.store.jobs.set_public_channel(job.id, public)

    async def backfill(self) -> None:
        """At start: record, for the clips posted before it was recorded, whether @everyone can view
        their channel now (this process's servers, whose channels are in its cache; Discord is asked
        once per channel in a pass)."""
        try:
            await self.bot.wait_until_ready()
            after = 0
            seen: dict[int, bool | None] = {}  # channel id: whether @everyone can view it (None: not known)
            while True:
                page = await self.bot.store.jobs.visibility_unknown(after, BACKFILL_PAGE)
                for job in page:
                    try:
                        await self._settle(job, seen)
                    except discord.DiscordException:  # this clip stays unknown; the others go on
                        log.warning("could not record the visibility of clip #%s", job.id, exc_info=True)
                if len(page) < BACKFILL_PAGE:
                    break
                after = page[-1].id
        except asyncio.CancelledError:
            raise
        except Exception:  # the store away at start: the next start tries again; nothing is shown meanwhile
            log.warning("could not record the visibility of older clips", exc_info=True)
        finally:
            self.backfilled.set()

    async def _settle(self, job: Job, seen: dict[int, bool | None]) -> None:
        if not self.bot.owns(job.guild_id) or self.bot.get_guild(job.guild_id) is None:
            return  # another process's server, or one this bot is not in (now): left unknown
        if job.channel_id not in seen:
            seen[job.channel_id] = await self._channel_public(job)
        public = seen[job.channel_id]
        if public is None:
            return
        public = public and await made_of_public(self.bot, job)
        await self.bot.store.jobs.set_public_channel(job.id, public)

    async def _channel_public(self, job: Job) -> bool | None:
        """Whether @everyone can view the clip's channel now; None when Discord cannot say now (asked
        again at the next start)."""
        guild = self.bot.get_guild(job.guild_id)
        assert guild is not None
        place: Place | None = guild.get_channel_or_thread(job.channel_id)
        if place is not None:
            return everyone_may_view(place)
        try:
            fetched = await self.bot.fetch_channel(job.channel_id)
        except discord.NotFound:  # gone for good: nobody can tell who saw it, so it stays private
            return False
        except discord.Forbidden:  # the bot may not look there: nor may @everyone, as far as it knows
            return False
        except discord.InvalidData:  # not a channel of a server the bot knows: private
            return False
        except discord.HTTPException:  # Discord away for a moment: asked again at the next start
            return None
        if not isinstance(fetched, (discord.abc.GuildChannel, discord.Thread)):
            return False
        return everyone_may_view(fetched)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VisibilityCog(bot))
