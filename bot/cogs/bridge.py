"""/bridge from to [prompt] [seconds]: a transition that joins two clips of this server into one clip
(the first clip, the transition, the second clip). Anyone may bridge anyone's clips: it is queued
fairly through :func:`bot.submit.submit`, charged to whoever asked, and posted in the first clip's
thread; the second clip's thread is told where it is. Its card credits the three of them
(``store.jobs.lineage`` follows a bridge into the clip it ends on).

A clip is named by its number, as /show takes it, or by a link to its message. Each refusal is private,
in the member's language, and queues nothing: a clip that is not there (or of another server, or
deleted, or made in a channel or thread the member cannot view: :mod:`bot.visibility`; or one whose
frames would reach members who may not see it: of a channel @everyone cannot view, bridged into another
channel, answered as unknown too), not posted
yet, whose video retention removed, an age-restricted clip outside an age-restricted channel, or the
same clip twice. The note in the second clip's thread is left only where everyone who reads it may see
the bridge (a bridge in a private thread is not announced in a public one)."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, replace

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.replies import PromptAck, RefusedError
from bot.submit import is_age_restricted, posted_in, submit
from bot.text import bridge_note, quoted_prompt
from bot.visibility import Place, clip_place, may_go_into, may_view, member_may_see, place_of, shown_with
from db.presets import PresetCatalog
from db.spec import PROMPT_MAX_CHARS, JobSpec
from db.store import Job
from db.store.retention import media_pruned

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VideoBot]

# what /bridge declares before the catalog is known; BridgeCog narrows it to what the presets allow
SECONDS_RANGE = (1.0, 30.0)
REFERENCE_MAX = 200  # a clip's number or a message link fits with room to spare

CLIP_NUMBER = re.compile(r"#?\s*(\d{1,18})")
MESSAGE_LINK = re.compile(r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)/?")
FOOTER_JOB = re.compile(r"#(\d+)$")  # a clip card's footer ends in its number (clip_embed, hall of fame)


@dataclass(frozen=True)
class MessageLink:
    """A link to a message, as Discord's "Copy Message Link" gives it."""

    guild_id: int
    channel_id: int
    message_id: int


def clip_reference(text: str) -> int | MessageLink | None:
    """What a member typed for a clip: its number ("12", "#12"), a link to a message, or None."""
    text = text.strip().removeprefix("<").removesuffix(">")  # <link> is a link without its preview
    number = CLIP_NUMBER.fullmatch(text)
    if number is not None:
        return int(number[1])
    link = MESSAGE_LINK.fullmatch(text)
    if link is not None:
        return MessageLink(int(link[1]), int(link[2]), int(link[3]))
    return None


def clip_refusal(
    job: Job | None, job_id: int, *, guild_id: int, age_restricted_here: bool, media_days: float, locale: str
) -> str | None:
    """Why clip ``job_id`` (``job``, as the store has it) cannot be bridged here, or None."""
    if job is None or job.guild_id != guild_id or job.deleted:  # another server's clip is not there
        return t(locale, "error.unknown_job", job=job_id)
    if job.state != "done" or job.message_id is None:
        return t(locale, "bridge.not_posted", job=job.id)
    if job.age_restricted and not age_restricted_here:
        return t(locale, "bridge.age_restricted", job=job.id)
    if media_pruned(job):  # the worker joins the clips' own frames: they must still be stored
        if media_days > 0:
            return t(locale, "retention.bridge_gone", job=job.id, days=f"{media_days:g}")
        return t(locale, "error.media_gone", job=job.id)
    return None


def bridge_spec(
    first: Job, second: Job, catalog: PresetCatalog, prompt: str | None, seconds: float | None
) -> JobSpec:
    """A bridge from ``first`` to ``second``: the first clip's model and aspect when its model makes
    bridges, else the default choice of one that does (``submit``: ``default_model``)."""
    preset = catalog.get(first.model)
    bridges = preset is not None and "bridge" in preset.modes
    return JobSpec(
        # the transition ends on the second clip's first frame and flows into it: its prompt describes
        # where the picture is going, so by default the in-between is rendered from it (the first
        # clip's prompt would pull against the frame it must end on)
        prompt=second.spec.prompt if prompt is None else prompt,
        seconds=seconds,
        aspect=first.spec.aspect
        if bridges and preset is not None and first.spec.aspect in preset.sizes
        else None,
        model=first.model if bridges else None,
        continues=first.id,
        bridges_to=second.id,
    )


def bridge_seconds_range(catalog: PresetCatalog) -> tuple[float, float]:
    """The shortest and longest transition a preset that makes bridges renders (any preset's, if none
    does), rounded outwards to a tenth of a second."""
    presets = [p for p in catalog if "bridge" in p.modes] or list(catalog)
    low = min(p.min_seconds for p in presets)
    high = max(p.max_seconds for p in presets)
    return (math.floor(low * 10) / 10, math.ceil(high * 10) / 10)


async def linked_clip_number(
    bot: VideoBot, interaction: Interaction, link: MessageLink, elsewhere: str
) -> int:
    """The number of the clip a link to one of the bot's clip messages shows (its card's footer); raises
    RefusedError for a link to another server (the text ``elsewhere`` names) or to no clip of the bot's."""
    locale = interaction.locale.value
    if link.guild_id != interaction.guild_id:
        raise RefusedError(t(locale, elsewhere))
    try:
        channel = bot.get_channel(link.channel_id) or await bot.fetch_channel(link.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise RefusedError(t(locale, "bridge.not_a_clip_message"))
        member = interaction.user
        place = channel if isinstance(channel, (discord.abc.GuildChannel, discord.Thread)) else None
        if place is not None and isinstance(member, discord.Member) and not await may_view(place, member):
            raise RefusedError(t(locale, "bridge.not_a_clip_message"))  # a channel they cannot see
        message = await channel.fetch_message(link.message_id)
    except (discord.NotFound, discord.Forbidden) as gone:
        raise RefusedError(t(locale, "bridge.not_a_clip_message")) from gone
    me = bot.user
    footer = message.embeds[0].footer.text if message.embeds else None
    number = FOOTER_JOB.search(footer or "")
    if me is None or message.author.id != me.id or number is None:
        raise RefusedError(t(locale, "bridge.not_a_clip_message"))
    return int(number[1])


class BridgeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        # declare the lengths the presets allow, so Discord's own client refuses the rest
        seconds = self.bridge._params["seconds"]
        seconds.min_value, seconds.max_value = bridge_seconds_range(bot.catalog)

    @app_commands.command(
        name=_("bridge", key="cmd.bridge"),
        description=_("Join two clips into one with a transition between them", key="cmd.bridge.desc"),
    )
    @app_commands.guild_only()
    @app_commands.rename(
        start=_("from", key="opt.from"),  # "from" is Python's: the parameter has another name
        end=_("to", key="opt.to"),
        prompt=_("prompt", key="opt.prompt"),
        seconds=_("seconds", key="opt.seconds"),
    )
    @app_commands.describe(
        start=_("The clip it starts with: its number, or a link to its message", key="opt.from.desc"),
        end=_("The clip it ends with: its number, or a link to its message", key="opt.to.desc"),
        prompt=_(
            "What happens in between (without it: the second clip's prompt)", key="opt.bridge_prompt.desc"
        ),
        seconds=_("Length of the transition", key="opt.bridge_seconds.desc"),
    )
    async def bridge(
        self,
        interaction: Interaction,
        start: app_commands.Range[str, 1, REFERENCE_MAX],
        end: app_commands.Range[str, 1, REFERENCE_MAX],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS] | None = None,
        seconds: app_commands.Range[float, SECONDS_RANGE[0], SECONDS_RANGE[1]] | None = None,
    ) -> None:
        # a refusal (RefusedError) is answered privately by the tree's one error path
        async with PromptAck(interaction):  # "thinking…" should the store be slow to find the clips
            first = await self.clip(interaction, start)
            second = await self.clip(interaction, end)
            await self.check_may_go_into(interaction, first, second)
        if first.id == second.id:
            raise RefusedError(t(interaction.locale.value, "bridge.same_clip", job=first.id))
        spec = bridge_spec(first, second, self.bot.catalog, prompt, seconds)
        await submit(interaction, spec, kind="bridge", parent=first)

    async def clip(self, interaction: Interaction, text: str) -> Job:
        """The clip a member named, once it may be bridged here; raises RefusedError."""
        locale = interaction.locale.value
        assert interaction.guild_id is not None
        reference = clip_reference(text)
        if reference is None:
            raise RefusedError(t(locale, "bridge.not_a_clip", text=quoted_prompt(text, 100)))
        job_id = reference if isinstance(reference, int) else await self.linked_clip(interaction, reference)
        job = await self.bot.store.jobs.get(job_id)
        if job is not None and not await member_may_see(self.bot, interaction, job):
            job = None  # a clip of a channel they cannot view is refused as one that is not there
        refusal = clip_refusal(
            job,
            job_id,
            guild_id=interaction.guild_id,
            age_restricted_here=is_age_restricted(interaction.channel),
            media_days=self.bot.config.media_days,
            locale=locale,
        )
        if refusal is not None or job is None:
            raise RefusedError(refusal or t(locale, "error.unknown_job", job=job_id))
        return job

    async def check_may_go_into(self, interaction: Interaction, first: Job, second: Job) -> None:
        """Refuse, as an unknown clip, a bridge that would show a clip's frames to members who may not
        see it: posted where it will be (the first clip's thread, as a rule), each clip must be of that
        channel or one @everyone can view (:func:`bot.visibility.may_go_into`)."""
        assert interaction.guild_id is not None
        home_id = posted_in(interaction, first, is_age_restricted(interaction.channel))
        home = await place_of(self.bot, interaction.guild_id, home_id)
        for clip in (first, second):
            if not await may_go_into(self.bot, clip, home):
                raise RefusedError(t(interaction.locale.value, "error.unknown_job", job=clip.id))

    async def linked_clip(self, interaction: Interaction, link: MessageLink) -> int:
        """The number of the clip a link to one of the bot's clip messages shows (its card's footer)."""
        return await linked_clip_number(self.bot, interaction, link, "bridge.link_elsewhere")

    @commands.Cog.listener()
    async def on_clip_posted(self, job: Job, message: discord.Message) -> None:
        """A bridge was posted (in the first clip's thread): the second clip's thread, or its channel
        if it has none, gets a link to it."""
        if job.kind != "bridge" or job.spec.bridges_to is None:
            return
        second = await self.bot.store.jobs.get(job.spec.bridges_to)
        if second is None or second.deleted:
            return
        target = second.thread_id or second.channel_id
        if target == message.channel.id:  # posted right there already
            return
        if job.age_restricted and not second.age_restricted:  # never point an ordinary channel at it
            return
        posted = replace(job, channel_id=message.channel.id, message_id=message.id)
        where = message.channel
        here: Place | None = (
            where
            if isinstance(where, (discord.abc.GuildChannel, discord.Thread))
            else await clip_place(self.bot, posted)
        )
        there = await place_of(self.bot, second.guild_id, target)
        if here is None or there is None or not shown_with(here, there):
            return  # the bridge is where some who read that thread may not look: it is not pointed at
        try:
            channel = await self.bot.messageable(target)
            await channel.send(bridge_note(posted, second.locale), nonce=f"vb-bridge-{job.id}")
        except discord.HTTPException:
            log.warning("could not tell clip #%s's thread about bridge #%s", second.id, job.id, exc_info=True)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(BridgeCog(bot))
