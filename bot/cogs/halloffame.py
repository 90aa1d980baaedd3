"""The hall of fame: a clip that reaches the server's threshold of net 👍 is posted in its channel once,
with a link back, its author and its count, kept current as votes change.

How it behaves, starboard-style:

- The post is a message in the hall channel (``/settings``: channel and threshold, default 5 net 👍):
  the count line (⭐ net · 👍 up 👎 down · where the clip is) above an embed with the prompt (escaped),
  the author (a mention, which never pings), the clip's poster frame, and a "Jump to clip" link button.
  The poster, not the video: a hall post costs one small upload, and the clip plays one click away.
- Votes change only the count line, edited at most once per ``edit_debounce_s`` however many votes
  arrive meanwhile. A clip that falls below the threshold keeps its post, with its count kept current.
- The post goes when the clip is deleted (its 🗑️ button, by its author or a moderator). A hall message
  someone deleted by hand is not posted again.
- A clip made in an age-restricted channel (``Job.age_restricted``) enters the hall only when the hall
  channel is age-restricted too: its prompt and poster are never posted into an ordinary channel.
- A clip made where @everyone may not look (a #staff channel, a private thread; or made of such a clip:
  :mod:`bot.visibility`) enters the hall only when the hall is its own channel or thread: its prompt,
  poster, author and link are never posted where members who cannot see it would read them.
- Exactly once, across restarts and races: a row per clip is claimed in the store *before* the post is
  sent (its key is the clip), the send carries a nonce Discord enforces, and the message id is recorded
  after. A claim never recorded (the bot stopped between send and record) is finished at the next
  start: the hall channel's recent messages are looked through for the post first, and a send inside
  Discord's nonce window returns the first message, so it is not posted twice. Within this process one
  lock per clip orders the claim, the send, the edits and the removal.
- Reconciling: at start-up and every ``reconcile_interval_s``, per server, unfinished claims are
  finished, counts that are out of date (a crash before a debounced edit) are edited, and clips that
  reached a threshold an admin lowered are posted, if they finished within the last
  ``RECONCILE_WINDOW_S`` (a week: lowering the threshold must not flood the hall with old clips), at
  most ``RECONCILE_BATCH`` per pass, oldest first. Votes cannot be cast while the bot is down, so
  nothing else can have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.submit import is_age_restricted
from bot.text import jump_url, quoted_prompt
from bot.visibility import is_public
from db.store import Job, VoteCounts
from db.store.halloffame import HallPost

log = logging.getLogger(__name__)

EDIT_DEBOUNCE_S = 2.0  # at most one edit of a hall post per clip in this time, however many votes come
RECONCILE_INTERVAL_S = 300.0
RECONCILE_WINDOW_S = 7 * 86_400.0  # a lowered threshold brings in clips of the last week, not older ones
RECONCILE_BATCH = 10  # clips a reconciling pass posts per server at most
HISTORY_LOOKBACK = 50  # hall messages looked through for a post whose record was lost
GOLD = discord.Colour.gold()


def poster_name(job: Job) -> str:
    return f"videobot-hof-{job.id}.png"


def count_line(job: Job, votes: VoteCounts, locale: str) -> str:
    return t(
        locale, "hof.count", score=votes.score, up=votes.up, down=votes.down, channel=f"<#{job.channel_id}>"
    )


def hall_embed(job: Job, locale: str, *, with_poster: bool) -> discord.Embed:
    embed = discord.Embed(description=f"**{quoted_prompt(job.spec.prompt, 3500)}**", colour=GOLD)
    embed.add_field(name=t(locale, "hof.author"), value=f"<@{job.user_id}>")
    embed.set_footer(text=t(locale, "hof.footer", job=job.id))
    if job.finished_at is not None:
        embed.timestamp = datetime.fromtimestamp(job.finished_at, UTC)
    if with_poster:
        embed.set_image(url=f"attachment://{poster_name(job)}")
    return embed


def hall_view(job: Job, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(style=discord.ButtonStyle.link, label=t(locale, "hof.jump"), url=jump_url(job))
    )
    return view


def is_hall_post_of(message: discord.Message, bot_id: int, job_id: int) -> bool:
    """A hall post of this clip: by this bot, its footer ending in " #<job>"."""
    if message.author.id != bot_id:
        return False
    return any((embed.footer.text or "").endswith(f" #{job_id}") for embed in message.embeds)


class HallOfFameCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.edit_debounce_s = EDIT_DEBOUNCE_S
        self.reconcile_interval_s = RECONCILE_INTERVAL_S
        self.locks: dict[int, asyncio.Lock] = {}
        self.pending: dict[int, asyncio.Task[None]] = {}  # debounced edits, one per clip
        self.task: asyncio.Task[None] | None = None
        self.reconciled = asyncio.Event()  # set once the first reconciling pass after start-up is over

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self.reconcile_loop())

    async def cog_unload(self) -> None:
        tasks = [*self.pending.values(), *([self.task] if self.task is not None else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.pending.clear()

    def lock(self, job_id: int) -> asyncio.Lock:
        return self.locks.setdefault(job_id, asyncio.Lock())

    async def guarded(self, what: str, work: Coroutine[Any, Any, None]) -> None:
        """Await ``work``; a failure is logged (the next vote or reconciling pass tries again)."""
        try:
            await work
        except Exception:
            log.warning("hall of fame: %s failed; will retry", what, exc_info=True)

    # ---- events ------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_clip_votes(self, job: Job, votes: VoteCounts) -> None:
        await self.guarded(f"votes on #{job.id}", self.consider(job.id))

    @commands.Cog.listener()
    async def on_clip_deleted(self, job: Job) -> None:
        await self.guarded(f"removing #{job.id}", self.remove(job.id))

    @commands.Cog.listener()
    async def on_hall_of_fame_settings(self, guild_id: int) -> None:
        """The server's hall channel or threshold changed (``bot.dispatch("hall_of_fame_settings",
        guild_id)``): clips that now qualify are posted."""
        await self.guarded(f"reconciling guild {guild_id}", self.reconcile(guild_id))

    # ---- posting -----------------------------------------------------------------------------------

    async def consider(self, job_id: int) -> None:
        """After a vote (or in a reconciling pass): post the clip if it just reached the threshold, or
        have its post's count edited if it has one."""
        store = self.bot.store
        async with self.lock(job_id):
            post = await store.hall.hall_post(job_id)
            if post is not None:
                if post.state == "posting":  # a claim never recorded: finish it
                    await self.publish(post)
                elif post.state == "posted":
                    self.schedule_refresh(job_id)
                return
            job = await store.jobs.get(job_id)
            if job is None or job.deleted or job.state != "done" or job.message_id is None:
                return
            settings = await store.settings.get_settings(job.guild_id)
            channel_id = settings.hall_of_fame_channel_id
            votes = await store.votes.vote_counts(job_id)
            if channel_id is None or votes.score < settings.hall_of_fame_threshold:
                return
            if job.age_restricted and not await self.age_restricted_hall(channel_id):
                return
            if not await self.may_enter(job, channel_id):
                return
            claimed = await store.hall.claim_hall_post(job.guild_id, job_id, channel_id, votes)
            if claimed is not None:
                await self.publish(claimed)

    async def age_restricted_hall(self, channel_id: int) -> bool:
        """Whether the hall channel is age-restricted, where clips made in one may be posted; False
        when the bot cannot see it."""
        try:
            return is_age_restricted(await self.bot.messageable(channel_id))
        except discord.HTTPException:
            return False

    async def may_enter(self, job: Job, channel_id: int) -> bool:
        """Whether the clip may be posted in the hall channel ``channel_id``: the world may see it
        (:func:`bot.visibility.is_public`), or the hall is the channel or thread it was posted in."""
        if channel_id in (job.channel_id, job.thread_id):
            return True
        try:
            return await is_public(self.bot, job)
        except discord.HTTPException:  # Discord cannot say now: not yet (the next vote asks again)
            return False

    def locale_of(self, job: Job) -> str:
        """The hall is the server's: its posts are in the server's language."""
        guild = self.bot.get_guild(job.guild_id)
        return guild.preferred_locale.value if guild is not None else job.locale

    async def publish(self, post: HallPost) -> None:
        """Send a claimed post (under the clip's lock) and record its message."""
        store = self.bot.store
        job = await store.jobs.get(post.job_id)
        if job is None or job.deleted or job.message_id is None:
            await store.hall.remove_hall_post(post.job_id)
            return
        if not await self.may_enter(job, post.channel_id):  # claimed before this was checked: never posted
            await store.hall.remove_hall_post(post.job_id)
            return
        channel = await self.bot.messageable(post.channel_id)
        me = self.bot.user
        if me is not None and post.claimed_at < store.clock() - 1.0:  # an older claim: perhaps it was sent
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if is_hall_post_of(message, me.id, job.id):
                    await store.hall.record_hall_post(job.id, message.id, post.shown)
                    self.schedule_refresh(job.id)
                    return
        votes = await store.votes.vote_counts(job.id)
        locale = self.locale_of(job)
        media = await store.jobs.get_media(job.id)
        poster = media.poster if media is not None else b""
        files = [discord.File(io.BytesIO(poster), filename=poster_name(job))] if poster else []
        message = await channel.send(
            count_line(job, votes, locale),
            embed=hall_embed(job, locale, with_poster=bool(poster)),
            files=files,
            view=hall_view(job, locale),
            nonce=f"vb-hof-{job.id}",  # discord.py asks Discord to enforce it: a repeat returns this one
        )
        await store.hall.record_hall_post(job.id, message.id, votes)
        log.info("clip #%s entered the hall of fame of guild %s", job.id, job.guild_id)

    # ---- keeping the count current -----------------------------------------------------------------

    def schedule_refresh(self, job_id: int) -> None:
        """Edit the post's count soon; votes meanwhile ride along with the same edit."""
        if job_id not in self.pending:
            self.pending[job_id] = asyncio.create_task(self._refresh_later(job_id))

    async def _refresh_later(self, job_id: int) -> None:
        await asyncio.sleep(self.edit_debounce_s)
        self.pending.pop(job_id, None)  # a vote from now on schedules another edit
        await self.guarded(f"editing the post of #{job_id}", self.refresh(job_id))

    async def refresh(self, job_id: int) -> None:
        store = self.bot.store
        async with self.lock(job_id):
            post = await store.hall.hall_post(job_id)
            job = await store.jobs.get(job_id)
            if post is None or post.state != "posted" or post.message_id is None or job is None:
                return
            votes = await store.votes.vote_counts(job_id)
            if votes == post.shown:
                return
            message = await self.partial(post.channel_id, post.message_id)
            try:
                await message.edit(content=count_line(job, votes, self.locale_of(job)))
            except discord.NotFound:  # someone deleted the hall message: it stays gone
                await store.hall.remove_hall_post(job_id)
                return
            await store.hall.set_hall_shown(job_id, votes)

    async def partial(self, channel_id: int, message_id: int) -> discord.PartialMessage:
        channel = await self.bot.messageable(channel_id)
        return channel.get_partial_message(message_id)  # type: ignore[attr-defined]

    # ---- removing ----------------------------------------------------------------------------------

    async def remove(self, job_id: int) -> None:
        """The clip was deleted: its hall post goes, and it never comes back."""
        async with self.lock(job_id):
            removed = await self.bot.store.hall.remove_hall_post(job_id)
            if removed is None:
                return
            message_id = removed.message_id
            if message_id is None:  # claimed, never recorded: look for it
                channel = await self.bot.messageable(removed.channel_id)
                me = self.bot.user
                async for message in channel.history(limit=HISTORY_LOOKBACK):
                    if me is not None and is_hall_post_of(message, me.id, job_id):
                        message_id = message.id
                        break
            if message_id is not None:
                with contextlib.suppress(discord.NotFound):
                    await (await self.partial(removed.channel_id, message_id)).delete()
        task = self.pending.pop(job_id, None)
        if task is not None:
            task.cancel()

    # ---- reconciling -------------------------------------------------------------------------------

    async def reconcile_loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            for guild in list(self.bot.guilds):
                if not self.bot.owns(guild.id):  # another shard's process looks after it
                    continue
                await self.guarded(f"reconciling guild {guild.id}", self.reconcile(guild.id))
            self.reconciled.set()
            await asyncio.sleep(self.reconcile_interval_s)

    async def reconcile(self, guild_id: int) -> None:
        """Finish unrecorded claims, edit out-of-date counts, post clips at a lowered threshold."""
        store = self.bot.store
        for post in await store.hall.unfinished_hall_posts(guild_id):
            await self.guarded(f"finishing the post of #{post.job_id}", self.consider(post.job_id))
        for post, _votes in await store.hall.stale_hall_posts(guild_id):
            await self.guarded(f"editing the post of #{post.job_id}", self.refresh(post.job_id))
        settings = await store.settings.get_settings(guild_id)
        if settings.hall_of_fame_channel_id is None:
            return
        since = store.clock() - RECONCILE_WINDOW_S
        age_restricted = await self.age_restricted_hall(settings.hall_of_fame_channel_id)
        for job in await store.hall.hall_candidates(
            guild_id,
            settings.hall_of_fame_threshold,
            since,
            RECONCILE_BATCH,
            with_age_restricted=age_restricted,
            hall_channel_id=settings.hall_of_fame_channel_id,
        ):
            await self.guarded(f"posting #{job.id}", self.consider(job.id))


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(HallOfFameCog(bot))
