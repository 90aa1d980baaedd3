"""/video: a member asks for a clip. The buttons under every clip live in :mod:`bot.clips`; the checks
and the queueing that every way of asking shares live in :mod:`bot.submit`."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.clips import CLIP_BUTTONS, answer_forgotten_form
from bot.i18n import EN, t
from bot.submit import default_model, modes_asked, submit_or_explain
from db.presets import ASPECTS
from db.spec import PROMPT_MAX_CHARS, SEED_MAX, JobSpec
from db.store.styles import NAME_MAX as STYLE_NAME_MAX

Interaction = discord.Interaction[VideoBot]

# what /video declares before the catalog is known; VideoCog narrows it to what the presets allow
SECONDS_RANGE = (1.0, 30.0)


class VideoCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        # declare the lengths the presets allow, so Discord's own client refuses the rest
        seconds = self.video._params["seconds"]
        seconds.min_value, seconds.max_value = seconds_range(bot)

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
        image=_("image", key="opt.image"),
        end_image=_("end_image", key="opt.end_image"),
        loop=_("loop", key="opt.loop"),
        style=_("style", key="opt.style"),
    )
    @app_commands.describe(
        prompt=_("What the clip shows", key="opt.prompt.desc"),
        negative=_("What the clip should not show", key="opt.negative.desc"),
        seconds=_("Length of the clip", key="opt.seconds.desc"),
        aspect=_("Aspect ratio", key="opt.aspect.desc"),
        model=_("Which model renders it", key="opt.model.desc"),
        seed=_("Same seed, same clip", key="opt.seed.desc"),
        image=_("A picture to animate (PNG, JPEG or WebP): the clip starts from it", key="opt.image.desc"),
        end_image=_("A picture the clip ends on (PNG, JPEG or WebP)", key="opt.end_image.desc"),
        loop=_("End on the first frame, so the clip plays seamlessly on repeat", key="opt.loop.desc"),
        style=_("One of this server's styles (see /style list)", key="opt.style.desc"),
    )
    @app_commands.choices(
        aspect=[
            app_commands.Choice(name=_(t(EN, key), key=key), value=a)
            for a, key in ((a, f"aspect.{a.replace(':', 'x')}") for a in ASPECTS)
        ]
    )
    async def video(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        negative: app_commands.Range[str, 0, 500] | None = None,
        seconds: app_commands.Range[float, SECONDS_RANGE[0], SECONDS_RANGE[1]] | None = None,
        aspect: str | None = None,
        model: str | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        image: discord.Attachment | None = None,
        end_image: discord.Attachment | None = None,
        loop: bool = False,
        style: app_commands.Range[str, 1, STYLE_NAME_MAX] | None = None,
    ) -> None:
        spec = JobSpec(
            prompt=prompt,
            negative_prompt=negative or "",
            seconds=seconds,
            aspect=aspect,
            model=model,
            seed=seed,
            loop=loop,
        )
        await submit_or_explain(interaction, spec, picture=image, end_picture=end_image, style=style)

    @video.autocomplete("model")
    async def model_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # only the models that can do what the member filled in so far (a picture to start or end
        # on, a loop); Discord sends the other options with the one being typed
        asked = modes_asked(
            image=interaction.namespace.image is not None,
            end=interaction.namespace.end_image is not None,
            loop=interaction.namespace.loop is True,
        )
        served = await self.bot.store.workers.served_models() or self.bot.catalog.names()
        choices = []
        for name in served:
            preset = self.bot.catalog.get(name)
            if preset is None or not asked <= set(preset.modes):  # members choose among the presets
                continue
            title = self.bot.model_title(name)
            if current.lower() in name.lower() or current.lower() in title.lower():
                choices.append(app_commands.Choice(name=f"{title} ({name})"[:100], value=name))
        return choices[:25]

    @video.autocomplete("style")
    async def style_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # the server's styles that fit the model chosen so far (or the one the member would get)
        if interaction.guild_id is None:
            return []
        namespace = interaction.namespace
        model = namespace.model if namespace.model in self.bot.catalog else None
        if model is None:
            asked = JobSpec(
                prompt="-",
                start_image=namespace.image is not None,
                end_image=namespace.end_image is not None,
                loop=namespace.loop is True,
            )
            model = default_model(self.bot.catalog, await self.bot.store.workers.served_models(), asked)
        preset = self.bot.catalog.get(model)
        if preset is None:
            return []
        typed = current.strip().casefold()
        choices = []
        for style in await self.bot.store.styles.for_family(interaction.guild_id, preset.family):
            if style.broken or typed not in style.name.casefold():
                continue
            label = f"{style.name} · {style.author}" if style.author else style.name
            choices.append(app_commands.Choice(name=label[:100], value=style.name))
        return choices[:25]

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[VideoBot]) -> None:
        """A Remix/Extend form discord.py no longer holds (a restart, or its hour ran out)."""
        await answer_forgotten_form(interaction)


def seconds_range(bot: VideoBot) -> tuple[float, float]:
    """The shortest and longest clip any preset makes, rounded outwards to a tenth of a second."""
    presets = list(bot.catalog)
    low = min(p.min_seconds for p in presets)
    high = max(p.max_seconds for p in presets)
    return (math.floor(low * 10) / 10, math.ceil(high * 10) / 10)


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(*CLIP_BUTTONS)
    await bot.add_cog(VideoCog(bot))
