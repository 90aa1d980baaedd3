"""The delivery loop: keeps status messages current and posts every finished clip exactly once.

Runs from start-up on, so clips that finished while the bot was down are posted when it returns. A
finished clip takes the place of its status message (:mod:`bot.status`): the video, the embed and the
buttons are edited into it, so the channel holds one message per clip. Exactly once: editing the same
message twice changes nothing; a clip whose status message is gone is sent with a nonce that Discord
enforces (a repeat after a crash returns the first message); the thread of a message has the message's
id; and the job is marked posted only after both exist. One job that cannot be posted never holds up
the others. Each clip is signed first (:mod:`bot.credentials`: a C2PA manifest saying a model made it,
which, and from what). Once posted, the server's name and icon and the author's display name (only if
the author agreed to be named) are recorded for the web gallery (:mod:`bot.profiles`).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import Counter
from typing import Any

import discord
from discord.ext import commands

from bot.app import VideoBot
from bot.background import one_pass
from bot.clipcheck import clip_problem
from bot.clips import clip_message, style_of
from bot.credentials import sign_for
from bot.discord_errors import not_allowed, place_gone
from bot.profiles import keep_profiles
from bot.status import StatusBoard, edit_status
from bot.text import status_message, thread_name
from bot.visibility import delete_message
from db.store import Job
from db.store.models import posting_order

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"
UPLOAD_TOO_LARGE = 40005  # Discord: "Request entity too large" (with HTTP 413): over the upload limit
MiB = 1024 * 1024
OUTAGE_MAX_PAUSE_S = 30.0  # the longest wait between tries while the job store is away
READ_TRIES = 3  # delivery passes a clip whose file cannot be read is retried before its member is told
# posts at once: one job whose requests Discord keeps failing (discord.py waits 1+3+5+7+9 s on a 5xx
# before it gives up) holds up only itself; a pass waits this long for its posts, then moves on
POSTING_AT_ONCE = 4
PASS_WAIT_S = 2.0
# a job whose post failed (Discord refused it: 403 missing access, 5xx …) is tried again after 1, 2, 4 …
# seconds, at most a minute: a channel the bot may not post in is not hammered every pass
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
# a channel the bot may not post in: its admins get this long to give the permission back before its
# clips are given up (failed "cannot_post_here"), so they do not wait for ever in the posting queue
NOT_ALLOWED_GIVE_UP_S = 30 * 60.0
# the unposted jobs are read a page at a time, paging past the ones waiting to be tried again, so however
# many wait (a deleted channel's, a locked one's), later clips are still posted; at most this many pages
PAGE = 20
PAGES_PER_PASS = 10


def unpostable(exc: discord.HTTPException, failing_for_s: float, give_up_s: float) -> str | None:
    """Why a post that failed with ``exc`` will never succeed (a failure code), or None to try again:
    its channel, thread or server is gone; or the bot has not been allowed to post there for
    ``give_up_s`` (failing for ``failing_for_s`` now)."""
    if place_gone(exc):
        return "channel_gone"
    if not_allowed(exc) and failing_for_s >= give_up_s:
        return "cannot_post_here"
    return None


def file_size(size: int) -> str:
    """A file's size as a member reads it: 9.7 MiB, 640 KiB."""
    return f"{size / MiB:.1f} MiB" if size >= MiB // 10 else f"{max(1, round(size / 1024))} KiB"


class DeliveryCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.board = StatusBoard(bot, bot.config.status_interval_s)
        self.task: asyncio.Task[None] | None = None
        self.posted = 0
        self.read_errors: Counter[int] = Counter()  # passes in which a job's file could not be read
        self.posting: dict[int, asyncio.Task[None]] = {}  # job id -> its post, in flight
        self.failed_posts: Counter[int] = Counter()  # job id -> failed tries in a row
        self.retry_at: dict[int, float] = {}  # job id -> not before this (monotonic)
        self.failing_since: dict[int, float] = {}  # job id -> its first failed try of this run (monotonic)
        self.give_up_s = NOT_ALLOWED_GIVE_UP_S
        # what Discord said is gone while this bot runs: servers it left, deleted channels and threads
        self.gone_guilds: set[int] = set()
        self.gone_channels: set[int] = set()

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self.loop())

    async def cog_unload(self) -> None:
        tasks = [t for t in (self.task, *self.posting.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @commands.Cog.listener()
    async def on_status_posted(self, job: Job, text: str) -> None:
        self.board.track(job, text)

    async def loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            await self.pass_surviving_outages()

    async def pass_surviving_outages(self) -> None:
        """One delivery pass and the wait for the next; while the job store is away (a restart, a
        full disk) it is tried again with capped, jittered back-off, logged once per outage."""

        async def step() -> None:
            await self.deliver_finished()
            await self.board.refresh()
            # wake on the store's events (PostgreSQL NOTIFY), else look again after the interval
            await self.bot.store.jobs.wait_for_events(self.bot.config.delivery_interval_s)

        await one_pass("delivery", step, max_pause_s=OUTAGE_MAX_PAUSE_S, on_outage=self.board.tell_outage)

    async def deliver_finished(self) -> None:
        """Start posting what finished (a few at once, none twice, oldest first), and wait a moment for
        it. Jobs waiting to be tried again are paged past."""
        now = time.monotonic()
        after: tuple[float, int] | None = None
        for _ in range(PAGES_PER_PASS):
            # this process's guilds only
            page = await self.bot.store.shards.unposted_in(self.bot.shard_range, PAGE, after=after)
            for job in page:
                if len(self.posting) >= POSTING_AT_ONCE:
                    break
                if job.id not in self.posting and self.retry_at.get(job.id, 0.0) <= now:
                    self.posting[job.id] = asyncio.create_task(self._post(job))
            if len(page) < PAGE or len(self.posting) >= POSTING_AT_ONCE:
                break
            after = posting_order(page[-1])
        if self.posting:
            await asyncio.wait(list(self.posting.values()), timeout=PASS_WAIT_S)

    async def _post(self, job: Job) -> None:
        try:
            if job.guild_id in self.gone_guilds or job.channel_id in self.gone_channels:
                await self.settle_unpostable(job, "channel_gone")
            elif job.state == "done":
                await self.post_clip(job)
            else:
                await self.post_ending(job)
                self.bot.dispatch("ending_posted", job)  # a failed or cancelled job, told (bot.metrics)
        except discord.HTTPException as exc:
            now = time.monotonic()
            failing_for = now - self.failing_since.setdefault(job.id, now)
            code = unpostable(exc, failing_for, self.give_up_s)
            if code is None or not await self._settled(job, code):
                log.warning(
                    "posting job %s failed; will retry in %g s", job.id, self._later(job.id), exc_info=True
                )
        except Exception:  # this job's fault (its file, its row): the others are still posted
            log.exception("posting job %s failed; will retry in %g s", job.id, self._later(job.id))
        else:
            self._forget_failures(job.id)
        finally:
            self.board.forget(job.id)
            self.posting.pop(job.id, None)

    async def _settled(self, job: Job, code: str) -> bool:
        """:meth:`settle_unpostable`; False (logged) when the store could not take it now."""
        try:
            await self.settle_unpostable(job, code)
        except Exception:
            log.exception("job %s: recording that it cannot be posted failed", job.id)
            return False
        return True

    async def settle_unpostable(self, job: Job, code: str) -> None:
        """``job`` can never be posted where it was asked for (``code``: its channel, thread or server is
        gone, or the bot was not allowed to post there for :data:`NOT_ALLOWED_GIVE_UP_S`). A clip becomes
        a failed job with that reason (its member sees it in /queue; the gallery never lists it), and the
        job is settled as posted, with no message: there is nowhere to tell anyone, and it no longer
        waits in the posting queue."""
        log.error("job %s cannot be posted in channel %s: %s", job.id, job.channel_id, code)
        if job.state == "done":
            await self.bot.store.jobs.fail_delivery(job.id, code)
        await self.bot.store.jobs.mark_posted(job.id, None, None)
        self._forget_failures(job.id)

    def _forget_failures(self, job_id: int) -> None:
        self.failed_posts.pop(job_id, None)
        self.retry_at.pop(job_id, None)
        self.failing_since.pop(job_id, None)

    # ---- servers, channels and threads that are gone ----------------------------------------------

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot was removed from a server (kicked, banned, or the server deleted)."""
        self.gone_guilds.add(guild.id)
        await self._cancel_where_gone(guild.id, None)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a server again: its clips are posted as ever."""
        self.gone_guilds.discard(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.gone_guilds.discard(guild.id)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A channel was deleted, with its threads (Discord sends no event for each of those)."""
        gone = {channel.id} | {thread.id for thread in getattr(channel, "threads", ())}
        self.gone_channels |= gone
        await self._cancel_where_gone(channel.guild.id, gone)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        self.gone_channels.add(payload.thread_id)
        await self._cancel_where_gone(payload.guild_id, {payload.thread_id})

    async def _cancel_where_gone(self, guild_id: int, channel_ids: set[int] | None) -> None:
        """Their queued and running jobs are cancelled: no GPU renders a clip nobody can be shown (the
        delivery settles their endings, with nowhere to post them)."""
        try:
            cancelled = await self.bot.store.jobs.cancel_where_gone(guild_id, channel_ids)
        except Exception:  # the store is away: their clips are settled when they cannot be posted
            log.exception("cancelling the jobs of a deleted channel or a server left failed")
            return
        if cancelled:
            log.warning("cancelled %d job(s) whose channel or server is gone: %s", len(cancelled), cancelled)

    def _later(self, job_id: int) -> float:
        """Note a failed post; the seconds until its next try."""
        self.failed_posts[job_id] += 1
        delay = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (self.failed_posts[job_id] - 1))
        self.retry_at[job_id] = time.monotonic() + delay
        return delay

    async def post_clip(self, job: Job) -> None:
        store = self.bot.store
        if job.deleted:  # its member deleted its message before a restart let the bot record the post
            await self._settle_deleted(job)
            return
        try:
            media = await store.jobs.get_media(job.id)
        except OSError as exc:  # unreadable (EACCES, EIO, a folder in its place): perhaps for a moment
            self.read_errors[job.id] += 1
            if self.read_errors[job.id] < READ_TRIES:
                raise
            await self.undeliverable(job, f"{type(exc).__name__}: {exc}")
            return
        problem = "the file is missing" if media is None else await clip_problem(job, media)
        if problem is not None or media is None:
            await self.undeliverable(job, problem or "the file is missing")
            return
        votes = await store.votes.vote_counts(job.id)
        lineage = await store.jobs.lineage(job.id) if job.parent_id is not None else [job]
        style = await style_of(self.bot, job)
        signed = await sign_for(self.bot, job, media, lineage=lineage, style=style)
        if signed.error is not None:  # posted all the same: a clip is not lost for its manifest
            self.bot.dispatch("clip_unsigned", job, signed.error)  # counted (bot.metrics)
        media = signed.media
        content, embed, view = clip_message(self.bot, job, votes, lineage, style)
        video = discord.File(io.BytesIO(media.video), filename=f"videobot-{job.id}.mp4")
        channel = await self.bot.messageable(job.channel_id)
        try:
            message = await self._into_status_message(job, channel, content, embed, view, video)
            if message is None:  # no status message (deleted, or never posted): a message of its own
                video.reset()
                message = await channel.send(
                    content, embed=embed, file=video, view=view, nonce=f"vb-clip-{job.id}"
                )
        except discord.HTTPException as exc:
            if exc.status != 413 and exc.code != UPLOAD_TOO_LARGE:
                raise  # a rate limit, an outage: the next pass tries again
            # over this server's upload limit (a boost that ran out): no retry will ever fit
            await self.undeliverable(
                job,
                f"Discord refused the upload ({exc.status}, code {exc.code})",
                "too_large_to_post",
                {"size": file_size(len(media.video))},
            )
            return
        now = await store.jobs.get(job.id)
        if now is not None and now.deleted:  # 🗑️ pressed on the message before its post was recorded
            await store.jobs.mark_posted(job.id, None, None)  # no thread, nothing recorded for it
            return
        thread_id = await self._open_thread(job, message) if job.kind == "new" else None
        if await store.jobs.mark_posted(job.id, message.id, thread_id):
            self.posted += 1
            self.bot.dispatch("clip_posted", job, message)
            # the web gallery's names: the server's, and the author's if they agreed to be named
            await keep_profiles(store, self.bot.get_guild(job.guild_id), job.user_id)

    async def _settle_deleted(self, job: Job) -> None:
        """A clip deleted before its post was recorded: nothing is posted again (its file is gone, and a
        member who deleted a clip must not see it come back, nor hear it "could not be posted"); a
        status message of it that is still there goes too."""
        if job.status_message_id is not None:
            await delete_message(self.bot, job.channel_id, job.status_message_id)
        await self.bot.store.jobs.mark_posted(job.id, None, None)

    async def undeliverable(
        self,
        job: Job,
        problem: str,
        code: str = "media_unreadable",
        params: dict[str, Any] | None = None,
    ) -> None:
        """This clip cannot be posted: its member is told (in their language) on the next pass."""
        log.error("job %s is done but its clip cannot be posted: %s", job.id, problem)
        self.read_errors.pop(job.id, None)
        await self.bot.store.jobs.fail_delivery(job.id, code, params)

    async def _into_status_message(
        self,
        job: Job,
        channel: discord.abc.Messageable,
        content: str,
        embed: discord.Embed,
        view: discord.ui.View,
        video: discord.File,
    ) -> discord.Message | None:
        """The status message, turned into the clip; None when there is none to turn."""
        if job.status_message_id is None:
            return None
        partial = channel.get_partial_message(job.status_message_id)  # type: ignore[attr-defined]
        try:
            message: discord.Message = await partial.edit(
                content=content, embed=embed, attachments=[video], view=view
            )
        except discord.NotFound:
            return None
        return message

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
        if job.status_message_id is not None and await edit_status(self.bot, job, text):
            await self.bot.store.jobs.mark_posted(job.id, job.status_message_id, None)
            return
        if job.state == "failed":
            channel = await self.bot.messageable(job.channel_id)
            message = await channel.send(text, nonce=f"vb-end-{job.id}")
            await self.bot.store.jobs.mark_posted(job.id, message.id, None)
        else:
            await self.bot.store.jobs.mark_posted(job.id, None, None)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(DeliveryCog(bot))
