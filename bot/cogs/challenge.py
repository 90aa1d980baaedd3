"""Challenges: a moderator sets a theme and a deadline; clips made in the challenge's thread are its
entries; at the end the results are posted and the winner gets the server's role.

- ``/challenge start theme duration`` (moderators) announces the theme in the channel with its end as
  a Discord timestamp and opens a thread from the announcement. ``/video`` in that thread makes entries:
  one per member, their latest clip there.
- Votes are the clip buttons. Your own clip is refused by the store; this cog adds a vote rule: members
  who joined the server less than ``challenge_min_member_hours`` ago cannot vote on a challenge's clips,
  and nobody can once its entries closed (the results are final).
- The end: a task sleeps until the next challenge ends (woken when one starts) and at start-up ends
  every challenge whose end passed while the bot was down. Closing is claimed in the store (once,
  across restarts and shards; the votes are copied for audit in the same transaction); the results
  are posted with nonces and marked posted afterwards, so a crash in between posts them once when the
  bot is back. The winner gets ``challenge_winner_role_id`` if the server set one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import replace
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.background import one_pass, stop
from bot.cogs.delivery import THREAD_EXISTS
from bot.i18n import t
from bot.replies import RefusedError, answer, is_moderator, think
from bot.text import quoted_prompt, short
from db.store import Job
from db.store.challenges import THEME_MAX_CHARS, Challenge, ChallengeEntry
from db.waiting import wait_event

Interaction = discord.Interaction[VideoBot]

log = logging.getLogger(__name__)

MINUTE_S = 60
HOUR_S = 60 * MINUTE_S
DAY_S = 24 * HOUR_S
MIN_DURATION_S = MINUTE_S
MAX_DURATION_S = 30 * DAY_S
MAX_SLEEP_S = 60.0  # look again at least this often (another shard may have started one)
RESULTS_SHOWN = 3  # places in the posted results; /challenge results shows more
THREAD_ARCHIVE_MIN: Literal[10080] = 10080  # a week: the longest auto-archive Discord offers
MEDALS = ("🥇", "🥈", "🥉")

# what members write after a number, English and German
_UNITS: dict[str, int] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "minuten"), MINUTE_S),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden"), HOUR_S),
    **dict.fromkeys(("d", "day", "days", "t", "tag", "tage", "tagen"), DAY_S),
    **dict.fromkeys(("w", "wk", "week", "weeks", "wo", "woche", "wochen"), 7 * DAY_S),
}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-zäöü]+)\.?")
_WHOLE = re.compile(r"(?:\s*\d+(?:[.,]\d+)?\s*[a-zäöü]+\.?\s*)+")


class DurationError(ValueError):
    """A duration a member wrote that is no duration, or out of bounds: ``code`` is "bad",
    "too_short" or "too_long"."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def parse_duration(text: str) -> int:
    """Seconds in "30m", "2h", "3d", "1w", "1h 30m", "90 min", "2 Std", "3 Tage", "1,5h"; from a
    minute to 30 days. Raises :class:`DurationError`."""
    cleaned = text.strip().lower()
    if not cleaned or len(cleaned) > 50 or not _WHOLE.fullmatch(cleaned):
        raise DurationError("bad")
    total = 0.0
    for number, unit in _PART.findall(cleaned):
        if unit not in _UNITS:
            raise DurationError("bad")
        total += float(number.replace(",", ".")) * _UNITS[unit]
    seconds = round(total)
    if seconds < MIN_DURATION_S:
        raise DurationError("too_short")
    if seconds > MAX_DURATION_S:
        raise DurationError("too_long")
    return seconds


def duration_refusal(locale: str, error: DurationError, text: str) -> str:
    if error.code == "too_short":
        return t(locale, "challenge.duration.too_short")
    if error.code == "too_long":
        return t(locale, "challenge.duration.too_long", days=MAX_DURATION_S // DAY_S)
    return t(locale, "challenge.duration.bad", text=discord.utils.escape_markdown(short(text, 50)))


def stamp(epoch: float, style: str) -> str:
    return f"<t:{int(epoch)}:{style}>"


def theme_text(challenge: Challenge) -> str:
    return quoted_prompt(challenge.theme, THEME_MAX_CHARS)


def announcement(challenge: Challenge) -> str:
    return t(
        challenge.locale,
        "challenge.announcement",
        challenge=challenge.id,
        theme=theme_text(challenge),
        end=stamp(challenge.ends_at, "F"),
        relative=stamp(challenge.ends_at, "R"),
    )


def results_text(
    challenge: Challenge,
    ranking: list[ChallengeEntry],
    votes: int,
    locale: str,
    role_id: int | None,
    *,
    shown: int = RESULTS_SHOWN,
) -> str:
    lines = [t(locale, "challenge.results.title", challenge=challenge.id, theme=theme_text(challenge))]
    if not ranking:
        lines.append(t(locale, "challenge.results.empty"))
    for entry in ranking[:shown]:
        label = t(locale, "challenge.clip", job=entry.job_id)
        clip = label
        if entry.message_id is not None and challenge.thread_id is not None:
            where = f"{challenge.guild_id}/{challenge.thread_id}/{entry.message_id}"
            clip = f"[{label}](https://discord.com/channels/{where})"
        medal = MEDALS[entry.place - 1] if entry.place <= len(MEDALS) else f"**{entry.place}.**"
        lines.append(
            t(
                locale,
                "challenge.results.place",
                medal=medal,
                user=entry.user_id,
                clip=clip,
                up=entry.up,
                down=entry.down,
                score=entry.score,
            )
        )
    if ranking:
        lines.append(t(locale, "challenge.results.entries", count=len(ranking), votes=votes))
    outcome = challenge.role_outcome
    if role_id is not None and outcome is not None and challenge.winner_user_id is not None:
        if outcome == "given":
            lines.append(
                t(locale, "challenge.results.role_given", user=challenge.winner_user_id, role=role_id)
            )
        elif outcome == "forbidden":
            lines.append(t(locale, "challenge.results.role_forbidden", role=role_id))
        else:
            lines.append(t(locale, "challenge.results.role_failed", role=role_id))
    return "\n".join(lines)


@app_commands.guild_only()
class ChallengeGroup(app_commands.Group):
    def __init__(self, cog: ChallengeCog) -> None:
        super().__init__(
            name=_("challenge", key="cmd.challenge"),
            description=_("Clip challenges: a theme, a deadline, votes", key="cmd.challenge.desc"),
        )
        self.cog = cog

    @app_commands.command(
        name=_("start", key="cmd.challenge.start"),
        description=_("Start a challenge in this channel (moderators)", key="cmd.challenge.start.desc"),
    )
    @app_commands.rename(
        theme=_("theme", key="opt.challenge.theme"), duration=_("duration", key="opt.challenge.duration")
    )
    @app_commands.describe(
        theme=_("What the clips should show", key="opt.challenge.theme.desc"),
        duration=_("How long it runs: 30m, 2h, 3d, 1w", key="opt.challenge.duration.desc"),
    )
    async def start(
        self,
        interaction: Interaction,
        theme: app_commands.Range[str, 1, THEME_MAX_CHARS],
        duration: app_commands.Range[str, 1, 50],
    ) -> None:
        await self.cog.start(interaction, theme, duration)

    @app_commands.command(
        name=_("end", key="cmd.challenge.end"),
        description=_("End a challenge now (moderators)", key="cmd.challenge.end.desc"),
    )
    @app_commands.rename(challenge=_("challenge", key="opt.challenge.id"))
    @app_commands.describe(challenge=_("Challenge number", key="opt.challenge.id.desc"))
    async def end(
        self, interaction: Interaction, challenge: app_commands.Range[int, 1] | None = None
    ) -> None:
        await self.cog.end_now(interaction, challenge)

    @app_commands.command(
        name=_("results", key="cmd.challenge.results"),
        description=_("The results of a finished challenge", key="cmd.challenge.results.desc"),
    )
    @app_commands.rename(challenge=_("challenge", key="opt.challenge.id"))
    @app_commands.describe(challenge=_("Challenge number", key="opt.challenge.id.desc"))
    async def results(
        self, interaction: Interaction, challenge: app_commands.Range[int, 1] | None = None
    ) -> None:
        await self.cog.show_results(interaction, challenge)

    @app_commands.command(
        name=_("list", key="cmd.challenge.list"),
        description=_("Open and recent challenges", key="cmd.challenge.list.desc"),
    )
    async def list_(self, interaction: Interaction) -> None:
        await self.cog.list_challenges(interaction)


class ChallengeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.group = ChallengeGroup(self)
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()  # the loop and /challenge end settle one challenge at a time
        self.task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)
        self.bot.vote_rules.append(self.vote_rule)
        self.task = asyncio.create_task(self.loop())

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)
        with contextlib.suppress(ValueError):
            self.bot.vote_rules.remove(self.vote_rule)
        await stop(self.task)

    # ---- the end, on time -------------------------------------------------------------------------

    async def loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            self.wake.clear()
            pause = MAX_SLEEP_S

            async def settle() -> None:
                nonlocal pause
                pause = await self.catch_up()

            # the store is away, Discord refuses: tried again with back-off, logged once
            await one_pass("the challenge clock", settle)
            await wait_event(self.wake, pause)

    async def catch_up(self) -> float:
        """End every challenge whose end has come, post what is not posted yet; the seconds until
        the next end (at most :data:`MAX_SLEEP_S`)."""
        store = self.bot.store
        now = time.time()
        pause = MAX_SLEEP_S
        for challenge in await store.challenges.open_challenges():
            if not self.bot.owns(challenge.guild_id):  # another shard's process ends and posts it
                continue
            if challenge.ends_at <= now:
                await store.challenges.close_challenge(challenge.id)
            else:
                pause = min(pause, challenge.ends_at - now)
        for challenge in await store.challenges.unannounced_challenges():
            if not self.bot.owns(challenge.guild_id):
                continue
            try:
                await self.settle(challenge.id)
            except Exception:  # one challenge's trouble never holds up the others
                log.warning("settling challenge %s failed; will retry", challenge.id, exc_info=True)
                pause = min(pause, 5.0)
        return max(0.0, pause)

    async def settle(self, challenge_id: int) -> None:
        """Whatever a challenge still lacks on Discord: its thread, or its results."""
        async with self.lock:
            challenge = await self.bot.store.challenges.get_challenge(challenge_id)
            if challenge is None:
                return
            if challenge.thread_id is None:
                await self.open_thread(challenge)
                challenge = await self.bot.store.challenges.get_challenge(challenge_id)
                assert challenge is not None
            if challenge.ended and challenge.results_posted_at is None:
                await self.post_results(challenge)

    async def open_thread(self, challenge: Challenge) -> int:
        """Announce the challenge and open its thread from the announcement; the thread's id. Sent
        with a nonce: after a crash before the thread was recorded, the same message is used."""
        channel = await self.bot.messageable(challenge.channel_id)
        message = await channel.send(announcement(challenge), nonce=f"vb-challenge-{challenge.id}")
        name = t(
            challenge.locale, "challenge.thread", challenge=challenge.id, theme=short(challenge.theme, 70)
        )
        try:
            thread = await message.create_thread(name=name[:100], auto_archive_duration=THREAD_ARCHIVE_MIN)
            thread_id = thread.id
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise
            thread_id = message.id  # opened before a restart: a message's thread has its id
        await self.bot.store.challenges.set_challenge_thread(challenge.id, message.id, thread_id)
        return thread_id

    async def give_role(self, challenge: Challenge, role_id: int | None) -> str | None:
        if role_id is None or challenge.winner_user_id is None:
            return None
        try:
            await self.bot.http.add_role(
                challenge.guild_id,
                challenge.winner_user_id,
                role_id,
                reason=f"won challenge #{challenge.id}",
            )
        except discord.Forbidden:
            log.warning("no permission to give role %s for challenge %s", role_id, challenge.id)
            return "forbidden"
        except discord.HTTPException:
            log.warning("could not give role %s for challenge %s", role_id, challenge.id, exc_info=True)
            return "failed"
        return "given"

    async def post_results(self, challenge: Challenge) -> None:
        store = self.bot.store
        settings = await store.settings.get_settings(challenge.guild_id)
        role_id = settings.challenge_winner_role_id
        outcome = await self.give_role(challenge, role_id)  # giving a role twice changes nothing
        challenge = replace(challenge, role_outcome=outcome)
        ranking = await store.challenges.challenge_results(challenge.id)
        votes = len(await store.challenges.challenge_audit(challenge.id))
        text = results_text(challenge, ranking, votes, challenge.locale, role_id)
        message_id: int | None = None
        if challenge.thread_id is not None:
            try:
                thread = await self.bot.messageable(challenge.thread_id)
                message = await thread.send(text, nonce=f"vb-challenge-results-{challenge.id}")
                message_id = message.id
            except discord.NotFound:  # someone deleted the thread: the channel still hears it
                log.warning("the thread of challenge %s is gone", challenge.id)
        channel = await self.bot.messageable(challenge.channel_id)
        await channel.send(text, nonce=f"vb-challenge-end-{challenge.id}")
        await store.challenges.mark_challenge_results_posted(challenge.id, message_id, outcome)
        if challenge.thread_id is not None:
            await self.close_thread(challenge.thread_id)

    async def close_thread(self, thread_id: int) -> None:
        """Lock and archive the thread: entries are closed."""
        try:
            thread = self.bot.get_channel(thread_id) or await self.bot.fetch_channel(thread_id)
            if isinstance(thread, discord.Thread):
                await thread.edit(locked=True, archived=True)
        except discord.HTTPException:
            log.warning("could not lock the thread %s of a finished challenge", thread_id, exc_info=True)

    # ---- votes ------------------------------------------------------------------------------------

    async def vote_rule(self, interaction: Interaction, job: Job) -> str | None:
        """A challenge's clip: closed challenges take no votes; new members cannot vote."""
        challenge = await self.bot.store.challenges.challenge_by_thread(job.channel_id)
        if challenge is None or challenge.guild_id != job.guild_id or job.created_at < challenge.started_at:
            return None
        locale = interaction.locale.value
        if challenge.ended or challenge.ends_at <= time.time():
            return t(locale, "challenge.vote.closed", challenge=challenge.id)
        settings = await self.bot.store.settings.get_settings(challenge.guild_id)
        hours = settings.challenge_min_member_hours
        if hours <= 0:
            return None
        joined = getattr(interaction.user, "joined_at", None)
        if joined is None or (discord.utils.utcnow() - joined).total_seconds() < hours * HOUR_S:
            return t(locale, "challenge.vote.too_new", hours=hours)
        return None

    # ---- commands ---------------------------------------------------------------------------------

    async def start(self, interaction: Interaction, theme: str, duration: str) -> None:
        locale = interaction.locale.value
        if not is_moderator(interaction):
            await answer(interaction, t(locale, "challenge.not_moderator"))
            return
        if interaction.guild_id is None or interaction.channel_id is None:
            await answer(interaction, t(locale, "error.guild_only"))
            return
        if not isinstance(interaction.channel, discord.TextChannel):
            await answer(interaction, t(locale, "challenge.not_here"))
            return
        theme = " ".join(theme.split())
        if not theme or len(theme) > THEME_MAX_CHARS:
            await answer(interaction, t(locale, "challenge.theme.bad", limit=THEME_MAX_CHARS))
            return
        try:
            seconds = parse_duration(duration)
        except DurationError as error:
            await answer(interaction, duration_refusal(locale, error, duration))
            return
        await think(interaction)
        challenge = await self.bot.store.challenges.start_challenge(
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            theme,
            time.time() + seconds,
            locale=locale,
        )
        async with self.lock:
            thread_id = await self.open_thread(challenge)
        self.wake.set()
        await answer(
            interaction, t(locale, "challenge.started", challenge=challenge.id, thread=f"<#{thread_id}>")
        )

    async def find(self, interaction: Interaction, number: int | None) -> Challenge:
        """The challenge a command names, or the one it means here; raises RefusedError."""
        locale = interaction.locale.value
        store = self.bot.store
        assert interaction.guild_id is not None
        if number is not None:
            challenge = await store.challenges.get_challenge(number)
            if challenge is None or challenge.guild_id != interaction.guild_id:
                raise RefusedError(t(locale, "challenge.unknown", challenge=number))
            return challenge
        if interaction.channel_id is not None:
            here = await store.challenges.challenge_by_thread(interaction.channel_id)
            if here is not None and here.guild_id == interaction.guild_id:
                return here
        open_here = [
            c for c in await store.challenges.open_challenges() if c.guild_id == interaction.guild_id
        ]
        in_channel = [c for c in open_here if c.channel_id == interaction.channel_id]
        if len(in_channel) == 1 or (not in_channel and len(open_here) == 1):
            return (in_channel or open_here)[0]
        raise RefusedError(t(locale, "challenge.none_open"))

    async def end_now(self, interaction: Interaction, number: int | None) -> None:
        locale = interaction.locale.value
        if not is_moderator(interaction):
            await answer(interaction, t(locale, "challenge.not_moderator"))
            return
        try:
            challenge = await self.find(interaction, number)
        except RefusedError as refused:
            await answer(interaction, str(refused))
            return
        if challenge.ended:
            await answer(interaction, t(locale, "challenge.already_ended", challenge=challenge.id))
            return
        await think(interaction)
        if not await self.bot.store.challenges.close_challenge(challenge.id, ended_by=interaction.user.id):
            await answer(interaction, t(locale, "challenge.already_ended", challenge=challenge.id))
            return
        await self.settle(challenge.id)
        self.wake.set()
        await answer(interaction, t(locale, "challenge.ending", challenge=challenge.id))

    async def show_results(self, interaction: Interaction, number: int | None) -> None:
        locale = interaction.locale.value
        store = self.bot.store
        assert interaction.guild_id is not None
        challenge: Challenge | None
        if number is None:
            challenge = await store.challenges.latest_finished_challenge(interaction.guild_id)
            if challenge is None:
                await answer(interaction, t(locale, "challenge.none_finished"))
                return
        else:
            challenge = await store.challenges.get_challenge(number)
            if challenge is None or challenge.guild_id != interaction.guild_id:
                await answer(interaction, t(locale, "challenge.unknown", challenge=number))
                return
        if not challenge.ended:
            ends = stamp(challenge.ends_at, "R")
            await answer(interaction, t(locale, "challenge.not_ended", challenge=challenge.id, ends=ends))
            return
        ranking = await store.challenges.challenge_results(challenge.id)
        votes = len(await store.challenges.challenge_audit(challenge.id))
        settings = await store.settings.get_settings(challenge.guild_id)
        text = results_text(challenge, ranking, votes, locale, settings.challenge_winner_role_id, shown=10)
        await answer(interaction, text)

    async def list_challenges(self, interaction: Interaction) -> None:
        locale = interaction.locale.value
        assert interaction.guild_id is not None
        found = await self.bot.store.challenges.guild_challenges(interaction.guild_id, 10)
        if not found:
            await answer(interaction, t(locale, "challenge.none"))
            return
        lines = []
        for c in found:
            theme = quoted_prompt(c.theme, 80)
            if c.ended_at is None:
                thread = f"<#{c.thread_id}>" if c.thread_id else f"<#{c.channel_id}>"
                lines.append(
                    t(
                        locale,
                        "challenge.list.open",
                        challenge=c.id,
                        theme=theme,
                        ends=stamp(c.ends_at, "R"),
                        thread=thread,
                    )
                )
            else:
                lines.append(
                    t(
                        locale,
                        "challenge.list.ended",
                        challenge=c.id,
                        theme=theme,
                        ended=stamp(c.ended_at, "R"),
                    )
                )
        await answer(interaction, "\n".join(lines))


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(ChallengeCog(bot))
