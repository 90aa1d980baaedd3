"""/verify [file] [clip]: what a video's content credentials say (issue 21), answered privately.

Anyone may check a video file they attach (MP4 or MOV, up to :data:`MAX_BYTES`) or a clip of this
server, named as /bridge names one (its number or a link to its message): whether the file carries
content credentials (a C2PA manifest, :mod:`db.credentials`), whether they are intact or the file was
altered after it was signed, who signed it (this server's bot, this videobot installation on another
server, another videobot, another signer), that a model made it and which, when, in which style, its
authors, and what it was made from (its ingredients, nested, each with its own credentials' facts).

The installation's clips are recognised by the root certificates its bots record in the store
(``store.credentials.roots``), so a clip signed by any shard reads as this installation's. The file is
read in a thread (c2pa hashes all of it), a few at a time. A clip made in an age-restricted channel is
checked only in an age-restricted channel, like /show and /bridge: its credentials name its authors.
A clip made in a channel or thread the member cannot view is refused as one that is not there
(:mod:`bot.visibility`).
Every answer and every refusal is private, in the member's language; no name in a manifest (which any
stranger may write) can format the answer or mention anyone."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.cogs.bridge import REFERENCE_MAX, MessageLink, clip_reference, linked_clip_number
from bot.i18n import t
from bot.replies import RefusedError, answer, think
from bot.submit import is_age_restricted
from bot.text import quoted_prompt
from bot.visibility import member_may_see
from db.credentials import RELATIONSHIPS, IngredientInfo, UnreadableFile, Verdict
from db.store import Job

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VideoBot]

# the largest file a Discord server lets anyone post (boost level 3): every clip any videobot posts fits
MAX_BYTES = 100 * 1024 * 1024
READERS = 2  # files downloaded and read at once (each is held in memory and hashed whole)
VIDEO_SUFFIXES = {".mp4": ".mp4", ".m4v": ".mp4", ".mov": ".mov"}
VIDEO_TYPES = {"video/mp4": ".mp4", "video/quicktime": ".mov"}

DESCRIPTION_MAX = 4096  # Discord's limit for an embed's description
NAME_MAX = 80  # characters of a file's, model's or server's name shown
AUTHORS_MAX = 300
FAILURES_SHOWN = 5
DEPTH_MAX = 6  # ingredients nested deeper are counted, not listed
COLOURS = {
    "none": discord.Colour.light_grey(),
    "valid": discord.Colour.green(),
    "untrusted": discord.Colour.blue(),
    "altered": discord.Colour.red(),
    "invalid": discord.Colour.red(),
}


def plain(text: object, limit: int = NAME_MAX) -> str:
    """Text from a manifest or a file name, shortened and shown as written: no markdown, no mention."""
    return discord.utils.escape_mentions(quoted_prompt(str(text), limit))


def video_suffix(filename: str, content_type: str | None) -> str | None:
    """The suffix c2pa reads an attachment as (.mp4 or .mov), by its name or its content type; None for a
    file that says it is neither."""
    by_name = VIDEO_SUFFIXES.get(Path(filename).suffix.lower())
    by_type = VIDEO_TYPES.get((content_type or "").split(";")[0].strip().lower())
    return by_name or by_type


def size_refusal(locale: str, name: str, size: int) -> RefusedError:
    return RefusedError(
        t(
            locale,
            "verify.too_big",
            name=plain(name),
            size_mib=f"{size / 1024**2:.1f}",
            limit_mib=MAX_BYTES // 1024**2,
        )
    )


def when(iso: str | None, style: discord.utils.TimestampStyle = "f") -> str | None:
    """An ISO time as a Discord timestamp (each member sees it in their own time zone), else as written."""
    if not iso:
        return None
    try:
        moment = datetime.datetime.fromisoformat(iso.strip())
    except ValueError:
        return plain(iso, 40)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return discord.utils.format_dt(moment, style)


def signer_text(verdict: Verdict, locale: str) -> str:
    signer = plain(verdict.signer) if verdict.signer else t(locale, "verify.unknown_signer")
    if verdict.issuer:
        return t(locale, "verify.issued_by", signer=signer, issuer=plain(verdict.issuer))
    return signer


def signed_by(verdict: Verdict, locale: str, guild_id: int) -> str:
    """Who signed an intact file, as this server sees it."""
    facts = verdict.model_facts
    if verdict.status == "valid" and verdict.this_installation:
        server_id = facts.get("server_id")
        if server_id is None:
            return t(locale, "verify.by.installation")
        if str(server_id) == str(guild_id):
            return t(locale, "verify.by.this_server")
        server = plain(facts.get("server") or server_id)
        return t(locale, "verify.by.other_server", server=server)
    if str(verdict.software or "").startswith("videobot/"):
        return t(locale, "verify.by.other_videobot", signer=signer_text(verdict, locale))
    return t(locale, "verify.by.other_signer", signer=signer_text(verdict, locale))


def ingredient_lines(ingredients: Sequence[IngredientInfo], locale: str, depth: int = 0) -> list[str]:
    """The ingredients as a nested list, one line each: how it was used, its title, the model, its
    authors and date (or that it has no credentials of its own), deeper levels indented."""
    lines: list[str] = []
    for ing in ingredients:
        if depth >= DEPTH_MAX:
            lines.append(f"{'  ' * depth}- …")
            break
        known = ing.relationship in RELATIONSHIPS
        kind = t(locale, f"verify.kind.{ing.relationship}") if known else plain(ing.relationship, 20)
        parts = [f"{kind}: **{plain(ing.title)}**"]
        if ing.signed:
            if ing.model:
                parts.append(plain(ing.model))
            if ing.authors:
                parts.append(plain(", ".join(ing.authors), AUTHORS_MAX // 2))
            made = when(ing.created, "d")
            if made:
                parts.append(made)
        else:
            parts.append(t(locale, "verify.unsigned_ingredient"))
        lines.append(f"{'  ' * depth}- " + " · ".join(parts))
        lines.extend(ingredient_lines(ing.ingredients, locale, depth + 1))
    return lines


def fitted(head: Sequence[str], items: Sequence[str], more: Callable[[int], str], limit: int) -> str:
    """``head`` and as many of ``items`` as fit in ``limit`` characters, the rest counted by ``more``."""
    text = "\n".join(head)
    for i, item in enumerate(items):
        after = len(items) - i - 1
        tail = f"\n{more(after)}" if after else ""
        if len(text) + 1 + len(item) + len(tail) > limit:
            return f"{text}\n{more(len(items) - i)}"
        text = f"{text}\n{item}"
    return text


def verdict_description(verdict: Verdict, locale: str, guild_id: int) -> str:
    """What a verdict says, in the member's language, within an embed description's limit."""
    head = [t(locale, f"verify.status.{verdict.status}")]
    if verdict.status == "none":
        return head[0]
    if verdict.intact:
        head.append(signed_by(verdict, locale, guild_id))
    else:
        if verdict.failures:
            shown = ", ".join(f"`{plain(code, 60)}`" for code in verdict.failures[:FAILURES_SHOWN])
            hidden = len(verdict.failures) - FAILURES_SHOWN
            if hidden > 0:
                shown += " " + t(locale, "verify.more", count=hidden)
            head.append(t(locale, "verify.failures", codes=shown))
        head.append(t(locale, "verify.not_to_trust"))
        head.append(t(locale, "verify.claimed_signer", signer=signer_text(verdict, locale)))
    model = plain(verdict.model) if verdict.model else None
    if verdict.ai_generated:
        head.append(t(locale, "verify.ai", model=model) if model else t(locale, "verify.ai_unnamed"))
    elif model:
        head.append(t(locale, "verify.model", model=model))
    made = when(verdict.created)
    if made and verdict.software:
        head.append(t(locale, "verify.made_with", when=made, software=plain(verdict.software, 40)))
    elif made:
        head.append(t(locale, "verify.made", when=made))
    style = verdict.model_facts.get("style")
    if style:
        head.append(t(locale, "verify.style", style=plain(style, 200)))
    if verdict.authors:
        head.append(t(locale, "verify.authors", authors=plain(", ".join(verdict.authors), AUTHORS_MAX)))
    items = ingredient_lines(verdict.ingredients, locale)
    if items:
        head.append(t(locale, "verify.made_from"))
    return fitted(head, items, lambda count: t(locale, "verify.more", count=count), DESCRIPTION_MAX)


def verdict_embed(verdict: Verdict, title: str, locale: str, guild_id: int) -> discord.Embed:
    return discord.Embed(
        title=title,
        description=verdict_description(verdict, locale, guild_id),
        colour=COLOURS.get(verdict.status),
    )


class VerifyCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.readers = asyncio.Semaphore(READERS)

    @app_commands.command(
        name=_("verify", key="cmd.verify"),
        description=_(
            "Check a video's content credentials: who or what made it, and whether it changed since",
            key="cmd.verify.desc",
        ),
    )
    @app_commands.guild_only()
    @app_commands.rename(
        file=_("file", key="opt.verify_file"),
        clip=_("clip", key="opt.verify_clip"),
    )
    @app_commands.describe(
        file=_("A video file (MP4 or MOV) to check", key="opt.verify_file.desc"),
        clip=_("A clip of this server: its number, or a link to its message", key="opt.verify_clip.desc"),
    )
    async def verify(
        self,
        interaction: Interaction,
        file: discord.Attachment | None = None,
        clip: app_commands.Range[str, 1, REFERENCE_MAX] | None = None,
    ) -> None:
        # a refusal (RefusedError) is answered privately by the tree's one error path
        locale = interaction.locale.value
        assert interaction.guild_id is not None
        if file is None and clip is None:
            raise RefusedError(t(locale, "verify.neither"))
        if file is not None and clip is not None:
            raise RefusedError(t(locale, "verify.both"))
        suffix = None
        if file is not None:  # refused before anything is downloaded
            suffix = video_suffix(file.filename, file.content_type)
            if suffix is None:
                raise RefusedError(t(locale, "verify.not_video", name=plain(file.filename)))
            if file.size > MAX_BYTES:
                raise size_refusal(locale, file.filename, file.size)
        await think(interaction)  # private "thinking…": the store, a download and the check take a moment
        trust = await self.bot.store.credentials.trust()
        async with self.readers:
            if file is not None and suffix is not None:
                name = file.filename
                title = t(locale, "verify.title.file", name=plain(name))
                data = await self.download(interaction, file)
            else:
                assert clip is not None
                job = await self.clip(interaction, clip)
                media = await self.bot.store.jobs.get_media(job.id)
                if media is None:  # removed after the retention period (or lost)
                    raise RefusedError(t(locale, "verify.media_gone", job=job.id))
                name, suffix, data = f"videobot-{job.id}.mp4", ".mp4", media.video
                title = t(locale, "verify.title.clip", job=job.id)
            try:
                verdict = await asyncio.to_thread(trust.verdict, data, suffix)
            except UnreadableFile as exc:
                log.info("/verify: %s", exc)
                raise RefusedError(t(locale, "verify.unreadable", name=plain(name))) from exc
        await answer(interaction, embed=verdict_embed(verdict, title, locale, interaction.guild_id))

    async def download(self, interaction: Interaction, file: discord.Attachment) -> bytes:
        locale = interaction.locale.value
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("/verify could not download an attachment: %s", exc)
            raise RefusedError(t(locale, "verify.download_failed", name=plain(file.filename))) from exc
        if len(data) > MAX_BYTES:  # it said it was smaller
            raise size_refusal(locale, file.filename, len(data))
        return data

    async def clip(self, interaction: Interaction, text: str) -> Job:
        """The clip a member named, once it may be checked here; raises RefusedError."""
        locale = interaction.locale.value
        reference = clip_reference(text)
        if reference is None:
            raise RefusedError(t(locale, "bridge.not_a_clip", text=quoted_prompt(text, 100)))
        job_id = reference if isinstance(reference, int) else await self.linked_clip(interaction, reference)
        job = await self.bot.store.jobs.get(job_id)
        if (
            job is None
            or job.guild_id != interaction.guild_id
            or job.deleted
            or not await member_may_see(self.bot, interaction, job)  # as if it were not there
        ):
            raise RefusedError(t(locale, "error.unknown_job", job=job_id))
        if job.state in ("failed", "cancelled"):
            raise RefusedError(t(locale, "verify.ended", job=job.id))
        if job.state != "done" or job.message_id is None:
            raise RefusedError(t(locale, "verify.not_posted", job=job.id))
        if job.age_restricted and not is_age_restricted(interaction.channel):
            raise RefusedError(t(locale, "verify.age_restricted", job=job.id))
        return job

    async def linked_clip(self, interaction: Interaction, link: MessageLink) -> int:
        """The number of the clip a link to one of the bot's clip messages shows (its card's footer)."""
        return await linked_clip_number(self.bot, interaction, link, "verify.link_elsewhere")


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VerifyCog(bot))
