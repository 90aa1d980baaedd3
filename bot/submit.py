"""Queue a clip for a member: check it against the server's rules and the presets, store it fairly,
tell the member where it stands, and post its status message. Every way of asking for a clip goes
through here (/video, reroll, remix, and the features built on them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.i18n import t
from bot.pictures import PictureRefused, check_picture, check_size
from bot.replies import Interaction, PromptAck, RefusedError, answer
from bot.status import post_status
from bot.text import quoted_prompt, where_in_queue
from db.cost import estimate_gpu_seconds
from db.spec import JobSpec, SpecError, clean_prompt, resolve_spec
from db.store import CapExceeded, Job, JobKind
from db.store.jobs import Submission
from db.store.retention import media_pruned
from db.store.workers import WORKER_MAX_AGE_S

if TYPE_CHECKING:
    from db.presets import PresetCatalog
    from db.store import GuildSettings, WorkerInfo
    from db.store.styles import Style


# a first frame the bot makes itself once every check has passed (PNG bytes); raises RefusedError
StartFrame = Callable[[], Awaitable[bytes]]


def role_ids(member: discord.abc.User) -> list[int]:
    return [role.id for role in getattr(member, "roles", [])]


def is_age_restricted(channel: object) -> bool:
    """Discord's age-restricted (NSFW) flag of a channel; a thread's is its parent channel's. False
    for a channel the bot cannot tell about (not cached, not a guild channel)."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw is not None and is_nsfw())


def check_rules(interaction: Interaction, settings: GuildSettings, spec: JobSpec, *, in_thread: bool) -> None:
    """The server's rules for a new clip (channel, blocked words); raises RefusedError."""
    locale = interaction.locale.value
    assert interaction.channel_id is not None
    # a thread follows its parent channel's rule (a challenge's thread, a clip's own thread)
    rule_channel = getattr(interaction.channel, "parent_id", None) or interaction.channel_id
    if not in_thread and not settings.allows_channel(rule_channel):
        channels = ", ".join(f"<#{c}>" for c in settings.allowed_channel_ids)
        raise RefusedError(t(locale, "error.channel", channels=channels))
    # the words as they will be rendered: a zero-width space inside a word does not hide it
    word = settings.blocked_word_in(f"{clean_prompt(spec.prompt)}\n{clean_prompt(spec.negative_prompt)}")
    if word is not None and not (settings.nsfw_allowed and is_age_restricted(interaction.channel)):
        raise RefusedError(t(locale, "error.blocked_word", word=word))


# what the bot needs where it posts a clip: to see the channel, post its status message (in a thread that
# is Send Messages in Threads), upload the video and show its card; the catalog names each for an admin
POST_PERMISSIONS = ("view_channel", "send_messages", "attach_files", "embed_links")
THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


def missing_permissions(permissions: discord.Permissions, *, thread: bool) -> list[str]:
    """The permissions (discord.py's names) the bot lacks to post a clip with ``permissions`` in a
    channel (``thread``: in a thread, where Send Messages in Threads counts instead of Send Messages)."""
    in_threads = {"send_messages": "send_messages_in_threads"} if thread else {}
    wanted = [in_threads.get(name, name) for name in POST_PERMISSIONS]
    return [name for name in wanted if not getattr(permissions, name)]


def check_may_post(interaction: Interaction, channel_id: int, parent: Job | None) -> None:
    """Refuse a clip the bot could not post in ``channel_id`` (raises RefusedError naming what is
    missing, for an admin). Discord sends the bot's permissions in the interaction's channel: they decide
    for a clip posted there, or in the thread of a clip there (a thread follows its channel's
    permissions); another channel's are not known here, and its post is the delivery loop's to retry."""
    assert interaction.channel_id is not None
    if channel_id == interaction.channel_id:
        thread = getattr(interaction.channel, "type", None) in THREAD_TYPES
    elif parent is not None and (channel_id, interaction.channel_id) == (parent.thread_id, parent.channel_id):
        thread = True  # the thread of the clip pressed on in its channel
    else:
        return
    missing = missing_permissions(interaction.app_permissions, thread=thread)
    if missing:
        locale = interaction.locale.value
        names = ", ".join(t(locale, f"perm.{name}") for name in missing)
        raise RefusedError(t(locale, "error.bot_permissions", missing=names))


def posted_in(interaction: Interaction, parent: Job | None, age_restricted: bool) -> int:
    """Where a new clip is posted: where it was asked for; one built on a clip, in that clip's thread
    (or channel), except one asked for in an age-restricted channel on a clip of an ordinary channel
    shown there again (/show): it stays where it was asked, so it never lands in an ordinary channel."""
    assert interaction.channel_id is not None
    if parent is None:
        return interaction.channel_id
    at_home = interaction.channel_id in (parent.channel_id, parent.thread_id)
    if at_home or parent.age_restricted or not age_restricted:
        return parent.thread_id or parent.channel_id
    return interaction.channel_id


RECONNECT_WINDOW_S = 300.0  # a worker silent this long may still be one waiting out a store outage


def workers_note(workers: list[WorkerInfo], locale: str, recent: list[WorkerInfo] | None = None) -> str:
    """A line for the member when no GPU worker is ready yet: one is starting, one was seen a moment ago
    (``recent``: a worker waiting out an outage of the store renews its row only once it reaches it
    again, seconds after the store is back), or none is online."""
    if any(w.state == "ready" for w in workers):
        return ""
    if any(w.state == "starting" for w in workers):
        return "\n" + t(locale, "queued.worker_starting")
    if recent:
        return "\n" + t(locale, "queued.worker_reconnecting")
    return "\n" + t(locale, "queued.no_workers")


def modes_asked(
    *,
    image: bool = False,
    continues: bool = False,
    end: bool = False,
    loop: bool = False,
    bridge: bool = False,
) -> set[str]:
    """The preset modes (``db.presets.MODES``) a clip needs: text always, and what it starts from,
    continues, ends on, or joins (a bridge continues one clip and ends on another)."""
    wanted = {"text"}
    for mode, asked in (
        ("image", image),
        ("continue", continues or bridge),
        ("end", end),
        ("loop", loop),
        ("bridge", bridge),
    ):
        if asked:
            wanted.add(mode)
    return wanted


def spec_modes(spec: JobSpec) -> set[str]:
    """The preset modes ``spec`` needs."""
    return modes_asked(
        image=spec.start_image,
        continues=spec.continues is not None,
        end=spec.end_image,
        loop=spec.loop,
        bridge=spec.bridges_to is not None,
    )


def default_model(catalog: PresetCatalog, served: list[str], spec: JobSpec) -> str:
    """The model a member gets without choosing: the installation's default when it can do what the
    spec asks and a worker serves it (or none is online yet), else the first preset that can and is
    served (any that can, with no worker online); the default when none can (resolve_spec then says
    which models could)."""
    wanted = spec_modes(spec)
    default = catalog.get(catalog.default)
    if (not served or catalog.default in served) and (default is None or wanted <= set(default.modes)):
        return catalog.default
    able = [p.name for p in catalog if (not served or p.name in served) and wanted <= set(p.modes)]
    return able[0] if able else catalog.default


def style_refusal(style: Style, catalog: PresetCatalog, model: str, locale: str) -> str | None:
    """Why a clip of ``model`` cannot be made with ``style``: it is broken (a worker could not load it),
    or it fits other models (another family of presets); None when it may. An unknown model is
    resolve_spec's to refuse."""
    name = quoted_prompt(style.name, 100)
    if style.broken:
        return t(locale, "style.broken", name=name)
    preset = catalog.get(model)
    if preset is None or preset.family == style.family:
        return None
    fits = ", ".join(p.title for p in catalog if p.family == style.family) or style.preset
    return t(locale, "style.wrong_model", name=name, fits=fits, model=preset.title)


async def with_style(
    interaction: Interaction, spec: JobSpec, style_name: str | None, parent: Job | None
) -> JobSpec:
    """``spec`` with its style's LoRA, scale and trigger words, as the server's library has them now:
    the style a member chose by name, or the one a reroll, remix or extend keeps from its clip
    (``spec.style``). Raises RefusedError for a style that is not there, removed, broken, or made
    for another model; ``spec.model`` is chosen already."""
    if style_name is None and spec.style is None:
        return spec
    store = interaction.client.store
    locale = interaction.locale.value
    assert interaction.guild_id is not None and spec.model is not None
    if style_name is not None:
        style = await store.styles.named(interaction.guild_id, style_name.strip())
        if style is None:
            raise RefusedError(t(locale, "style.unknown", name=quoted_prompt(style_name, 100)))
    else:
        assert spec.style is not None
        style = await store.styles.get(spec.style)
        if style is None or style.guild_id != interaction.guild_id or style.deleted_at is not None:
            if parent is not None:
                raise RefusedError(t(locale, "style.gone", job=parent.id))
            name = quoted_prompt(style.name if style is not None else str(spec.style), 100)
            raise RefusedError(t(locale, "style.gone_new", name=name))
    refusal = style_refusal(style, interaction.client.catalog, spec.model, locale)
    if refusal is not None:
        raise RefusedError(refusal)
    return replace(spec, loras=((style.source, style.scale),), style=style.id, trigger=style.trigger)


async def extend_refusal(interaction: Interaction, parent: Job, settings: GuildSettings) -> str | None:
    """Why ``parent`` may not be extended on this server (its chain is at the cap), or None."""
    locale = interaction.locale.value
    fresh = await interaction.client.store.jobs.get(parent.id)  # media retention may have removed its mp4
    if fresh is not None and media_pruned(fresh):
        days = f"{interaction.client.config.media_days:g}"
        return t(locale, "retention.extend_gone", job=parent.id, days=days)
    if settings.max_extends == 0:
        return t(locale, "extend.off")
    done = await interaction.client.store.jobs.extends_in_chain(parent.id)
    if done >= settings.max_extends:
        return t(locale, "extend.limit", limit=settings.max_extends)
    return None


async def joined_refusal(interaction: Interaction, spec: JobSpec) -> str | None:
    """Why a clip that would hold other clips' frames (an extend, a bridge, or a reroll or remix of
    one: they join the same clips again) cannot be made now: one of them was deleted, or retention
    removed its video. None when it can, or when it joins no clip."""
    locale = interaction.locale.value
    for clip_id in (spec.continues, spec.bridges_to):
        if clip_id is None:
            continue
        clip = await interaction.client.store.jobs.get(clip_id)
        if clip is None or clip.deleted or clip.guild_id != interaction.guild_id:
            return t(locale, "error.unknown_job", job=clip_id)
        if media_pruned(clip):
            return t(locale, "error.media_gone", job=clip_id)
    return None


def refused_picture(locale: str, refused: PictureRefused) -> RefusedError:
    return RefusedError(t(locale, f"picture.{refused.code}", **refused.params))


async def read_picture(interaction: Interaction, picture: discord.Attachment) -> tuple[bytes, str]:
    """Download and check a member's picture: its bytes and stored extension. Raises RefusedError."""
    data = await picture.read()
    try:
        extension = await asyncio.to_thread(check_picture, data)
    except PictureRefused as refused:
        raise refused_picture(interaction.locale.value, refused) from refused
    return data, extension


async def store_picture(interaction: Interaction, picture: discord.Attachment) -> str:
    """Download, check and store a member's picture; its reference. Raises RefusedError."""
    data, extension = await read_picture(interaction, picture)
    return await interaction.client.store.jobs.put_input(data, extension)


def check_attachment_size(locale: str, picture: discord.Attachment | None) -> None:
    """Refuse an attached picture that is too big, before downloading anything; raises RefusedError."""
    if picture is None:
        return
    try:
        check_size(picture.size)
    except PictureRefused as refused:
        raise refused_picture(locale, refused) from refused


async def submit(
    interaction: Interaction,
    spec: JobSpec,
    *,
    kind: JobKind = "new",
    parent: Job | None = None,
    picture: discord.Attachment | None = None,
    end_picture: discord.Attachment | None = None,
    start_frame: StartFrame | None = None,
    style: str | None = None,
) -> Job:
    """Check and queue a clip, answer the member, post the status message. ``picture`` becomes the
    clip's first frame and ``end_picture`` its last; ``start_frame`` makes the first frame when every
    check has passed (a loop of a clip starts on the clip's own first frame); an extend (``kind``)
    continues ``parent``; ``style`` is the name of one of the server's styles (a clip built on another
    keeps that one's: ``spec.style``).

    Answers within a second or acknowledges first, so the 3-second deadline never waits for the job
    store. Raises RefusedError (nothing queued, nothing stored) with the reason in the member's language."""
    bot = interaction.client
    locale = interaction.locale.value
    if interaction.guild_id is None or interaction.channel_id is None:
        raise RefusedError(t(locale, "error.guild_only"))
    # members choose among the presets; folders and hub ids are for the operator (no probing the host)
    if spec.model is not None and spec.model not in bot.catalog:
        choices = ", ".join(bot.catalog.names())
        raise RefusedError(t(locale, "spec.unknown_model", model=spec.model[:100], choices=choices))
    check_attachment_size(locale, picture)  # before downloading anything
    check_attachment_size(locale, end_picture)
    if picture is not None or start_frame is not None:
        spec = replace(spec, start_image=True)
    if end_picture is not None:
        spec = replace(spec, end_image=True)
    # the member's answer as the interaction's one response when it is ready within a second, as it
    # is unless the job store is slow; "thinking…" first otherwise, so Discord's 3-s deadline is kept
    async with PromptAck(interaction) as ack:
        return await queue_and_answer(
            interaction,
            ack,
            spec,
            kind=kind,
            parent=parent,
            picture=picture,
            end_picture=end_picture,
            start_frame=start_frame,
            style=style,
        )


async def queue_and_answer(
    interaction: Interaction,
    ack: PromptAck,
    spec: JobSpec,
    *,
    kind: JobKind,
    parent: Job | None,
    picture: discord.Attachment | None,
    end_picture: discord.Attachment | None = None,
    start_frame: StartFrame | None = None,
    style: str | None = None,
) -> Job:
    """The rest of :func:`submit`, once the interaction is in ``ack``'s hands."""
    bot = interaction.client
    locale = interaction.locale.value
    assert interaction.guild_id is not None and interaction.channel_id is not None
    age_restricted = is_age_restricted(interaction.channel)
    channel_id = posted_in(interaction, parent, age_restricted)
    check_may_post(interaction, channel_id, parent)  # before anything is stored: nothing would arrive
    settings = await bot.store.settings.get_settings(interaction.guild_id)
    # a clip posted with the clip it is built on (its thread) follows that one; one posted where it was
    # asked for (a clip /show-n there again) follows that channel's rule, as /video there would
    at_home = parent is not None and channel_id in (parent.thread_id, parent.channel_id)
    check_rules(interaction, settings, spec, in_thread=at_home)
    if not settings.sound:
        spec = replace(spec, audio=False)
    if kind == "extend" and parent is not None:
        refusal = await extend_refusal(interaction, parent, settings)
        if refusal is not None:
            raise RefusedError(refusal)
    refusal = await joined_refusal(interaction, spec)
    if refusal is not None:
        raise RefusedError(refusal)
    # one read: the live workers, and those silent a moment ago (perhaps waiting out a store outage)
    seen = await bot.store.workers.live_workers(max_age_s=RECONNECT_WINDOW_S)
    workers = [w for w in seen if w.last_seen >= bot.store.clock() - WORKER_MAX_AGE_S]
    served = sorted({m for w in workers if w.state != "paused" for m in w.models})
    if spec.model is None:  # "the default": the installation's, else the first preset a worker serves
        spec = replace(spec, model=default_model(bot.catalog, served, spec))
    spec = await with_style(interaction, spec, style, parent)  # before the estimate: a LoRA costs a little
    try:
        plan = resolve_spec(spec, bot.catalog)
    except SpecError as exc:
        raise RefusedError(t(locale, f"spec.{exc.code}", **exc.params)) from exc
    if served and plan.spec.model not in served:
        raise RefusedError(
            t(locale, "error.model_offline", model=plan.preset.title, choices=", ".join(served))
        )
    # fitted to this server's upload limit (Discord sends it with the interaction; boosts raise it)
    job_spec = replace(plan.spec, upload_limit=interaction.filesize_limit)
    # a reroll or remix of a clip that started or ended on a picture: retention may have removed it
    if parent is not None:
        days = f"{bot.config.media_days:g}"
        inherited = job_spec.image_ref if picture is None and start_frame is None else None
        if inherited is not None and await bot.store.jobs.get_input(inherited) is None:
            raise RefusedError(t(locale, "retention.picture_gone", job=parent.id, days=days))
        inherited = job_spec.end_image_ref if end_picture is None else None
        if inherited is not None and await bot.store.jobs.get_input(inherited) is None:
            raise RefusedError(t(locale, "retention.end_picture_gone", job=parent.id, days=days))
    # both pictures downloaded and checked before either is stored: a refused one leaves nothing behind
    first = await read_picture(interaction, picture) if picture is not None else None
    last = await read_picture(interaction, end_picture) if end_picture is not None else None
    if start_frame is not None:
        first = (await start_frame(), "png")
    if first is not None:
        job_spec = replace(job_spec, image_ref=await bot.store.jobs.put_input(*first))
    if last is not None:
        job_spec = replace(job_spec, end_image_ref=await bot.store.jobs.put_input(*last))
    try:
        # stored and committed before the member hears of it; a burst shares transactions
        job, position = await bot.store.jobs.enqueue_and_place(
            Submission(
                interaction.guild_id,
                channel_id,
                interaction.user.id,
                job_spec,
                estimate_gpu_seconds(plan),
                weight=settings.weight_for_roles(role_ids(interaction.user)),
                parent_id=parent.id if parent else None,
                kind=kind,
                locale=locale,
                age_restricted=age_restricted,
            )
        )
    except CapExceeded as exc:
        raise RefusedError(t(locale, f"cap.{exc.code}", **exc.params)) from exc
    where = where_in_queue(position.position, position.eta_s, locale)
    live = {w.worker_id for w in workers}
    recent = [w for w in seen if w.worker_id not in live and w.state != "paused"]
    await ack.answer(t(locale, "queued.ack", job=job.id, where=where) + workers_note(workers, locale, recent))
    await post_status(bot, job, channel_id, position)
    return job


async def submit_or_explain(
    interaction: Interaction,
    spec: JobSpec,
    *,
    kind: JobKind = "new",
    parent: Job | None = None,
    picture: discord.Attachment | None = None,
    end_picture: discord.Attachment | None = None,
    start_frame: StartFrame | None = None,
    style: str | None = None,
) -> None:
    try:
        await submit(
            interaction,
            spec,
            kind=kind,
            parent=parent,
            picture=picture,
            end_picture=end_picture,
            start_frame=start_frame,
            style=style,
        )
    except RefusedError as refused:
        await answer(interaction, str(refused))
