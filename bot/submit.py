"""Queue a clip for a member: check it against the server's rules and the presets, store it fairly,
tell the member where it stands, and post its status message. Every way of asking for a clip goes
through here (/video, reroll, remix, and the features built on them)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.i18n import t
from bot.pictures import PictureRefused, check_picture, check_size
from bot.replies import Interaction, RefusedError, answer, think
from bot.status import post_status
from bot.text import where_in_queue
from db.cost import estimate_gpu_seconds
from db.spec import JobSpec, SpecError, clean_prompt, resolve_spec
from db.store import CapExceeded, Job, JobKind
from db.store.retention import media_pruned

if TYPE_CHECKING:
    from db.presets import PresetCatalog
    from db.store import GuildSettings, WorkerInfo


def role_ids(member: discord.abc.User) -> list[int]:
    return [role.id for role in getattr(member, "roles", [])]


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
    channel = interaction.channel
    age_restricted = bool(channel is not None and getattr(channel, "is_nsfw", lambda: False)())
    if word is not None and not (settings.nsfw_allowed and age_restricted):
        raise RefusedError(t(locale, "error.blocked_word", word=word))


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


def default_model(catalog: PresetCatalog, served: list[str], spec: JobSpec) -> str:
    """The model a member gets without choosing: the installation's default when a worker serves it
    (or none is online yet), else the first served preset that can do what the spec asks."""
    if not served or catalog.default in served:
        return catalog.default
    mode = "continue" if spec.continues is not None else "image" if spec.start_image else "text"
    able = [p.name for p in catalog if p.name in served and mode in p.modes]
    return able[0] if able else catalog.default


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


def refused_picture(locale: str, refused: PictureRefused) -> RefusedError:
    return RefusedError(t(locale, f"picture.{refused.code}", **refused.params))


async def store_picture(interaction: Interaction, picture: discord.Attachment) -> str:
    """Download, check and store a member's picture; its reference. Raises RefusedError."""
    data = await picture.read()
    try:
        extension = await asyncio.to_thread(check_picture, data)
    except PictureRefused as refused:
        raise refused_picture(interaction.locale.value, refused) from refused
    return await interaction.client.store.jobs.put_input(data, extension)


async def submit(
    interaction: Interaction,
    spec: JobSpec,
    *,
    kind: JobKind = "new",
    parent: Job | None = None,
    picture: discord.Attachment | None = None,
) -> Job:
    """Check and queue a clip, answer the member, post the status message. ``picture`` becomes the
    clip's first frame; an extend (``kind``) continues ``parent``.

    Acknowledges the interaction first, so the 3-second deadline never waits for the job store.
    Raises RefusedError (nothing queued, nothing stored) with the reason in the member's language."""
    bot = interaction.client
    locale = interaction.locale.value
    if interaction.guild_id is None or interaction.channel_id is None:
        raise RefusedError(t(locale, "error.guild_only"))
    # members choose among the presets; folders and hub ids are for the operator (no probing the host)
    if spec.model is not None and spec.model not in bot.catalog:
        choices = ", ".join(bot.catalog.names())
        raise RefusedError(t(locale, "spec.unknown_model", model=spec.model[:100], choices=choices))
    if picture is not None:
        try:
            check_size(picture.size)  # before downloading anything
        except PictureRefused as refused:
            raise refused_picture(locale, refused) from refused
        spec = replace(spec, start_image=True)
    await think(interaction)
    settings = await bot.store.settings.get_settings(interaction.guild_id)
    check_rules(interaction, settings, spec, in_thread=parent is not None)
    if not settings.sound:
        spec = replace(spec, audio=False)
    if kind == "extend" and parent is not None:
        refusal = await extend_refusal(interaction, parent, settings)
        if refusal is not None:
            raise RefusedError(refusal)
    channel_id = interaction.channel_id
    if parent is not None:
        channel_id = parent.thread_id or parent.channel_id
    workers = await bot.store.workers.live_workers()
    served = sorted({m for w in workers if w.state != "paused" for m in w.models})
    if spec.model is None:  # "the default": the installation's, else the first preset a worker serves
        spec = replace(spec, model=default_model(bot.catalog, served, spec))
    try:
        plan = resolve_spec(spec, bot.catalog)
    except SpecError as exc:
        raise RefusedError(t(locale, f"spec.{exc.code}", **exc.params)) from exc
    if served and plan.spec.model not in served:
        raise RefusedError(
            t(locale, "error.model_offline", model=plan.preset.title, choices=", ".join(served))
        )
    job_spec = plan.spec
    inherited = job_spec.image_ref if picture is None and parent is not None else None
    # a reroll or remix of a clip that started from a picture: retention may have removed it
    if inherited is not None and parent is not None and await bot.store.jobs.get_input(inherited) is None:
        days = f"{bot.config.media_days:g}"
        raise RefusedError(t(locale, "retention.picture_gone", job=parent.id, days=days))
    if picture is not None:
        job_spec = replace(job_spec, image_ref=await store_picture(interaction, picture))
    try:
        job = await bot.store.jobs.enqueue(
            interaction.guild_id,
            channel_id,
            interaction.user.id,
            job_spec,
            estimate_gpu_seconds(plan),
            weight=settings.weight_for_roles(role_ids(interaction.user)),
            parent_id=parent.id if parent else None,
            kind=kind,
            locale=locale,
        )
    except CapExceeded as exc:
        raise RefusedError(t(locale, f"cap.{exc.code}", **exc.params)) from exc
    position = await bot.store.jobs.queue_position(job.id)
    where = where_in_queue(position.position, position.eta_s, locale)
    recent: list[WorkerInfo] = []
    if not any(w.state in ("ready", "starting") for w in workers):  # any silent a moment ago?
        live = {w.worker_id for w in workers}
        seen = await bot.store.workers.live_workers(max_age_s=RECONNECT_WINDOW_S)
        recent = [w for w in seen if w.worker_id not in live and w.state != "paused"]
    await answer(
        interaction,
        t(locale, "queued.ack", job=job.id, where=where) + workers_note(workers, locale, recent),
    )
    await post_status(bot, job, channel_id, position)
    return job


async def submit_or_explain(
    interaction: Interaction,
    spec: JobSpec,
    *,
    kind: JobKind = "new",
    parent: Job | None = None,
    picture: discord.Attachment | None = None,
) -> None:
    try:
        await submit(interaction, spec, kind=kind, parent=parent, picture=picture)
    except RefusedError as refused:
        await answer(interaction, str(refused))
