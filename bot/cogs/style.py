"""/style add, remove and list: a server's library of styles (LoRAs) that members choose with /video
style:. Members with Manage Server add and remove them; anyone lists them, and the admins see a broken
style (one a worker could not load) and why, in their language.

A style is made for one model (its ``preset``, the server's default unless named) and fits every preset
of that model's family (``db.presets.Preset.family``). Its ``source`` is a Hugging Face id (``Org/Repo``
or ``Org/Repo/file.safetensors``, a huggingface.co link to either is read as the id) or the path of a
``.safetensors`` file on the GPU hosts; its ``author`` is free text or one member's mention, whom the
clips' cards then credit (never pinging). Refusals are private and store nothing."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.replies import RefusedError, answer, is_admin
from bot.text import quoted_prompt, style_broken_reason, style_credit
from db.presets import PresetCatalog
from db.spec import LORA_SCALE_RANGE
from db.store.styles import NAME_MAX, Style, StyleRefused

Interaction = discord.Interaction[VideoBot]
T = TypeVar("T")

SOURCE_MAX = 500
AUTHOR_MAX = 100
LICENSE_MAX = 100
TRIGGER_MAX = 200
LINK_MAX = 300
MESSAGE_MAX = 2000  # Discord's limit for a message's content

_HUB_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_HUB_ID = re.compile(rf"{_HUB_PART}/{_HUB_PART}(?:/[^\s]+\.safetensors)?")
_HUB_URL = re.compile(
    rf"https://huggingface\.co/({_HUB_PART}/{_HUB_PART})(?:/(?:blob|resolve)/main/([^\s?#]+\.safetensors))?/?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MEMBER = re.compile(r"<@!?(\d{15,20})>")
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>")
_LINK = re.compile(r"https?://[^\s<>]+")


def one_line(text: str | None, limit: int) -> str | None:
    """``text`` stripped, when it is one line of at most ``limit`` characters ("" for none), else None."""
    text = (text or "").strip()
    if len(text) > limit or _CONTROL.search(text):
        return None
    return text


def style_name(text: str) -> str | None:
    """A style's name as typed: one line of 1 to 50 characters (spaces inside collapsed), or None."""
    name = " ".join(text.split())
    return name if 0 < len(name) <= NAME_MAX and not _CONTROL.search(name) else None


def lora_source(text: str) -> str | None:
    """Where a style's LoRA is, as the worker reads it: a hub id (``Org/Repo``,
    ``Org/Repo/file.safetensors``; a huggingface.co link to either becomes the id) or the path of a
    ``.safetensors`` file on the GPU hosts; None for anything else."""
    text = text.strip()
    if not text or len(text) > SOURCE_MAX or _CONTROL.search(text):
        return None
    url = _HUB_URL.fullmatch(text)
    if url is not None:
        text = f"{url[1]}/{url[2]}" if url[2] else url[1]
    elif text.startswith(("http://", "https://")):
        return None
    if ".." in re.split(r"[/\\]", text):  # a path that climbs out of where it says
        return None
    if _HUB_ID.fullmatch(text) or text.lower().endswith(".safetensors"):
        return text
    return None


def style_author(text: str | None) -> tuple[str, int | None] | None:
    """Who made a style: ``("", id)`` for one member's mention, ``(name, None)`` for free text
    (``("", None)`` for none); None for text with a mention in it, or too long."""
    text = (text or "").strip()
    member = _MEMBER.fullmatch(text)
    if member is not None:
        return "", int(member[1])
    name = one_line(text, AUTHOR_MAX)
    if name is None or _MENTION.search(name):
        return None
    return name, None


def style_link(text: str | None) -> str | None:
    """An http(s) link ("" for none), or None."""
    text = (text or "").strip()
    if not text:
        return ""
    return text if len(text) <= LINK_MAX and _LINK.fullmatch(text) else None


def scale_refusal(scale: float, locale: str) -> str | None:
    low, high = LORA_SCALE_RANGE
    if math.isfinite(scale) and low <= scale <= high:
        return None
    return t(locale, "style.bad_scale", low=f"{low:g}", high=f"{high:g}", value=f"{scale:g}")


def library_lines(styles: list[Style], catalog: PresetCatalog, locale: str, *, admin: bool) -> list[str]:
    """/style list, a style a line (its trigger words, link and, for admins, why it is broken, below)."""
    lines = []
    for style in styles:
        preset = catalog.get(style.preset)
        model = preset.title if preset is not None else style.preset
        line = t(
            locale, "style.line", credit=style_credit(style, locale), model=model, scale=f"{style.scale:g}"
        )
        if style.trigger:
            line += "\n  " + t(
                locale, "style.line_trigger", trigger=style.trigger.replace("`", "'")[:TRIGGER_MAX]
            )
        if style.link:
            line += f"\n  <{style.link}>"
        if admin and style.broken:
            line += "\n  " + t(locale, "style.line_broken", reason=style_broken_reason(style, locale, model))
        lines.append(line)
    return lines


def messages_of(lines: list[str], limit: int = MESSAGE_MAX) -> list[str]:
    """Lines packed into as few messages of at most ``limit`` characters as they fit in."""
    messages: list[str] = []
    for line in lines:
        line = line[:limit]
        if messages and len(messages[-1]) + 1 + len(line) <= limit:
            messages[-1] += "\n" + line
        else:
            messages.append(line)
    return messages


def admin_only() -> Callable[[T], T]:
    """Members with Manage Server only, refused privately in their language. (Discord's
    ``default_permissions`` is one for a whole command group, and /style list is for everyone: so
    the check alone decides, as /settings' own check does behind its default.)"""

    async def predicate(interaction: Interaction) -> bool:
        if is_admin(interaction):
            return True
        raise app_commands.CheckFailure(t(interaction.locale, "style.not_admin"))

    return app_commands.check(predicate)


@app_commands.guild_only()
class StyleCog(
    commands.GroupCog,
    group_name=_("style", key="cmd.style"),
    group_description=_("This server's styles (LoRAs) for /video", key="cmd.style.desc"),
):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name=_("add", key="cmd.style.add"),
        description=_("Add a style (a LoRA file) members can choose in /video", key="cmd.style.add.desc"),
    )
    @app_commands.rename(
        name=_("name", key="opt.style_name"),
        source=_("source", key="opt.source"),
        scale=_("scale", key="opt.scale"),
        trigger=_("trigger", key="opt.trigger"),
        preset=_("preset", key="opt.style_preset"),
        author=_("author", key="opt.author"),
        license=_("license", key="opt.license"),
        link=_("link", key="opt.link"),
    )
    @app_commands.describe(
        name=_("What members choose it by (up to 50 characters)", key="opt.style_name.desc"),
        source=_(
            "Hugging Face id (Org/Repo or Org/Repo/file.safetensors) or a .safetensors path on the GPU hosts",
            key="opt.source.desc",
        ),
        scale=_("How strongly it applies: 1 as trained, 0 not at all (-2 to 2)", key="opt.scale.desc"),
        trigger=_("Words put before every prompt, as the style's author says", key="opt.trigger.desc"),
        preset=_("The model it was trained for (without it: the default model)", key="opt.style_preset.desc"),
        author=_("Who made it: a name, or a member (@mention)", key="opt.author.desc"),
        license=_("Its license, e.g. CC BY 4.0", key="opt.license.desc"),
        link=_("Where it comes from (an https:// link)", key="opt.link.desc"),
    )
    @admin_only()
    async def add(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, NAME_MAX],
        source: app_commands.Range[str, 1, SOURCE_MAX],
        scale: app_commands.Range[float, LORA_SCALE_RANGE[0], LORA_SCALE_RANGE[1]] = 1.0,
        trigger: app_commands.Range[str, 0, TRIGGER_MAX] | None = None,
        preset: str | None = None,
        author: app_commands.Range[str, 0, AUTHOR_MAX] | None = None,
        license: app_commands.Range[str, 0, LICENSE_MAX] | None = None,
        link: app_commands.Range[str, 0, LINK_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        locale = interaction.locale.value
        catalog = self.bot.catalog
        clean_name = style_name(name)
        if clean_name is None:
            raise RefusedError(t(locale, "style.bad_name", limit=NAME_MAX))
        clean_source = lora_source(source)
        if clean_source is None:
            raise RefusedError(t(locale, "style.bad_source", source=source.strip()[:100]))
        refusal = scale_refusal(scale, locale)
        if refusal is not None:
            raise RefusedError(refusal)
        model = catalog.get(preset.strip() if preset else catalog.default)
        if model is None:
            choices = ", ".join(catalog.names())
            raise RefusedError(
                t(locale, "style.unknown_preset", preset=(preset or "").strip()[:100], choices=choices)
            )
        made_by = style_author(author)
        if made_by is None:
            raise RefusedError(t(locale, "style.bad_author", limit=AUTHOR_MAX))
        clean_link = style_link(link)
        if clean_link is None:
            raise RefusedError(t(locale, "style.bad_link", limit=LINK_MAX))
        texts: dict[str, str] = {}
        for field, text, limit in (("trigger", trigger, TRIGGER_MAX), ("license", license, LICENSE_MAX)):
            clean = one_line(text, limit)
            if clean is None:
                raise RefusedError(t(locale, "style.bad_text", field=field, limit=limit))
            texts[field] = clean
        try:
            style = await self.bot.store.styles.add(
                interaction.guild_id,
                clean_name,
                clean_source,
                preset=model.name,
                family=model.family,
                created_by=interaction.user.id,
                scale=scale,
                trigger=texts["trigger"],
                author=made_by[0],
                author_id=made_by[1],
                license=texts["license"],
                link=clean_link,
            )
        except StyleRefused as refused:
            raise RefusedError(t(locale, f"style_error.{refused.code}", **refused.params)) from refused
        await answer(
            interaction, t(locale, "style.added", name=quoted_prompt(style.name, 100), model=model.title)
        )

    @add.autocomplete("preset")
    async def preset_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().casefold()
        return [
            app_commands.Choice(name=f"{p.title} ({p.name})"[:100], value=p.name)
            for p in self.bot.catalog
            if typed in p.name.casefold() or typed in p.title.casefold()
        ][:25]

    @app_commands.command(
        name=_("remove", key="cmd.style.remove"),
        description=_("Remove a style (its clips keep crediting it)", key="cmd.style.remove.desc"),
    )
    @app_commands.rename(name=_("name", key="opt.style_name"))
    @app_commands.describe(name=_("The style to remove", key="opt.style_remove.desc"))
    @admin_only()
    async def remove(self, interaction: Interaction, name: app_commands.Range[str, 1, NAME_MAX]) -> None:
        assert interaction.guild_id is not None
        locale = interaction.locale.value
        removed = await self.bot.store.styles.remove(interaction.guild_id, " ".join(name.split()))
        if removed is None:
            refused = StyleRefused("unknown", name=name.strip()[:NAME_MAX])
            raise RefusedError(t(locale, f"style_error.{refused.code}", **refused.params))
        await answer(interaction, t(locale, "style.removed", name=quoted_prompt(removed.name, 100)))

    @remove.autocomplete("name")
    async def name_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        typed = current.strip().casefold()
        styles = await self.bot.store.styles.library(interaction.guild_id)
        return [app_commands.Choice(name=s.name, value=s.name) for s in styles if typed in s.name.casefold()][
            :25
        ]

    @app_commands.command(
        name=_("list", key="cmd.style.list"),
        description=_("The styles of this server", key="cmd.style.list.desc"),
    )
    async def list_styles(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        locale = interaction.locale.value
        styles = await self.bot.store.styles.library(interaction.guild_id)
        if not styles:
            await answer(interaction, t(locale, "style.list_empty"))
            return
        lines = ["**" + t(locale, "style.list_title") + "**"]
        lines += library_lines(styles, self.bot.catalog, locale, admin=is_admin(interaction))
        for message in messages_of(lines):
            await answer(interaction, message)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(StyleCog(bot))
