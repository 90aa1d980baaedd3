"""A posted clip: its message (header, embed, buttons) and what each button does.

Buttons are ``DynamicItem`` templates over custom ids such as ``vb:vote:<job>:up``: the id and the job
store hold all their state, so they work after a restart. Every button shares one base,
:class:`ClipButton`: its ``interaction_check`` finds the clip (on this server, not deleted, finished),
checks that the button is really on the message it was pressed on (a client can send any custom id)
and who may press it, and its callback gives every failure the same error path as a command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import secrets
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import discord
import imageio_ffmpeg

from bot.config import child_env
from bot.i18n import t
from bot.replies import Interaction, RefusedError, answer, is_moderator, report_error
from bot.submit import StartFrame, extend_refusal, submit_or_explain
from bot.text import clip_embed, details_embed, header, jump_url, where_in_queue
from bot.visibility import delete_clip_messages
from db.spec import PROMPT_MAX_CHARS, JobSpec
from db.store import Job, VoteCounts, VoteRefused
from db.store.retention import media_pruned
from db.store.styles import NAME_MAX as STYLE_NAME_MAX
from db.store.styles import Style

if TYPE_CHECKING:
    from bot.app import VideoBot


class ClipButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:(?P<action>\w+):(?P<job>\d+)"):
    """A button under a clip. Subclasses set ``action`` and ``emoji`` (and ``owner_only``) and
    implement :meth:`pressed`; the clip is looked up once, in ``interaction_check``."""

    action: ClassVar[str]
    emoji: ClassVar[str]
    owner_only: ClassVar[bool] = False  # only the clip's author or a moderator may press it

    def __init__(
        self, job_id: int, *, suffix: str = "", label: str | None = None, emoji: str | None = None
    ) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji=emoji or self.emoji,
                label=label,
                custom_id=f"vb:{self.action}:{job_id}{suffix}",
            )
        )
        self.job_id = job_id
        self.job: Job | None = None

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["job"]))

    async def interaction_check(self, interaction: Interaction) -> bool:
        locale = interaction.locale
        try:
            job = await interaction.client.store.jobs.get(self.job_id)
            if job is None or job.guild_id != interaction.guild_id or job.deleted:
                await answer(interaction, t(locale, "error.unknown_job", job=self.job_id))
                return False
            if job.state != "done":  # a queued or running job is stopped with /cancel
                await answer(interaction, t(locale, "error.not_done", job=self.job_id))
                return False
            if not await carries_button(interaction, job, self.item.custom_id):
                await answer(interaction, t(locale, "error.not_this_clip", job=self.job_id))
                return False
            if self.owner_only and job.user_id != interaction.user.id and not is_moderator(interaction):
                await answer(interaction, t(locale, "error.not_yours"))
                return False
        except Exception as error:
            await report_error(interaction, error)
            return False
        self.job = job
        return True

    async def callback(self, interaction: Interaction) -> None:
        assert self.job is not None
        try:
            await self.pressed(interaction, self.job)
        except Exception as error:
            await report_error(interaction, error)

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        raise NotImplementedError


async def carries_button(interaction: Interaction, job: Job, custom_id: str | None) -> bool:
    """Whether the button was pressed on a message of this clip: its own message, or one of the
    bot's that shows this very button (a /show of it), asked of Discord, not of the payload, which a
    client can forge."""
    pressed_on = interaction.message
    if pressed_on is None or custom_id is None:
        return False
    if pressed_on.id == job.message_id:
        return True
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        return False
    try:
        message = await channel.fetch_message(pressed_on.id)
    except (discord.NotFound, discord.Forbidden):
        return False
    client_user = interaction.client.user
    return (
        client_user is not None
        and message.author.id == client_user.id
        and any(
            getattr(child, "custom_id", None) == custom_id
            for row in message.components
            for child in getattr(row, "children", ())
        )
    )


class VoteButton(ClipButton, template=r"vb:vote:(?P<job>\d+):(?P<dir>up|down)"):
    action = "vote"
    emoji = "👍"

    def __init__(self, job_id: int, direction: str, count: int = 0) -> None:
        emoji = "👍" if direction == "up" else "👎"
        super().__init__(job_id, suffix=f":{direction}", label=str(count), emoji=emoji)
        self.direction = direction

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["job"]), match["dir"])

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        refusal = await interaction.client.vote_refusal(interaction, job)
        if refusal is not None:
            await answer(interaction, refusal)
            return
        try:
            votes = await interaction.client.store.votes.vote(
                job.id, interaction.user.id, 1 if self.direction == "up" else -1, toggle=True
            )
        except VoteRefused as refused:
            await answer(interaction, t(interaction.locale, f"vote.{refused.code}", **refused.params))
            return
        await interaction.response.edit_message(view=view_of(interaction.client, job, votes))
        interaction.client.dispatch("clip_votes", job, votes)


class RerollButton(ClipButton, template=r"vb:reroll:(?P<job>\d+)"):
    action = "reroll"
    emoji = "🔁"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        # the same prompt, as the model enhanced it for the clip (not enhanced again), and a new seed
        spec = replace(job.spec.reusing(job.enhanced_prompt), seed=None)
        await submit_or_explain(interaction, spec, kind="reroll", parent=job)


FORM_TIMEOUT_S = 3600.0  # an abandoned form is forgotten after an hour


class PromptModal(discord.ui.Modal):
    """The form behind ✏️ and ➕: one prompt, prefilled with the clip's own, for a remix (the same
    seed: it differs from its parent by the words alone) or an extend (what happens next).

    discord.py keeps one open form per custom id, so each form's id ends in a nonce of its own: two
    members writing in the same clip's form are each answered and queued."""

    def __init__(
        self, parent: Job, locale: str, kind: Literal["remix", "extend"], style: str | None = None
    ) -> None:
        super().__init__(
            title=t(locale, f"{kind}.title", job=parent.id),
            custom_id=f"vb:{kind}modal:{parent.id}:{secrets.token_hex(8)}",
            timeout=FORM_TIMEOUT_S,
        )
        self.parent = parent
        self.kind = kind
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label=t(locale, f"{kind}.prompt"),
            style=discord.TextStyle.paragraph,
            default=parent.spec.prompt[:PROMPT_MAX_CHARS],
            max_length=PROMPT_MAX_CHARS,
        )
        self.add_item(self.prompt)
        # an extend keeps its clip's style unless the member names another, or none (left empty)
        self.style: discord.ui.TextInput[PromptModal] | None = None
        if kind == "extend":
            self.style = discord.ui.TextInput(
                label=t(locale, "extend.style"),
                style=discord.TextStyle.short,
                default=style or "",
                required=False,
                max_length=STYLE_NAME_MAX,
            )
            self.add_item(self.style)

    async def on_submit(self, interaction: Interaction) -> None:
        style = self.style.value if self.style is not None else None
        await submit_form(interaction, self.kind, self.parent.id, self.prompt.value, style)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:
        await report_error(interaction, error)


FORM_ID = re.compile(r"vb:(?P<kind>remix|extend)modal:(?P<job>\d+):[0-9a-f]+")


async def submit_form(
    interaction: Interaction,
    kind: Literal["remix", "extend"],
    parent_id: int,
    prompt: str,
    style: str | None = None,
) -> None:
    """A Remix or Extend form sent: the clip it was opened on may be gone since. ``style``: what the
    Extend form's style field says (None for a form without one: the clip's style is kept)."""
    parent = await interaction.client.store.jobs.get(parent_id)
    if parent is None or parent.deleted or parent.guild_id != interaction.guild_id:
        await answer(interaction, t(interaction.locale, "error.unknown_job", job=parent_id))
        return
    spec = extend_spec(parent, prompt) if kind == "extend" else replace(parent.spec, prompt=prompt)
    chosen = None
    if style is not None:
        kept = await style_name(interaction.client, parent)
        if not style.strip():  # emptied: the extend has no style
            spec = replace(spec, loras=(), style=None, trigger="")
        elif style.strip().casefold() != (kept or "").casefold():  # another of the server's styles
            spec, chosen = replace(spec, loras=(), style=None, trigger=""), style.strip()
    await submit_or_explain(interaction, spec, kind=kind, parent=parent, style=chosen)


async def style_name(bot: VideoBot, clip: Job) -> str | None:
    """The name of ``clip``'s style in the server's library, or None (no style, or removed since)."""
    if clip.spec.style is None:
        return None
    style = await bot.store.styles.get(clip.spec.style)
    return style.name if style is not None and style.deleted_at is None else None


def form_values(data: Any) -> list[str]:
    """The texts a member wrote in a sent form, in the form's order, from the interaction's data."""
    found = []
    for row in (data or {}).get("components", []):
        for component in row.get("components", [row]):
            if isinstance(component.get("value"), str):
                found.append(str(component["value"]))
    return found


def form_prompt(data: Any) -> str | None:
    """The prompt a member wrote in a sent form (its first text input), from the interaction's data."""
    values = form_values(data)
    return values[0] if values else None


async def answer_forgotten_form(interaction: Interaction) -> bool:
    """A Remix or Extend form sent after discord.py forgot it (the bot restarted, or the form was
    open for more than an hour) is answered all the same, from its id and its text: the member's
    words are not lost to "This interaction failed". True when it was such a form."""
    if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
        return False
    found = FORM_ID.fullmatch(str(interaction.data.get("custom_id", "")))
    if found is None:
        return False
    # discord.py answers the forms it still holds (PromptModal.on_submit); it has no public way to ask
    held = getattr(getattr(interaction.client._connection, "_view_store", None), "_modals", {})
    if found[0] in held:
        return False
    prompt = form_prompt(interaction.data)
    if not prompt:  # Discord sends the text a form requires: anything else is not one of ours
        return False
    kind: Literal["remix", "extend"] = "extend" if found["kind"] == "extend" else "remix"
    values = form_values(interaction.data)
    style = values[1][:STYLE_NAME_MAX] if kind == "extend" and len(values) > 1 else None
    try:
        await submit_form(interaction, kind, int(found["job"]), prompt[:PROMPT_MAX_CHARS], style)
    except Exception as error:
        await report_error(interaction, error)
    return True


class RemixButton(ClipButton, template=r"vb:remix:(?P<job>\d+)"):
    action = "remix"
    emoji = "✏️"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        await interaction.response.send_modal(PromptModal(job, interaction.locale.value, "remix"))


def extend_spec(parent: Job, prompt: str) -> JobSpec:
    """A continuation of ``parent``: its model, size and negative prompt, a new seed and the model's
    default length for the part that is added."""
    return replace(
        parent.spec,
        prompt=prompt,
        seed=None,
        seconds=None,
        start_image=False,
        image_ref=None,
        continues=parent.id,
        upscales=None,
        bridges_to=None,  # an extend of a bridge goes on from the whole, it does not bridge again
        end_image=False,  # what is added goes on from the clip: not to the clip's own end picture
        end_image_ref=None,
        loop=False,
    )


def hd_spec(draft: Job) -> JobSpec:
    """The HD version of ``draft``: its model, prompt, seed and aspect, at the preset's full size; made
    from the draft itself (its latents or frames), not from its picture or its parent again."""
    spec = draft.spec.reusing(draft.enhanced_prompt)  # refined with the text the draft was rendered from
    return replace(
        spec, upscales=draft.id, continues=None, bridges_to=None, start_image=False, image_ref=None
    )


def offers_hd(bot: VideoBot, job: Job) -> bool:
    """Whether a clip shows ⬆️ HD: a draft of a preset with an upsampler (not an HD version itself)."""
    preset = bot.catalog.get(job.model)
    return job.kind != "hd" and preset is not None and preset.has_hd


async def hd_exists(bot: VideoBot, parent: Job, hd: Job, locale: str) -> str:
    """What a member who asks for an HD version that exists is told: where it is, or where it stands."""
    if hd.state == "done":
        if hd.message_id is None:
            return t(locale, "hd.exists_unposted", parent=parent.id, job=hd.id)
        return t(locale, "hd.exists_done", parent=parent.id, link=jump_url(hd))
    if hd.state == "running":
        return t(locale, "hd.exists_running", parent=parent.id, job=hd.id)
    position = await bot.store.jobs.queue_position(hd.id)
    where = where_in_queue(position.position, position.eta_s, locale)
    return t(locale, "hd.exists_queued", parent=parent.id, job=hd.id, where=where)


class HDButton(ClipButton, template=r"vb:hd:(?P<job>\d+)"):
    """Anyone may ask for a draft's HD version; it is queued fairly and charged to whoever asked. One
    per clip: a second press shows the one there is."""

    action = "hd"
    emoji = "⬆️"

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="HD")

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        bot = interaction.client
        locale = interaction.locale.value
        if not offers_hd(bot, job):  # a button left from an older preset file, or a forged one
            await answer(interaction, t(locale, "hd.unavailable", model=bot.model_title(job.model)))
            return
        existing = await bot.store.jobs.hd_of(job.id)
        if existing is not None:
            await answer(interaction, await hd_exists(bot, job, existing, locale))
            return
        if media_pruned(job):  # retention removed the draft's video: there is nothing to finish
            days = f"{bot.config.media_days:g}"
            await answer(interaction, t(locale, "retention.hd_gone", job=job.id, days=days))
            return
        await submit_or_explain(interaction, hd_spec(job), kind="hd", parent=job)


def offers_loop(bot: VideoBot, job: Job) -> bool:
    """Whether a clip shows ♾️ Loop: a clip of a preset that makes loops, not a loop itself and not an
    HD version (loop its draft, as it is rerolled and remixed)."""
    preset = bot.catalog.get(job.model)
    return job.kind != "hd" and not job.spec.loop and preset is not None and "loop" in preset.modes


def loop_spec(clip: Job) -> JobSpec:
    """A looping version of ``clip``: its model, prompt (as rendered), seed, length and size, ending on
    its own first frame; the picture it started from, if any, is that first frame again."""
    spec = clip.spec.reusing(clip.enhanced_prompt)
    return replace(
        spec,
        loop=True,
        end_image=False,
        end_image_ref=None,
        continues=None,
        upscales=None,
        bridges_to=None,
    )


FRAME_TIMEOUT_S = 60.0


def first_frame(video: bytes) -> bytes:
    """The first frame of an mp4 as a PNG (ffmpeg, the binary bundled by imageio-ffmpeg, as for
    films). Raises ValueError when there is none to read. Blocking: run it in a thread."""
    with tempfile.TemporaryDirectory(prefix="videobot-frame-") as folder:
        source = Path(folder) / "clip.mp4"
        source.write_bytes(video)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-i", str(source)]
        cmd += ["-map", "0:v:0", "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"]
        try:
            done = subprocess.run(
                cmd, capture_output=True, timeout=FRAME_TIMEOUT_S, check=False, env=child_env()
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(f"ffmpeg did not run: {exc}") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"no first frame ({lines[-1] if lines else done.returncode})")
    return done.stdout


async def clip_first_frame(bot: VideoBot, clip: Job, locale: str) -> bytes:
    """``clip``'s first frame as a PNG, for a loop that starts on it; RefusedError when its video cannot
    be read."""
    media = await bot.store.jobs.get_media(clip.id)
    if media is None or not media.video:
        raise RefusedError(t(locale, "error.media_gone", job=clip.id))
    try:
        return await asyncio.to_thread(first_frame, media.video)
    except ValueError as exc:
        raise RefusedError(t(locale, "loop.no_frame", job=clip.id)) from exc


class LoopButton(ClipButton, template=r"vb:loop:(?P<job>\d+)"):
    """A looping version of a clip, from its first frame, posted in its thread: anyone may ask, and it
    is queued fairly and charged to whoever asked. A clip that started from a picture loops that
    picture; one from text starts on its first frame as posted (a preset that cannot start from a
    picture renders a loop of its own from the clip's prompt and seed)."""

    action = "loop"
    emoji = "♾️"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        bot = interaction.client
        locale = interaction.locale.value
        preset = bot.catalog.get(job.model)
        if not offers_loop(bot, job) or preset is None:  # left from an older preset file, or forged
            await answer(interaction, t(locale, "loop.unavailable", model=bot.model_title(job.model)))
            return
        spec = loop_spec(job)
        frame: StartFrame | None = None
        if not spec.start_image and "image" in preset.modes:
            if media_pruned(job):  # retention removed the clip's video: there is no first frame to take
                days = f"{bot.config.media_days:g}"
                await answer(interaction, t(locale, "retention.loop_gone", job=job.id, days=days))
                return
            frame = functools.partial(clip_first_frame, bot, job, locale)  # taken once every check passed
        await submit_or_explain(interaction, spec, kind="loop", parent=job, start_frame=frame)


class ExtendButton(ClipButton, template=r"vb:extend:(?P<job>\d+)"):
    """Anyone may extend anyone's clip; the extend is queued fairly and charged to the extender."""

    action = "extend"
    emoji = "➕"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        settings = await interaction.client.store.settings.get_settings(job.guild_id)
        refusal = await extend_refusal(interaction, job, settings)
        if refusal is not None:  # say so before the member writes a prompt
            await answer(interaction, refusal)
            return
        style = await style_name(interaction.client, job)  # kept unless the member names another
        await interaction.response.send_modal(PromptModal(job, interaction.locale.value, "extend", style))


class InfoButton(ClipButton, template=r"vb:info:(?P<job>\d+)"):
    action = "info"
    emoji = "ℹ️"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        bot = interaction.client
        votes = await bot.store.votes.vote_counts(job.id)
        lineage = await bot.store.jobs.lineage(job.id)
        style = await style_of(bot, job)
        embed = details_embed(
            job, votes, interaction.locale.value, bot.model_title(job.model), lineage, style
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


class DeleteButton(ClipButton, template=r"vb:delete:(?P<job>\d+)"):
    action = "delete"
    emoji = "🗑️"
    owner_only = True

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        """The clip goes everywhere: the message pressed on, its original message and every copy /show
        posted (:func:`bot.visibility.delete_clip_messages`), and its files."""
        await interaction.response.send_message(t(interaction.locale, "deleted", job=job.id), ephemeral=True)
        pressed_on = interaction.message.id if interaction.message is not None else None
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        await interaction.client.store.jobs.delete_clip(job.id)
        await delete_clip_messages(interaction.client, job, besides=pressed_on)
        interaction.client.dispatch("clip_deleted", job)


CLIP_BUTTONS: tuple[type[ClipButton], ...] = (
    VoteButton,
    RerollButton,
    RemixButton,
    ExtendButton,
    HDButton,
    LoopButton,
    InfoButton,
    DeleteButton,
)


def clip_view(
    job_id: int, votes: VoteCounts, *, hd: bool = False, is_hd: bool = False, loop: bool = False
) -> discord.ui.View:
    """The buttons under a clip; the vote buttons show the counts. ``hd``: a draft that offers ⬆️ HD;
    ``is_hd``: an HD version, which is voted on, extended, explained and deleted, not rerolled or
    remixed (those are the draft's); ``loop``: a clip of a preset that makes loops (♾️ Loop)."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(job_id, "up", votes.up))
    view.add_item(VoteButton(job_id, "down", votes.down))
    buttons: list[type[ClipButton]] = [ExtendButton] if is_hd else [RerollButton, RemixButton, ExtendButton]
    if hd:
        buttons.append(HDButton)
    if loop:
        buttons.append(LoopButton)
    for button in (*buttons, InfoButton, DeleteButton):
        view.add_item(button(job_id))
    return view


def view_of(bot: VideoBot, job: Job, votes: VoteCounts) -> discord.ui.View:
    """:func:`clip_view` for ``job``, with the buttons its kind and model call for."""
    return clip_view(
        job.id, votes, hd=offers_hd(bot, job), is_hd=job.kind == "hd", loop=offers_loop(bot, job)
    )


async def style_of(bot: VideoBot, job: Job) -> Style | None:
    """The style a clip was made with, for its credit (a style removed since is credited still)."""
    if job.spec.style is None:
        return None
    style = await bot.store.styles.get(job.spec.style)
    return style if style is not None and style.guild_id == job.guild_id else None


def clip_message(
    bot: VideoBot, job: Job, votes: VoteCounts, lineage: Sequence[Job] = (), style: Style | None = None
) -> tuple[str, discord.Embed, discord.ui.View]:
    """Content, embed and buttons of a posted clip; ``lineage`` credits the chain it builds on and
    ``style`` (:func:`style_of`) the style it was made with."""
    return (
        header(job, job.locale),
        clip_embed(job, votes, job.locale, bot.model_title(job.model), lineage, style),
        view_of(bot, job, votes),
    )
