"""/video and the buttons under every clip (vote, reroll, remix, details, delete).

Buttons are ``DynamicItem`` templates over custom ids such as ``vb:vote:<job>:up``: the id and the job
store hold all their state, so they work after a restart. Rerolls and remixes go to the clip's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot, report_error
from bot.i18n import t
from bot.text import clip_embed, details_embed, status_message, where_in_queue
from db.cost import estimate_gpu_seconds
from db.presets import ASPECTS
from db.spec import PROMPT_MAX_CHARS, SEED_MAX, JobSpec, SpecError, resolve_spec
from db.store import CapExceeded, Job, JobKind, JobStore, VoteCounts, VoteRefused

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VideoBot]


class RefusedError(Exception):
    """A reason, in the member's language, why nothing was queued."""


def is_moderator(interaction: Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.administrator)


def role_ids(member: discord.abc.User) -> list[int]:
    return [role.id for role in getattr(member, "roles", [])]


async def submit(
    interaction: Interaction, spec: JobSpec, *, kind: JobKind = "new", parent: Job | None = None
) -> Job:
    """Check and queue a clip, answer the member within the 3 seconds, post the status message.

    Raises RefusedError (nothing queued) with the reason in the member's language."""
    bot = interaction.client
    locale = interaction.locale.value
    if interaction.guild_id is None or interaction.channel_id is None:
        raise RefusedError(t(locale, "error.guild_only"))
    settings = await bot.store.get_settings(interaction.guild_id)
    channel_id = interaction.channel_id
    if parent is not None:
        channel_id = parent.thread_id or parent.channel_id
    elif not settings.allows_channel(channel_id):
        channels = ", ".join(f"<#{c}>" for c in settings.allowed_channel_ids)
        raise RefusedError(t(locale, "error.channel", channels=channels))
    word = settings.blocked_word_in(f"{spec.prompt}\n{spec.negative_prompt}")
    channel = interaction.channel
    age_restricted = bool(channel is not None and getattr(channel, "is_nsfw", lambda: False)())
    if word is not None and not (settings.nsfw_allowed and age_restricted):
        raise RefusedError(t(locale, "error.blocked_word", word=word))
    try:
        plan = resolve_spec(spec, bot.catalog)
    except SpecError as exc:
        raise RefusedError(t(locale, f"spec.{exc.code}", **exc.params)) from exc
    served = await bot.store.served_models()
    if served and plan.spec.model not in served:
        raise RefusedError(
            t(locale, "error.model_offline", model=plan.preset.title, choices=", ".join(served))
        )
    weight = settings.weight_for_roles(role_ids(interaction.user))
    try:
        job = await bot.store.enqueue(
            interaction.guild_id,
            channel_id,
            interaction.user.id,
            plan.spec,
            estimate_gpu_seconds(plan),
            weight=weight,
            parent_id=parent.id if parent else None,
            kind=kind,
            locale=locale,
        )
    except CapExceeded as exc:
        raise RefusedError(t(locale, f"cap.{exc.code}", **exc.params)) from exc
    position = await bot.store.queue_position(job.id)
    reply = t(
        locale, "queued.ack", job=job.id, where=where_in_queue(position.position, position.eta_s, locale)
    )
    if not served:
        reply += "\n" + t(locale, "queued.no_workers")
    await interaction.response.send_message(reply, ephemeral=True)
    try:
        target = await bot.messageable(channel_id)
        status = await target.send(status_message(job, locale, position.position, position.eta_s))
    except discord.HTTPException:
        log.warning("could not post the status message of job %s", job.id, exc_info=True)
        return job
    if not await remember_status_message(bot.store, job.id, status.id):
        await settle_status(bot, job.id, status)
    return job


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


async def answer(interaction: Interaction, text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def submit_or_explain(interaction: Interaction, spec: JobSpec, **kwargs: Any) -> None:
    try:
        await submit(interaction, spec, **kwargs)
    except RefusedError as refused:
        await answer(interaction, str(refused))


async def clip_for(interaction: Interaction, job_id: int) -> Job | None:
    """The finished clip ``job_id`` of this guild, or None after telling the member why not."""
    job = await interaction.client.store.get(job_id)
    if job is None or job.guild_id != interaction.guild_id:
        await answer(interaction, t(interaction.locale, "error.unknown_job", job=job_id))
        return None
    return job


# ---- buttons ----------------------------------------------------------------------------------------


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:vote:(?P<job>\d+):(?P<dir>up|down)"
):
    def __init__(self, job_id: int, direction: str, count: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if direction == "up" else "👎",
                label=str(count),
                custom_id=f"vb:vote:{job_id}:{direction}",
            )
        )
        self.job_id = job_id
        self.direction = direction

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["job"]), match["dir"])

    async def callback(self, interaction: Interaction) -> None:
        store = interaction.client.store
        try:
            votes = await store.vote(
                self.job_id, interaction.user.id, 1 if self.direction == "up" else -1, toggle=True
            )
        except VoteRefused as refused:
            await answer(
                interaction,
                t(interaction.locale, "vote.own" if refused.code == "own_clip" else "vote.done_only"),
            )
            return
        await interaction.response.edit_message(view=clip_view(self.job_id, votes))


class RerollButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:reroll:(?P<job>\d+)"):
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="🔁", style=discord.ButtonStyle.secondary, custom_id=f"vb:reroll:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> RerollButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        parent = await clip_for(interaction, self.job_id)
        if parent is not None:
            await submit_or_explain(
                interaction, replace(parent.spec, seed=None), kind="reroll", parent=parent
            )


class RemixModal(discord.ui.Modal):
    def __init__(self, parent: Job, locale: str) -> None:
        super().__init__(
            title=t(locale, "remix.title", job=parent.id), custom_id=f"vb:remixmodal:{parent.id}"
        )
        self.parent = parent
        self.prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            label=t(locale, "remix.prompt"),
            style=discord.TextStyle.paragraph,
            default=parent.spec.prompt[:PROMPT_MAX_CHARS],
            max_length=PROMPT_MAX_CHARS,
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: Interaction) -> None:
        # the same seed: the remix differs from its parent by the words alone
        spec = replace(self.parent.spec, prompt=self.prompt.value)
        await submit_or_explain(interaction, spec, kind="remix", parent=self.parent)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class RemixButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:remix:(?P<job>\d+)"):
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(emoji="✏️", style=discord.ButtonStyle.secondary, custom_id=f"vb:remix:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> RemixButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        parent = await clip_for(interaction, self.job_id)
        if parent is not None:
            await interaction.response.send_modal(RemixModal(parent, interaction.locale.value))


class InfoButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:info:(?P<job>\d+)"):
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(emoji="ℹ️", style=discord.ButtonStyle.secondary, custom_id=f"vb:info:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> InfoButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        job = await clip_for(interaction, self.job_id)
        if job is None:
            return
        bot = interaction.client
        votes = await bot.store.vote_counts(job.id)
        embed = details_embed(job, votes, interaction.locale.value, bot.model_title(job.model))
        await interaction.response.send_message(embed=embed, ephemeral=True)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:delete:(?P<job>\d+)"):
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(emoji="🗑️", style=discord.ButtonStyle.secondary, custom_id=f"vb:delete:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> DeleteButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        job = await clip_for(interaction, self.job_id)
        if job is None:
            return
        if job.user_id != interaction.user.id and not is_moderator(interaction):
            await answer(interaction, t(interaction.locale, "error.not_yours"))
            return
        await interaction.response.send_message(t(interaction.locale, "deleted", job=job.id), ephemeral=True)
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        await interaction.client.store.delete_media(job.id)


DYNAMIC_ITEMS = (VoteButton, RerollButton, RemixButton, InfoButton, DeleteButton)


def clip_view(job_id: int, votes: VoteCounts) -> discord.ui.View:
    """The buttons under a clip; the vote buttons show the counts."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(job_id, "up", votes.up))
    view.add_item(VoteButton(job_id, "down", votes.down))
    view.add_item(RerollButton(job_id))
    view.add_item(RemixButton(job_id))
    view.add_item(InfoButton(job_id))
    view.add_item(DeleteButton(job_id))
    return view


def clip_message(bot: VideoBot, job: Job, votes: VoteCounts) -> tuple[str, discord.Embed, discord.ui.View]:
    """Content, embed and buttons of a posted clip."""
    from bot.text import header

    return (
        header(job, job.locale),
        clip_embed(job, votes, job.locale, bot.model_title(job.model)),
        clip_view(job.id, votes),
    )


# ---- the command ------------------------------------------------------------------------------------


class VideoCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("video", key="cmd.video"),
        description=_("Make a short video clip from text", key="cmd.video.desc"),
    )
    @app_commands.guild_only()
    @app_commands.rename(
        prompt=_("prompt", key="opt.prompt"),
        negative=_("negative", key="opt.negative"),
        seconds=_("seconds", key="opt.seconds"),
        aspect=_("aspect", key="opt.aspect"),
        model=_("model", key="opt.model"),
        seed=_("seed", key="opt.seed"),
    )
    @app_commands.describe(
        prompt=_("What the clip shows", key="opt.prompt.desc"),
        negative=_("What the clip should not show", key="opt.negative.desc"),
        seconds=_("Length of the clip", key="opt.seconds.desc"),
        aspect=_("Aspect ratio", key="opt.aspect.desc"),
        model=_("Which model renders it", key="opt.model.desc"),
        seed=_("Same seed, same clip", key="opt.seed.desc"),
    )
    @app_commands.choices(aspect=[app_commands.Choice(name=a, value=a) for a in ASPECTS])
    async def video(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        negative: app_commands.Range[str, 0, 500] | None = None,
        seconds: app_commands.Range[float, 0.5, 30.0] | None = None,
        aspect: str | None = None,
        model: str | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
    ) -> None:
        spec = JobSpec(
            prompt=prompt,
            negative_prompt=negative or "",
            seconds=seconds,
            aspect=aspect,
            model=model,
            seed=seed,
        )
        await submit_or_explain(interaction, spec)

    @video.autocomplete("model")
    async def model_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        served = await self.bot.store.served_models() or self.bot.catalog.names()
        choices = []
        for name in served:
            title = self.bot.model_title(name)
            if current.lower() in name.lower() or current.lower() in title.lower():
                choices.append(app_commands.Choice(name=f"{title} ({name})"[:100], value=name))
        return choices[:25]


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(VideoCog(bot))
