"""What members read: status lines, the clip embed, queue lines. Pure functions of a job and a locale."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import discord

from bot.i18n import coded, t
from db.store import Job, VoteCounts
from db.store.styles import Style

PROMPT_IN_STATUS = 300  # characters of the prompt quoted in status messages and threads
THREAD_NAME_MAX = 100
# what Discord reads as markdown in a line of text: emphasis, spoilers, code, masked links, quotes, headings
_MARKDOWN = re.compile(r"[\\`*_~|\[\]>#]")


def progress_bar(step: int, total: int, width: int = 12) -> str:
    filled = 0 if total <= 0 else min(width, round(width * step / total))
    return "▰" * filled + "▱" * (width - filled)


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quoted_prompt(prompt: str, limit: int = PROMPT_IN_STATUS) -> str:
    """The prompt for bold display: shortened, every markdown character escaped, in links and masked
    links too, so that no ``` or ** in it ends the bold or opens a code block (mentions never ping)."""
    return _MARKDOWN.sub(r"\\\g<0>", short(prompt, limit))


def format_eta(seconds: float | None, locale: str) -> str | None:
    if seconds is None:
        return None
    if seconds < 90:
        return t(locale, "eta.seconds", n=max(5, round(seconds / 5) * 5))
    if seconds < 90 * 60:
        return t(locale, "eta.minutes", n=round(seconds / 60))
    return t(locale, "eta.hours", n=round(seconds / 3600, 1))


def header(job: Job, locale: str) -> str:
    # a bridge names both clips it joins: the one it starts on (its parent) and the one it ends on
    kind = (
        t(locale, f"kind.{job.kind}", parent=job.parent_id, to=job.spec.bridges_to)
        if job.kind != "new"
        else ""
    )
    prompt = quoted_prompt(job.spec.prompt)
    return t(locale, "status.header", kind=kind, prompt=prompt, author=f"<@{job.user_id}>", job=job.id)


def status_line(job: Job, locale: str, position: int = 0, eta_s: float | None = None, link: str = "") -> str:
    """One line for the job's state: waiting (position, ETA), rendering (bar), or how it ended."""
    if job.state == "queued":
        eta = format_eta(eta_s, locale)
        if eta is None:
            return t(locale, "status.queued", position=max(position, 1))
        return t(locale, "status.queued_eta", position=max(position, 1), eta=eta)
    if job.state == "running":
        if not job.total_steps:  # claimed; the first heartbeat brings the step count
            return t(locale, "status.starting")
        if job.step >= job.total_steps:
            return t(locale, "status.encoding")
        return t(
            locale,
            "status.running",
            bar=progress_bar(job.step, job.total_steps),
            step=job.step,
            total=job.total_steps,
        )
    if job.state == "failed":
        return t(locale, "status.failed", reason=failure_text(job, locale))
    if job.state == "cancelled":
        return t(locale, "status.cancelled")
    return t(locale, "status.done", link=link)


def failure_text(job: Job, locale: str) -> str:
    """Why a job ended without a clip, in the member's language (a generator or spec error code)."""
    if job.error_code:
        for prefix in ("failure", "spec"):
            text = coded(locale, prefix, job.error_code, job.error_params)
            if text is not None:
                return text
    return job.error_text or "?"


def status_message(
    job: Job, locale: str, position: int = 0, eta_s: float | None = None, link: str = ""
) -> str:
    return f"{header(job, locale)}\n{status_line(job, locale, position, eta_s, link)}"


def where_in_queue(position: int, eta_s: float | None, locale: str) -> str:
    eta = format_eta(eta_s, locale)
    if eta is None:
        return t(locale, "queued.where_no_eta", position=max(position, 1))
    return t(locale, "queued.where", position=max(position, 1), eta=eta)


def jump_url(job: Job) -> str:
    """The link to a posted clip's message (in its channel or thread)."""
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"


def bridge_note(bridge: Job, locale: str) -> str:
    """What the thread of the clip a posted bridge ends on is told: who joined which clip to it, and
    where the bridge is (its author shown, never pinged)."""
    return t(
        locale,
        "bridge.posted",
        job=bridge.id,
        author=f"<@{bridge.user_id}>",
        start=bridge.parent_id,
        link=jump_url(bridge),
    )


def thread_name(job: Job, locale: str) -> str:
    return short(t(locale, "thread.name", job=job.id, prompt=short(job.spec.prompt, 80)), THREAD_NAME_MAX)


def credits(lineage: Sequence[Job], locale: str) -> str:
    """Who made each clip of a chain, the original first: "#1 by @a → ➕ #3 by @b"; a bridge between
    the clips it joins, "#1 by @a → 🌉 #5 by @c → #2 by @b" (never pings)."""
    return " → ".join(
        t(locale, f"credit.{job.kind}", job=job.id, author=f"<@{job.user_id}>") for job in lineage
    )


def credits_within(lineage: Sequence[Job], locale: str, limit: int) -> str:
    """:func:`credits` in at most ``limit`` characters: a chain too long keeps its original and as many of
    its latest clips as fit, "#1 by @a → … → #20 by @y → #21 by @z" (a mention is never cut)."""
    parts = [t(locale, f"credit.{job.kind}", job=job.id, author=f"<@{job.user_id}>") for job in lineage]
    whole = " → ".join(parts)
    if len(whole) <= limit or len(parts) < 2:
        return short(whole, limit)
    for kept in range(len(parts) - 2, -1, -1):
        text = " → ".join([parts[0], "…", *parts[len(parts) - kept :]])
        if len(text) <= limit:
            return text
    return short(parts[0], limit)


def style_credit(style: Style, locale: str) -> str:
    """A style as a clip's card credits it: "Claymation by @someone, CC BY 4.0" (a member is mentioned,
    which never pings; a free-text author or license is shown as written, markdown escaped)."""
    name = quoted_prompt(style.name, 100)
    if style.author_id is not None:
        text = t(locale, "style.credit_by", name=name, author=f"<@{style.author_id}>")
    elif style.author:
        text = t(locale, "style.credit_by", name=name, author=quoted_prompt(style.author, 100))
    else:
        text = name
    return f"{text}, {quoted_prompt(style.license, 100)}" if style.license else text


def style_broken_reason(style: Style, locale: str, model: str) -> str:
    """Why a worker could not load a style, in the admin's language (its failure code), with the
    style's name and ``model`` where the worker left them out."""
    if style.broken_code is None:
        return ""
    params = {"style": style.name, "model": model, "reason": "?", **style.broken_params}
    return coded(locale, "failure", style.broken_code, params) or style.broken_text or style.broken_code


def clip_embed(
    job: Job,
    votes: VoteCounts,
    locale: str,
    model_title: str,
    lineage: Sequence[Job] = (),
    style: Style | None = None,
) -> discord.Embed:
    """The card under a clip: prompt, author, model, style, seed, length, render time, and the chain it
    builds on, crediting each author (and the style's)."""
    spec = job.spec
    embed = discord.Embed(
        description=f"**{quoted_prompt(spec.prompt, 3500)}**", colour=discord.Colour.blurple()
    )
    # disclosure first (the EU AI Act's Article 50): a model made this clip, and which one
    embed.set_author(name=short(t(locale, "embed.ai_made", model=model_title), 256))
    embed.add_field(name=t(locale, "embed.author"), value=f"<@{job.user_id}>")
    embed.add_field(name=t(locale, "embed.model"), value=model_title)
    if style is not None:
        embed.add_field(name=t(locale, "embed.style"), value=style_credit(style, locale))
    embed.add_field(name=t(locale, "embed.seed"), value=str(spec.seed))
    if job.frames and job.fps:
        embed.add_field(name=t(locale, "embed.length"), value=f"{job.frames / job.fps:.1f} s")
    if job.gpu_seconds is not None:
        embed.add_field(name=t(locale, "embed.render_time"), value=f"{job.gpu_seconds:.1f} s")
    if spec.negative_prompt:
        embed.add_field(
            name=t(locale, "embed.negative"), value=quoted_prompt(spec.negative_prompt, 1000), inline=False
        )
    if len(lineage) > 1:
        embed.add_field(
            name=t(locale, "embed.credits"), value=credits_within(lineage, locale, FIELD_MAX), inline=False
        )
    elif job.parent_id is not None:
        embed.add_field(name=t(locale, "embed.parent"), value=f"#{job.parent_id}")
    embed.set_footer(text=f"#{job.id}")
    return embed


EMBED_MAX = 6000  # Discord's limit for an embed's text, all of it together
FIELD_MAX = 1024  # Discord's limit for a field's value


def details_embed(
    job: Job,
    votes: VoteCounts,
    locale: str,
    model_title: str,
    lineage: Sequence[Job] = (),
    style: Style | None = None,
) -> discord.Embed:
    """Everything about a clip (the ℹ️ button): enough to make it again, and who made its chain. Within
    Discord's limits however long its texts (escaped markdown counts double): what does not fit is
    shortened, the least needed first (the middle of a long chain, the enhanced prompt, the style's
    words, the negative prompt, the prompt)."""
    spec = job.spec
    embed = clip_embed(job, votes, locale, model_title, lineage, style)
    if spec.trigger:  # the style's words the model was given before the prompt
        embed.add_field(name=t(locale, "embed.trigger"), value=quoted_prompt(spec.trigger, 500), inline=False)
    if style is not None and style.link:
        embed.add_field(name=t(locale, "embed.style_link"), value=f"<{style.link}>", inline=False)
    if job.enhanced_prompt:  # what the model made of the member's prompt (the description)
        enhanced = quoted_prompt(job.enhanced_prompt, 1000)
        if len(enhanced) > FIELD_MAX:  # escapes counted
            enhanced = quoted_prompt(job.enhanced_prompt, 500)
        embed.add_field(name=t(locale, "embed.enhanced"), value=enhanced, inline=False)
    embed.add_field(name=t(locale, "embed.steps"), value=str(spec.steps))
    embed.add_field(name=t(locale, "embed.guidance"), value=f"{spec.guidance:g}" if spec.guidance else "–")
    if job.width and job.height:
        embed.add_field(name=t(locale, "embed.size"), value=f"{job.width}×{job.height} · {spec.aspect}")
    embed.add_field(name=t(locale, "embed.votes"), value=f"👍 {votes.up} · 👎 {votes.down}")
    # what may be shortened, least needed first: (field name or None for the description, its text in
    # at most n characters of the member's words, the fewest characters kept)
    shorter: list[tuple[str | None, Callable[[int], str], int]] = []
    if len(lineage) > 1:
        shorter.append((t(locale, "embed.credits"), lambda n: credits_within(lineage, locale, n), 100))
    if job.enhanced_prompt:
        enhanced_prompt = job.enhanced_prompt
        shorter.append((t(locale, "embed.enhanced"), lambda n: quoted_prompt(enhanced_prompt, n), 100))
    if spec.trigger:
        shorter.append((t(locale, "embed.trigger"), lambda n: quoted_prompt(spec.trigger, n), 60))
    if spec.negative_prompt:
        shorter.append((t(locale, "embed.negative"), lambda n: quoted_prompt(spec.negative_prompt, n), 100))
    shorter.append((None, lambda n: f"**{quoted_prompt(spec.prompt, n)}**", 200))
    for name, text, fewest in shorter:
        if len(embed) <= EMBED_MAX:
            break
        shorten(embed, name, text, fewest)
    return embed


def shorten(embed: discord.Embed, name: str | None, text: Callable[[int], str], fewest: int) -> None:
    """Shorten the description (``name`` None) or the field called ``name`` to the longest
    ``text(n)`` (n ≥ ``fewest``) with which the embed fits :data:`EMBED_MAX`, or to ``text(fewest)``."""
    index = next((i for i, f in enumerate(embed.fields) if f.name == name), None)
    if name is not None and index is None:
        return
    current = embed.description if index is None else embed.fields[index].value

    def put(value: str) -> None:
        if index is None:
            embed.description = value
        else:
            field = embed.fields[index]
            embed.set_field_at(index, name=field.name, value=value, inline=bool(field.inline))

    low, high = fewest, max(fewest, len(current or ""))
    while low < high:  # the most characters with which it fits
        middle = (low + high + 1) // 2
        put(text(middle))
        if len(embed) <= EMBED_MAX:
            low = middle
        else:
            high = middle - 1
    put(text(low))
