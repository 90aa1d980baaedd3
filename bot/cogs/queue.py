"""/queue (my clips and the queue ahead of me) and /cancel."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.replies import answer, is_moderator, think
from bot.text import format_eta, quoted_prompt

Interaction = discord.Interaction[VideoBot]


class QueueCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("queue", key="cmd.queue"),
        description=_("Your jobs and the queue ahead of you", key="cmd.queue.desc"),
    )
    @app_commands.guild_only()
    async def queue(self, interaction: Interaction) -> None:
        store, locale = self.bot.store, interaction.locale.value
        assert interaction.guild_id is not None
        await think(interaction)
        mine = await store.jobs.jobs_for_user(
            interaction.guild_id, interaction.user.id, ("queued", "running")
        )
        waiting = await store.jobs.queued_count(interaction.guild_id)
        workers = len(await store.workers.live_workers())
        if not mine:
            await answer(interaction, t(locale, "queue.empty", total=waiting))
            return
        lines = []
        positions = await store.jobs.queue_positions() if any(j.state == "queued" for j in mine) else {}
        for job in mine:
            prompt = quoted_prompt(job.spec.prompt, 80)
            if job.state == "running":
                lines.append(
                    t(
                        locale,
                        "queue.line_running",
                        job=job.id,
                        prompt=prompt,
                        percent=round(job.progress * 100),
                    )
                )
                continue
            position, eta_s = positions.get(job.id, (0, None))
            eta = format_eta(eta_s, locale)
            key = "queue.line_queued" if eta else "queue.line_queued_no_eta"
            lines.append(t(locale, key, job=job.id, prompt=prompt, position=position, eta=eta))
        embed = discord.Embed(title=t(locale, "queue.title"), description="\n".join(lines))
        embed.set_footer(text=t(locale, "queue.footer", workers=workers, total=waiting))
        await answer(interaction, embed=embed)

    @app_commands.command(
        name=_("cancel", key="cmd.cancel"), description=_("Cancel a job of yours", key="cmd.cancel.desc")
    )
    @app_commands.guild_only()
    @app_commands.rename(job=_("job", key="opt.job"))
    @app_commands.describe(job=_("Job number", key="opt.job.desc"))
    async def cancel(self, interaction: Interaction, job: int | None = None) -> None:
        store, locale = self.bot.store, interaction.locale.value
        assert interaction.guild_id is not None
        if job is None:
            mine = await store.jobs.jobs_for_user(
                interaction.guild_id, interaction.user.id, ("queued", "running")
            )
            if not mine:
                await answer(interaction, t(locale, "cancel.none"))
                return
            job = max(mine, key=lambda j: j.id).id  # the latest one: the usual "oops"
        target = await store.jobs.get(job)
        if target is None or target.guild_id != interaction.guild_id:
            await answer(interaction, t(locale, "error.unknown_job", job=job))
            return
        mine_to_cancel = target.user_id == interaction.user.id
        if not mine_to_cancel and not is_moderator(interaction):
            await answer(interaction, t(locale, "error.not_yours"))
            return
        cancelled = await store.jobs.cancel(target.id, interaction.user.id if mine_to_cancel else None)
        await answer(interaction, t(locale, "cancel.done" if cancelled else "cancel.too_late", job=target.id))


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(QueueCog(bot))
