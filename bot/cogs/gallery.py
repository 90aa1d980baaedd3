"""/top (the best-voted clips) and /show (post a clip again, with working buttons; a clip older than
the media retention period is reposted from its original message).

A clip made in a channel or thread the member cannot view is not theirs to name (:mod:`bot.visibility`):
/show of it is answered privately as for a clip that does not exist, and /top leaves it out. The list
/top posts is public in the channel it is asked in, so it names only clips whose channel @everyone can
view, and clips of that very channel. Each copy /show posts is recorded: deleting the clip deletes it.
/show acknowledges ("thinking…") before it reads and uploads the video, so a large clip or a slow disk
never misses Discord's 3-second window, and before it asks Discord whether the member may see the clip
(an archived or private thread): a refusal then replaces the public "thinking…" with a private answer.
/top always acknowledges first (publicly, as its list is): it may look at hundreds of clips, each of an
archived thread asking Discord. A copy whose upload ends after the clip was deleted is deleted too.

A clip made in an age-restricted channel (``Job.age_restricted``) is shown only in an age-restricted
channel: /show of it elsewhere is answered privately, and /top elsewhere leaves it out."""

from __future__ import annotations

import contextlib
import io
import time

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.clips import clip_message, style_of
from bot.credentials import sign_for
from bot.i18n import t
from bot.replies import answer
from bot.submit import is_age_restricted
from bot.text import jump_url, quoted_prompt
from bot.visibility import Viewer, delete_message, may_need_discord, member_may_see
from db.credentials import manifest_store_size
from db.store import Job
from db.store.retention import media_pruned

Interaction = discord.Interaction[VideoBot]

PERIODS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "all": None}
TOP_SIZE = 10
TOP_SCAN_MAX = 640  # the best clips looked at for the ten this member may see listed here


async def refuse(interaction: Interaction, text: str) -> None:
    """A private answer; after a public "thinking…", that goes and the answer follows privately."""
    if interaction.response.is_done():
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await answer(interaction, text)


class GalleryCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("top", key="cmd.top"), description=_("The best-voted clips", key="cmd.top.desc")
    )
    @app_commands.guild_only()
    @app_commands.rename(period=_("period", key="opt.period"))
    @app_commands.describe(period=_("Which period", key="opt.period.desc"))
    @app_commands.choices(
        period=[
            app_commands.Choice(name=_(name.title(), key=f"period.{name}"), value=name) for name in PERIODS
        ]
    )
    async def top(self, interaction: Interaction, period: str = "week") -> None:
        locale = interaction.locale.value
        assert interaction.guild_id is not None
        span = PERIODS.get(period, PERIODS["week"])
        since = 0.0 if span is None else time.time() - span
        here = is_age_restricted(interaction.channel)  # the list is posted in this channel
        # the clips' channels may have to be asked of Discord, many of them: "thinking…" (public, as the
        # list will be) first, so the 3-second window never depends on it
        await interaction.response.defer(thinking=True)
        viewer = Viewer(self.bot, interaction)

        async def listed_here(job: Job) -> bool:
            """The member may see it, and so may everyone who reads this channel: it was made here,
            or @everyone can view its channel."""
            if not await viewer.sees(job):
                return False
            return job.channel_id == interaction.channel_id or await viewer.for_everyone(job)

        limit, ranked = TOP_SIZE, []
        while True:
            best = await self.bot.store.votes.top(
                interaction.guild_id, since, limit, with_age_restricted=here
            )
            ranked = [clip for clip in best if await listed_here(clip.job)][:TOP_SIZE]
            if len(ranked) >= TOP_SIZE or len(best) < limit or limit >= TOP_SCAN_MAX:
                break
            limit *= 4
        if not ranked:
            await refuse(interaction, t(locale, "top.empty"))
            return
        lines = []
        for place, clip in enumerate(ranked, 1):
            job = clip.job
            where = jump_url(job) if job.message_id else f"#{job.id}"
            votes = f"👍 {clip.votes.up} · 👎 {clip.votes.down}"
            lines.append(
                f"**{place}.** {where} — {quoted_prompt(job.spec.prompt, 80)} · {votes} · <@{job.user_id}>"
            )
        title = t(locale, "top.title", period=t(locale, f"period.{period}"))
        await interaction.followup.send(embed=discord.Embed(title=title, description="\n".join(lines)))

    @app_commands.command(
        name=_("show", key="cmd.show"),
        description=_("Post a clip again, with working buttons", key="cmd.show.desc"),
    )
    @app_commands.guild_only()
    @app_commands.rename(job=_("job", key="opt.job"))
    @app_commands.describe(job=_("Job number", key="opt.job.desc"))
    async def show(self, interaction: Interaction, job: int) -> None:
        store, locale = self.bot.store, interaction.locale.value
        found = await store.jobs.get(job)
        if found is not None and may_need_discord(self.bot, interaction, found):
            await interaction.response.defer(thinking=True)  # Discord is asked who may see it: it may be slow
        if (
            found is None
            or found.guild_id != interaction.guild_id
            or found.deleted
            or not await member_may_see(self.bot, interaction, found)  # as if it were not there
        ):
            await refuse(interaction, t(locale, "error.unknown_job", job=job))
            return
        if found.state != "done" or not found.posted:  # posted: signed (bot.credentials)
            await refuse(interaction, t(locale, "error.not_done", job=job))
            return
        if found.age_restricted and not is_age_restricted(interaction.channel):
            await refuse(interaction, t(locale, "show.age_restricted", job=job))
            return
        # a video will be sent: "thinking…" first, then the file is read (and signed) and uploaded
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)
        media = await store.jobs.get_media(found.id)
        if media is None:  # removed after the retention period: the original message still has it
            await self.repost(interaction, found)
            return
        lineage = await store.jobs.lineage(found.id)
        votes = await store.votes.vote_counts(found.id)
        style = await style_of(self.bot, found)
        if not manifest_store_size(media.video):  # posted before clips were signed: signed now
            media = (await sign_for(self.bot, found, media, lineage=lineage, style=style)).media
        content, embed, view = clip_message(self.bot, found, votes, lineage, style)
        video = discord.File(io.BytesIO(media.video), filename=f"videobot-{found.id}.mp4")
        copy = await interaction.followup.send(content, embed=embed, file=video, view=view, wait=True)
        await self.record_copy(found.id, copy)

    async def repost(self, interaction: Interaction, job: Job) -> None:
        """Post a clip whose files the store no longer keeps from the attachment of its original
        message (downloaded and uploaded again: Discord's attachment links expire), with working
        buttons; a clear private answer when that message is gone too."""
        locale = interaction.locale.value
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)  # the download may take a while
        video = await self.original_video(job)
        if video is None:
            days = self.bot.config.media_days
            text = (
                t(locale, "retention.original_gone", job=job.id, days=f"{days:g}")
                if media_pruned(job) and days > 0
                else t(locale, "error.media_gone", job=job.id)
            )
            with contextlib.suppress(discord.HTTPException):  # "thinking…" was public: it goes
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True)
            return
        store = self.bot.store
        lineage = await store.jobs.lineage(job.id)
        votes = await store.votes.vote_counts(job.id)
        content, embed, view = clip_message(self.bot, job, votes, lineage, await style_of(self.bot, job))
        file = discord.File(io.BytesIO(video), filename=f"videobot-{job.id}.mp4")
        copy = await interaction.followup.send(content, embed=embed, file=file, view=view, wait=True)
        await self.record_copy(job.id, copy)

    async def record_copy(self, job_id: int, copy: discord.Message) -> None:
        """Record a copy /show posted, so deleting the clip deletes it; a clip deleted while the copy
        was uploading (its copies deleted before this one was recorded) takes this one with it now."""
        store = self.bot.store
        await store.jobs.add_copy(job_id, copy.channel.id, copy.id)
        now = await store.jobs.get(job_id)
        if now is None or now.deleted:
            await delete_message(self.bot, copy.channel.id, copy.id)

    async def original_video(self, job: Job) -> bytes | None:
        """The mp4 attached to the clip's message in Discord; None when the message, its channel or
        its video is gone (or the bot may no longer read them)."""
        if job.message_id is None:
            return None
        try:
            channel = await self.bot.messageable(job.channel_id)
            message = await channel.fetch_message(job.message_id)
            attachment = next((a for a in message.attachments if a.filename.lower().endswith(".mp4")), None)
            return None if attachment is None else await attachment.read()
        except (discord.NotFound, discord.Forbidden):
            return None


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(GalleryCog(bot))
