"""A posted clip: its message (header, embed, buttons) and what each button does.

Buttons are ``DynamicItem`` templates over custom ids such as ``vb:vote:<job>:up``: the id and the job
store hold all their state, so they work after a restart. Every button shares one base,
:class:`ClipButton`: its ``interaction_check`` finds the clip (on this server, not deleted, finished),
checks that the button is really on the message it was pressed on (a client can send any custom id)
and who may press it, and its callback gives every failure the same error path as a command.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import discord

from bot.i18n import t
from bot.replies import Interaction, answer, is_moderator, report_error
from bot.submit import extend_refusal, submit_or_explain
from bot.text import clip_embed, details_embed, header
from db.spec import PROMPT_MAX_CHARS, JobSpec
from db.store import Job, VoteCounts, VoteRefused

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
        await interaction.response.edit_message(view=clip_view(job.id, votes))
        interaction.client.dispatch("clip_votes", job, votes)


class RerollButton(ClipButton, template=r"vb:reroll:(?P<job>\d+)"):
    action = "reroll"
    emoji = "🔁"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        await submit_or_explain(interaction, replace(job.spec, seed=None), kind="reroll", parent=job)


FORM_TIMEOUT_S = 3600.0  # an abandoned form is forgotten after an hour


class PromptModal(discord.ui.Modal):
    """The form behind ✏️ and ➕: one prompt, prefilled with the clip's own, for a remix (the same
    seed: it differs from its parent by the words alone) or an extend (what happens next).

    discord.py keeps one open form per custom id, so each form's id ends in a nonce of its own: two
    members writing in the same clip's form are each answered and queued."""

    def __init__(self, parent: Job, locale: str, kind: Literal["remix", "extend"]) -> None:
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

    async def on_submit(self, interaction: Interaction) -> None:
        await submit_form(interaction, self.kind, self.parent.id, self.prompt.value)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:
        await report_error(interaction, error)


FORM_ID = re.compile(r"vb:(?P<kind>remix|extend)modal:(?P<job>\d+):[0-9a-f]+")


async def submit_form(
    interaction: Interaction, kind: Literal["remix", "extend"], parent_id: int, prompt: str
) -> None:
    """A Remix or Extend form sent: the clip it was opened on may be gone since."""
    parent = await interaction.client.store.jobs.get(parent_id)
    if parent is None or parent.deleted or parent.guild_id != interaction.guild_id:
        await answer(interaction, t(interaction.locale, "error.unknown_job", job=parent_id))
        return
    spec = extend_spec(parent, prompt) if kind == "extend" else replace(parent.spec, prompt=prompt)
    await submit_or_explain(interaction, spec, kind=kind, parent=parent)


def form_prompt(data: Any) -> str | None:
    """The text a member wrote in a sent form (its one text input), from the interaction's data."""
    for row in (data or {}).get("components", []):
        for component in row.get("components", [row]):
            if isinstance(component.get("value"), str):
                return str(component["value"])
    return None


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
    try:
        await submit_form(interaction, kind, int(found["job"]), prompt[:PROMPT_MAX_CHARS])
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
    )


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
        await interaction.response.send_modal(PromptModal(job, interaction.locale.value, "extend"))


class InfoButton(ClipButton, template=r"vb:info:(?P<job>\d+)"):
    action = "info"
    emoji = "ℹ️"

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        bot = interaction.client
        votes = await bot.store.votes.vote_counts(job.id)
        lineage = await bot.store.jobs.lineage(job.id)
        embed = details_embed(job, votes, interaction.locale.value, bot.model_title(job.model), lineage)
        await interaction.response.send_message(embed=embed, ephemeral=True)


class DeleteButton(ClipButton, template=r"vb:delete:(?P<job>\d+)"):
    action = "delete"
    emoji = "🗑️"
    owner_only = True

    async def pressed(self, interaction: Interaction, job: Job) -> None:
        await interaction.response.send_message(t(interaction.locale, "deleted", job=job.id), ephemeral=True)
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        await interaction.client.store.jobs.delete_clip(job.id)
        interaction.client.dispatch("clip_deleted", job)


CLIP_BUTTONS: tuple[type[ClipButton], ...] = (
    VoteButton,
    RerollButton,
    RemixButton,
    ExtendButton,
    InfoButton,
    DeleteButton,
)


def clip_view(job_id: int, votes: VoteCounts) -> discord.ui.View:
    """The buttons under a clip; the vote buttons show the counts."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(job_id, "up", votes.up))
    view.add_item(VoteButton(job_id, "down", votes.down))
    for button in (RerollButton, RemixButton, ExtendButton, InfoButton, DeleteButton):
        view.add_item(button(job_id))
    return view


def clip_message(
    bot: VideoBot, job: Job, votes: VoteCounts, lineage: Sequence[Job] = ()
) -> tuple[str, discord.Embed, discord.ui.View]:
    """Content, embed and buttons of a posted clip; ``lineage`` credits the chain it builds on."""
    return (
        header(job, job.locale),
        clip_embed(job, votes, job.locale, bot.model_title(job.model), lineage),
        clip_view(job.id, votes),
    )
