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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import discord

from bot.i18n import t
from bot.text import status_message
from db.store import Job, QueuePosition, Store

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

POST_GRACE_S = 5.0  # a job this young without a status message is still being answered: leave it be
# a status message Discord refused (403: the bot may not post there; 5xx …) is sent again after one
# interval, then 2, 4 … intervals, at most every RETRY_MAX_S: every 403 counts toward Discord's ban of an
# IP that sends 10,000 invalid requests in 10 minutes, so a channel the bot may not post in is not
# hammered every pass; once an admin allows it, the message arrives within that time
RETRY_MAX_S = 60.0


async def post_status(bot: VideoBot, job: Job, channel_id: int, position: QueuePosition) -> None:
    """Post a queued job's status message and record it, so the delivery loop can keep it current.
    Sent with the job's nonce: when this fails (a rate-limit storm) or the bot dies before the id is
    recorded, :class:`StatusBoard` sends it again, and Discord answers a repeat with the first message."""
    text = status_message(job, job.locale, position.position, position.eta_s)
    try:
        target = await bot.messageable(channel_id)
        status = await target.send(text, nonce=status_nonce(job.id))
    except discord.HTTPException:
        log.warning("could not post the status message of job %s", job.id, exc_info=True)
        return
    if not await remember_status_message(bot.store, job.id, status.id):
        await settle_status(bot, job.id, status)
        return
    bot.dispatch("status_posted", replace(job, status_message_id=status.id), text)


def status_nonce(job_id: int) -> str:
    """The nonce of a job's status message (Discord enforces it for a few minutes: a repeat returns
    the message sent first instead of posting another)."""
    return f"vb-status-{job_id}"


async def remember_status_message(
    store: Store, job_id: int, message_id: int, *, attempts: int = 4, pause_s: float = 1.0
) -> bool:
    """Record the status message so the bot can edit it as the job moves. The member already heard
    that the job is queued, so a busy database (SQLite: another process writing) is waited out a few
    times rather than reported as an error for a job that is safely in the queue."""
    for attempt in range(1, attempts + 1):
        try:
            return await store.jobs.set_status_message(job_id, message_id)
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
        job = await bot.store.jobs.get(job_id)
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
        self._current: dict[int, tuple[Job, str]] = {}  # each active job at the last refresh, its text
        self._posting: dict[int, float] = {}  # jobs without a status message -> not before (monotonic)
        self._refused: dict[int, int] = {}  # jobs without a status message -> its sends Discord refused
        # status messages whose edits Discord refused (403 in a channel the bot was locked out of …):
        # job -> (edits refused in a row, not before (monotonic)); each 403 counts toward Discord's ban
        self._edit_refused: dict[int, tuple[int, float]] = {}

    def track(self, job: Job, text: str) -> None:
        """A status message just posted: kept current (and told of an outage) from now on."""
        self._current[job.id] = (job, text)

    def forget(self, job_id: int) -> None:
        self._shown.pop(job_id, None)
        self._current.pop(job_id, None)
        self._posting.pop(job_id, None)
        self._refused.pop(job_id, None)
        self._edit_refused.pop(job_id, None)

    def retry_delay(self, refused: int) -> float:
        """Seconds until a status message Discord refused ``refused`` times in a row is sent again."""
        return min(RETRY_MAX_S, self.interval_s * 2 ** (refused - 1))

    async def tell_outage(self) -> None:
        """The job store is away: every status message the board keeps current says so (the clip is
        safe), so nobody watches a progress bar that stopped; the next refresh after the outage puts
        the real status back."""
        now = time.monotonic()
        for job, current in list(self._current.values()):
            text = f"{current}\n{t(job.locale, 'status.store_away')}"
            try:
                await edit_status(self.bot, job, text)
            except discord.HTTPException:
                log.warning("could not tell job %s's message about the outage", job.id, exc_info=True)
            self._shown[job.id] = _Shown(text, now - self.interval_s)  # any new text replaces it

    async def refresh(self) -> None:
        now = time.monotonic()
        store = self.bot.store
        active = await store.shards.active_jobs_in(self.bot.shard_range)  # this process's guilds only
        missing = [job for job in active if job.status_message_id is None]
        jobs = [job for job in active if job.status_message_id is not None]
        self._current = {}
        positions = await store.jobs.queue_positions() if active else {}
        for job in missing:
            if time.time() - job.created_at < POST_GRACE_S:
                continue  # its /video is still posting it
            if now >= self._posting.get(job.id, now):
                self._posting[job.id] = now + self.interval_s
                await self._post_missing(job, positions.get(job.id))
        for job in jobs:
            position, eta = (0, None)
            if job.state == "queued" and job.id in positions:
                position, eta = positions[job.id]
            text = status_message(job, job.locale, position, eta)
            self._current[job.id] = (job, text)
            last = self._shown.get(job.id)
            if last is not None and (last.text == text or now - last.at < self.interval_s):
                continue
            refused, not_before = self._edit_refused.get(job.id, (0, now))
            if now < not_before:
                continue  # refused lately: tried again with back-off, as a missing one is sent again
            try:
                await edit_status(self.bot, job, text)
            except discord.HTTPException:
                delay = self.retry_delay(refused + 1)
                self._edit_refused[job.id] = (refused + 1, now + delay)
                log.warning(
                    "could not edit the status of job %s; trying again in %g s", job.id, delay, exc_info=True
                )
            else:
                self._edit_refused.pop(job.id, None)
            self._shown[job.id] = _Shown(text, now)

    async def _post_missing(self, job: Job, position: QueuePosition | None) -> None:
        """A job without a recorded status message: its post failed (Discord refused it for a while),
        or the bot died between posting it and recording its id. Sent again with the same nonce, so
        that in the second case Discord returns the message already in the channel, which is adopted
        instead of left behind unedited."""
        text = status_message(
            job, job.locale, *((position.position, position.eta_s) if position else (0, None))
        )
        try:
            target = await self.bot.messageable(job.channel_id)
            status = await target.send(text, nonce=status_nonce(job.id))
        except discord.HTTPException:
            refused = self._refused[job.id] = self._refused.get(job.id, 0) + 1
            delay = self.retry_delay(refused)
            self._posting[job.id] = time.monotonic() + delay
            log.warning(
                "could not post the status message of job %s; trying again in %g s",
                job.id,
                delay,
                exc_info=True,
            )
            return
        self._refused.pop(job.id, None)
        if await remember_status_message(self.bot.store, job.id, status.id):
            self._posting.pop(job.id, None)
        else:
            await settle_status(self.bot, job.id, status)
