"""The delivery loop: keeps status messages current and posts every finished clip exactly once.

Runs from start-up on, so clips that finished while the bot was down are posted when it returns.
Everything goes through the bot token as ordinary channel messages: an interaction's token dies after
15 minutes, long before a busy queue reaches a clip. Exactly once: the clip message carries a nonce
that Discord enforces (a repeat after a crash returns the first message), the thread of a message has
the message's id, and the job is marked posted only after both exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from dataclasses import dataclass

import discord
from discord.ext import commands

from bot.app import VideoBot
from bot.cogs.video import clip_message
from bot.text import status_message, thread_name
from db.store import Job

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"


@dataclass
class _Shown:
    text: str
    at: float


class DeliveryCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.shown: dict[int, _Shown] = {}  # status text last put on each job's message
        self.task: asyncio.Task[None] | None = None
        self.posted = 0

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self.loop())

    async def cog_unload(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            try:
                await self.deliver_finished()
                await self.refresh_statuses()
            except Exception:
                log.exception("delivery pass failed; trying again")
            # wake on the store's events (PostgreSQL NOTIFY), else look again after the interval
            await self.bot.store.wait_for_events(self.bot.config.delivery_interval_s)

    # ---- progress ---------------------------------------------------------------------------------

    async def refresh_statuses(self) -> None:
        now = time.monotonic()
        interval = self.bot.config.status_interval_s
        jobs = [job for job in await self.bot.store.active_jobs() if job.status_message_id is not None]
        positions = await self.bot.store.queue_positions() if jobs else {}
        for job in jobs:
            position, eta = (0, None)
            if job.state == "queued" and job.id in positions:
                position, eta = positions[job.id]
            text = status_message(job, job.locale, position, eta)
            last = self.shown.get(job.id)
            if last is not None and (last.text == text or now - last.at < interval):
                continue
            await self._edit_status(job, text)
            self.shown[job.id] = _Shown(text, now)

    async def _edit_status(self, job: Job, text: str) -> None:
        if job.status_message_id is None:
            return
        try:
            channel = await self.bot.messageable(job.channel_id)
            await channel.get_partial_message(job.status_message_id).edit(content=text)  # type: ignore[attr-defined]
        except discord.NotFound:
            pass  # someone deleted the status message; the clip is still posted
        except discord.HTTPException:
            log.warning("could not edit the status of job %s", job.id, exc_info=True)

    # ---- results ----------------------------------------------------------------------------------

    async def deliver_finished(self) -> None:
        for job in await self.bot.store.unposted():
            try:
                if job.state == "done":
                    await self.post_clip(job)
                else:
                    await self.post_ending(job)
            except discord.HTTPException:
                log.warning("posting job %s failed; will retry", job.id, exc_info=True)
            self.shown.pop(job.id, None)

    async def post_clip(self, job: Job) -> None:
        store = self.bot.store
        media = await store.get_media(job.id)
        if media is None:
            await store.mark_posted(job.id, None, None)
            log.error("job %s is done but its media is missing", job.id)
            return
        channel = await self.bot.messageable(job.channel_id)
        votes = await store.vote_counts(job.id)
        content, embed, view = clip_message(self.bot, job, votes)
        video = discord.File(io.BytesIO(media.video), filename=f"videobot-{job.id}.mp4")
        message = await channel.send(content, embed=embed, file=video, view=view, nonce=f"vb-clip-{job.id}")
        thread_id = await self._open_thread(job, message) if job.kind == "new" else None
        if await store.mark_posted(job.id, message.id, thread_id):
            self.posted += 1
        await self._edit_status(job, status_message(job, job.locale, link=message.jump_url))

    async def _open_thread(self, job: Job, message: discord.Message) -> int | None:
        if not isinstance(message.channel, discord.TextChannel):
            return None  # already in a thread, or a channel without threads
        try:
            thread = await message.create_thread(
                name=thread_name(job, job.locale), auto_archive_duration=1440
            )
            return thread.id
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:  # made before a restart: a message's thread has its id
                return message.id
            log.warning("could not open a thread for job %s", job.id, exc_info=True)
            return None

    async def post_ending(self, job: Job) -> None:
        """A failed or cancelled job: its status message says so (or a new message, if it has none)."""
        text = status_message(job, job.locale)
        if job.status_message_id is not None:
            await self._edit_status(job, text)
            await self.bot.store.mark_posted(job.id, job.status_message_id, None)
            return
        if job.state == "failed":
            channel = await self.bot.messageable(job.channel_id)
            message = await channel.send(text, nonce=f"vb-end-{job.id}")
            await self.bot.store.mark_posted(job.id, message.id, None)
        else:
            await self.bot.store.mark_posted(job.id, None, None)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(DeliveryCog(bot))
