"""/top (the best-voted clips) and /show (post a clip again, with working buttons)."""

from __future__ import annotations

import io
import time

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.clips import clip_message
from bot.i18n import t
from bot.replies import answer
from bot.text import quoted_prompt

Interaction = discord.Interaction[VideoBot]

PERIODS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "all": None}


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
        ranked = await self.bot.store.top(interaction.guild_id, since, 10)
        if not ranked:
            await answer(interaction, t(locale, "top.empty"))
            return
        lines = []
        for place, clip in enumerate(ranked, 1):
            job = clip.job
            where = (
                f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"
                if job.message_id
                else f"#{job.id}"
            )
            votes = f"👍 {clip.votes.up} · 👎 {clip.votes.down}"
            lines.append(
                f"**{place}.** {where} — {quoted_prompt(job.spec.prompt, 80)} · {votes} · <@{job.user_id}>"
            )
        title = t(locale, "top.title", period=t(locale, f"period.{period}"))
        await interaction.response.send_message(
            embed=discord.Embed(title=title, description="\n".join(lines))
        )

    @app_commands.command(
        name=_("show", key="cmd.show"),
        description=_("Post a clip again, with working buttons", key="cmd.show.desc"),
    )
    @app_commands.guild_only()
    @app_commands.rename(job=_("job", key="opt.job"))
    @app_commands.describe(job=_("Job number", key="opt.job.desc"))
    async def show(self, interaction: Interaction, job: int) -> None:
        store, locale = self.bot.store, interaction.locale.value
        found = await store.get(job)
        if found is None or found.guild_id != interaction.guild_id or found.deleted:
            await answer(interaction, t(locale, "error.unknown_job", job=job))
            return
        if found.state != "done":
            await answer(interaction, t(locale, "error.not_done", job=job))
            return
        media = await store.get_media(found.id)
        if media is None:
            await answer(interaction, t(locale, "error.media_gone", job=job))
            return
        lineage = await store.lineage(found.id)
        content, embed, view = clip_message(self.bot, found, await store.vote_counts(found.id), lineage)
        video = discord.File(io.BytesIO(media.video), filename=f"videobot-{found.id}.mp4")
        await interaction.response.send_message(content, embed=embed, file=video, view=view)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(GalleryCog(bot))
