"""A job's status message, its whole life in one place.

Posted in the channel when the job is queued (its place and ETA), edited as it moves (a progress bar,
at most every few seconds), and at the end it *becomes the clip*: the delivery loop edits the video,
the embed and the buttons into the same message, so a busy channel holds one message per clip. A
failed or cancelled job's status message says how it ended. Edits go through the bot token as ordinary
channel messages: an interaction token dies after 15 minutes, long before a busy queue reaches a clip.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.text import status_message
from db.store import Job, JobStore, QueuePosition

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)


async def post_status(bot: VideoBot, job: Job, channel_id: int, position: QueuePosition) -> None:
    """Post a queued job's status message and record it, so the delivery loop can keep it current."""
    try:
        target = await bot.messageable(channel_id)
        status = await target.send(status_message(job, job.locale, position.position, position.eta_s))
    except discord.HTTPException:
        log.warning("could not post the status message of job %s", job.id, exc_info=True)
        return
    if not await remember_status_message(bot.store, job.id, status.id):
        await settle_status(bot, job.id, status)


async def remember_status_message(
    store: JobStore, job_id: int, message_id: int, *, attempts: int = 4, pause_s: float = 1.0
) -> bool:
    """Record the status message so the bot can edit it as the job moves. The member already heard
    that the job is queued, so a busy database (SQLite: another process writing) is waited out a few
    times rather than reported as an error for a job that is safely in the queue."""
    for attempt in range(1, attempts + 1):
        try:
            return await store.set_status_message(job_id, message_id)
        except Exception:
            if attempt == attempts:
                log.exception("could not record the status message of job %s", job_id)
                return False
            log.warning("recording the status message of job %s failed; trying again", job_id)
            await asyncio.sleep(pause_s * attempt)
    return False


async def settle_status(bot: VideoBot, job_id: int, status: discord.Message) -> None:
    """The job ended and was posted before its status message could be recorded (a busy database):
    nobody will edit that message, so give it the job's ending now, as the delivery loop would have."""
    try:
        job = await bot.store.get(job_id)
    except Exception:
        log.exception("could not look up job %s", job_id)
        return
    if job is None or not job.posted:
        return
    try:
        if job.state != "done" and job.message_id is not None:
            await status.delete()  # the ending was posted as a message of its own
            return
        link = ""
        if job.message_id is not None:
            link = f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"
        await status.edit(content=status_message(job, job.locale, link=link))
    except discord.HTTPException:
        log.warning("could not settle the status message of job %s", job_id, exc_info=True)


async def edit_status(bot: VideoBot, job: Job, text: str) -> bool:
    """Put ``text`` on the job's status message; False when it is gone (someone deleted it). Other
    HTTP errors are raised: the caller tries again later."""
    if job.status_message_id is None:
        return False
    try:
        channel = await bot.messageable(job.channel_id)
        await channel.get_partial_message(job.status_message_id).edit(content=text)  # type: ignore[attr-defined]
    except discord.NotFound:
        return False
    return True


@dataclass
class _Shown:
    text: str
    at: float


class StatusBoard:
    """Keeps every active job's status message current, editing each at most every ``interval_s``."""

    def __init__(self, bot: VideoBot, interval_s: float) -> None:
        self.bot = bot
        self.interval_s = interval_s
        self._shown: dict[int, _Shown] = {}  # status text last put on each job's message

    def forget(self, job_id: int) -> None:
        self._shown.pop(job_id, None)

    async def refresh(self) -> None:
        now = time.monotonic()
        store = self.bot.store
        jobs = [job for job in await store.active_jobs() if job.status_message_id is not None]
        positions = await store.queue_positions() if jobs else {}
        for job in jobs:
            position, eta = (0, None)
            if job.state == "queued" and job.id in positions:
                position, eta = positions[job.id]
            text = status_message(job, job.locale, position, eta)
            last = self._shown.get(job.id)
            if last is not None and (last.text == text or now - last.at < self.interval_s):
                continue
            try:
                await edit_status(self.bot, job, text)
            except discord.HTTPException:
                log.warning("could not edit the status of job %s", job.id, exc_info=True)
            self._shown[job.id] = _Shown(text, now)
