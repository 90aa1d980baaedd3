"""A story told together: scene by scene, each the winner of a round of proposals, rendered as an extend of
the scene before.

``/story start title prompt`` opens a thread with scene 1 (a new clip, queued like /video). Once a scene
is posted, a round opens: members propose the next scene with ``/story next prompt`` and vote on the
proposals with a 👍 button (one vote per member, not on your own). The round ends after the server's
``story_round_minutes`` or when a moderator runs ``/story close``; the proposal with the most votes wins
(a tie goes to the earlier one; a round without proposals stays open). The winner is queued as an extend
of the scene before, fairly, charged to its author. ``/story finish`` (the starter or a moderator) posts
the film: the last scene holds the whole story; it is fitted to the upload limit (:mod:`bot.film`)
and credits every scene's author.

Keyframes (issue 19): ``/story next prompt end_image`` proposes a scene that ends on a picture (checked
like /video's before anything is stored, shown under the proposal); when it wins, its extend ends on
it. ``/story finish loop:true`` first queues a closing scene, an extend of the last that ends on the
film's first frame, charged to whoever finished; the story waits for it (phase ``closing``), and the
film is posted once it is rendered (without the loop, and saying so, when it failed).

A scene deleted with 🗑️ (by its author or a moderator) leaves the story: the next scene goes on from
the last scene that is still there (a scene queued from the deleted one is cancelled, and its round
opens again), and the film is that scene's clip, credited to the scenes it holds. A story whose every
scene was deleted goes on from text (the next winner is a new clip, as scene 1 was); finished so, it
ends without a film.

The film is posted once, eventually: the story is ``posting`` until every part of it is sent (each part
sent is recorded, and sent with a nonce of its own); an upload that fails (Discord down, a reset, the
bot's rights in the channel taken away, a restart) is tried again by the timer, later after each
failure, and the starter is told it is coming. It is given up, and the story ends without it, when it
can never be posted: at once when its channel or server is gone (404 Unknown Channel or Guild), after a
day of tries when the bot may not post there (403 Missing Access or Permissions), after three days of
tries whatever Discord answers.

A story is its own chain: it may have up to ``STORY_MAX_SCENES`` (12) scenes, whatever the server's
``max_extends`` for clips. Everything lives in the store; a timer task moves the stories along
(rounds that end, winners to queue, scenes that were posted or failed), also those whose moment came
while the bot was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from dataclasses import replace
from typing import Any, Literal, Self

import aiohttp
import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.background import one_pass, stop
from bot.clips import clip_first_frame, extend_spec, style_of
from bot.credentials import sign_film
from bot.discord_errors import not_allowed, place_gone
from bot.film import FilmError, fit_film
from bot.i18n import t
from bot.replies import Interaction, RefusedError, answer, is_moderator, report_error, think
from bot.status import post_status
from bot.submit import (
    check_attachment_size,
    check_rules,
    default_model,
    is_age_restricted,
    read_picture,
    role_ids,
)
from bot.text import quoted_prompt, short, where_in_queue
from db.cost import estimate_gpu_seconds
from db.credentials import post_reserve
from db.spec import DISCORD_UPLOAD_FLOOR, PROMPT_MAX_CHARS, JobSpec, SpecError, resolve_spec
from db.store import CapExceeded, Job, JobState
from db.store.stories import STORY_MAX_SCENES, Proposal, Scene, Story, StoryRefused, film_failing_s
from db.waiting import wait_event

log = logging.getLogger(__name__)

TICK_S = 2.0  # how often the timer looks at the stories (a posted scene wakes it at once)
TITLE_MAX = 100
FILM_LEASE_S = 60.0  # a process posting a film holds it this long (then another may try: same nonces)
FILM_RETRY_S = 10.0  # a film whose upload failed is tried again this much later, twice as long each time
FILM_RETRY_MAX_S = 900.0  # ... and at least this often
# a film is given up (the story ends without it, so retention may prune its scenes) at once when its
# channel, thread or server is gone; after a day of tries when the bot may not post there (time for the
# admins to give the right back); after three days of tries whatever Discord answers. Counted in tries
# (stories.film_failing_s): a restart forgets nothing, and the time the bot was down is not counted.
FILM_NOT_ALLOWED_GIVE_UP_S = 24 * 3600.0
FILM_GIVE_UP_S = 3 * 24 * 3600.0
FILM_KEPT = 4  # films kept made (fitted, signed) between their tries, the latest first to stay
# what came of posting a film (StoryCog.send_film)
FilmSent = Literal["posted", "later", "failed", "given_up"]
# what a failed upload raises: Discord refused it (5xx, 403 …), or the connection broke
POST_ERRORS: tuple[type[BaseException], ...] = (
    discord.HTTPException,
    aiohttp.ClientError,
    OSError,
    asyncio.TimeoutError,
)


def film_gone(exc: BaseException, guild_known: bool) -> bool:
    """Whether a film's upload that failed with ``exc`` can never succeed: its channel, thread or
    server is gone (404), or Discord refuses it while the bot is not in the story's server any more."""
    if place_gone(exc):
        return True
    return not guild_known and isinstance(exc, discord.Forbidden | discord.NotFound)


def refused_text(locale: str, refused: StoryRefused) -> str:
    return t(locale, f"story_refused.{refused.code}", **refused.params)


class ProposalVote(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:storyvote:(?P<proposal>\d+)"
):
    """👍 under a proposal: state in the store, so it works after a restart."""

    def __init__(self, proposal_id: int, count: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍",
                label=str(count),
                custom_id=f"vb:storyvote:{proposal_id}",
            )
        )
        self.proposal_id = proposal_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["proposal"]))

    async def callback(self, interaction: Interaction) -> None:
        locale = interaction.locale.value
        store = interaction.client.store
        try:
            proposal = await store.stories.get_proposal(self.proposal_id)
            story = await store.stories.get_story(proposal.story_id) if proposal else None
            if proposal is None or story is None or story.guild_id != interaction.guild_id:
                await answer(interaction, refused_text(locale, StoryRefused("unknown_proposal")))
                return
            try:
                count = await store.stories.vote_proposal(proposal.id, interaction.user.id)
            except StoryRefused as refused:
                await answer(interaction, refused_text(locale, refused))
                return
            await interaction.response.edit_message(view=proposal_view(proposal.id, count))
        except Exception as error:
            await report_error(interaction, error)


def proposal_view(proposal_id: int, count: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ProposalVote(proposal_id, count))
    return view


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def spec_refused(locale: str, exc: SpecError) -> RefusedError:
    return RefusedError(t(locale, f"spec.{exc.code}", **exc.params))


def ending_on(spec: JobSpec, end_image_ref: str | None) -> JobSpec:
    """``spec`` ending on the stored picture ``end_image_ref`` (as it is for None)."""
    if end_image_ref is None:
        return spec
    return replace(spec, end_image=True, end_image_ref=end_image_ref)


@app_commands.guild_only()
class StoryGroup(app_commands.Group):
    def __init__(self, cog: StoryCog) -> None:
        super().__init__(
            name=_("story", key="cmd.story"),
            description=_("A story told together, scene by scene", key="cmd.story.desc"),
        )
        self.cog = cog

    @app_commands.command(
        name=_("start", key="cmd.story.start"),
        description=_("Start a story: a thread with its first scene", key="cmd.story.start.desc"),
    )
    @app_commands.rename(title=_("title", key="opt.title"), prompt=_("prompt", key="opt.prompt"))
    @app_commands.describe(
        title=_("The story's title", key="opt.title.desc"),
        prompt=_("What the first scene shows", key="opt.story_prompt.desc"),
    )
    async def start(
        self,
        interaction: Interaction,
        title: app_commands.Range[str, 1, TITLE_MAX],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
    ) -> None:
        try:
            await self.cog.start_story(interaction, title, prompt)
        except RefusedError as refused:
            await answer(interaction, str(refused))

    @app_commands.command(
        name=_("next", key="cmd.story.next"),
        description=_("Propose the story's next scene", key="cmd.story.next.desc"),
    )
    @app_commands.rename(prompt=_("prompt", key="opt.prompt"), end_image=_("end_image", key="opt.end_image"))
    @app_commands.describe(
        prompt=_("What happens next", key="opt.next_prompt.desc"),
        end_image=_("A picture the scene ends on (PNG, JPEG or WebP)", key="opt.scene_end_image.desc"),
    )
    async def next(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        end_image: discord.Attachment | None = None,
    ) -> None:
        try:
            await self.cog.propose(interaction, prompt, end_image)
        except RefusedError as refused:
            await answer(interaction, str(refused))

    @app_commands.command(
        name=_("close", key="cmd.story.close"),
        description=_(
            "End the round now: the most voted proposal is made (moderators)", key="cmd.story.close.desc"
        ),
    )
    async def close(self, interaction: Interaction) -> None:
        try:
            await self.cog.close_round(interaction)
        except RefusedError as refused:
            await answer(interaction, str(refused))

    @app_commands.command(
        name=_("finish", key="cmd.story.finish"),
        description=_("Finish the story and post the whole film", key="cmd.story.finish.desc"),
    )
    @app_commands.rename(loop=_("loop", key="opt.loop"))
    @app_commands.describe(
        loop=_(
            "First a last scene back to the first frame, so the film loops",
            key="opt.story_loop.desc",
        )
    )
    async def finish(self, interaction: Interaction, loop: bool = False) -> None:
        try:
            await self.cog.finish(interaction, loop=loop)
        except RefusedError as refused:
            await answer(interaction, str(refused))


class StoryCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.group = StoryGroup(self)
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.told: set[tuple[int, str]] = (
            set()
        )  # (story, what) said once in its thread (a queue that is full)
        self.posting: set[int] = set()  # the stories whose film this process is posting now
        # story -> (its film's clip, the upload limit, the film's parts): made once, not again each try
        self.films: dict[int, tuple[int, int, list[bytes]]] = {}
        # the film's back-off and when it is given up (module constants; tests make them short)
        self.retry_s, self.retry_max_s = FILM_RETRY_S, FILM_RETRY_MAX_S
        self.not_allowed_give_up_s = FILM_NOT_ALLOWED_GIVE_UP_S
        self.give_up_s = FILM_GIVE_UP_S

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)
        self.bot.add_dynamic_items(ProposalVote)
        self.task = asyncio.create_task(self.loop())

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)
        self.bot.remove_dynamic_items(ProposalVote)
        await stop(self.task)

    # ---- the timer ---------------------------------------------------------------------------------

    async def loop(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            await one_pass("the story timer", self.tick)
            await wait_event(self.wake, TICK_S)
            self.wake.clear()

    @commands.Cog.listener()
    async def on_clip_posted(self, job: Any, message: discord.Message) -> None:
        self.wake.set()  # perhaps a scene: its round opens now

    async def tick(self) -> None:
        """Move every unfinished story along: end rounds whose time is up, queue winners, open the
        round after a posted scene (or again after a failed one)."""
        store = self.bot.store
        unfinished = await store.stories.unfinished_stories()
        for story_id in self.films.keys() - {s.id for s in unfinished if s.phase == "posting"}:
            self.films.pop(story_id, None)  # posted or given up (perhaps by another process)
        for story in unfinished:
            if not self.bot.owns(story.guild_id):  # another shard's process moves it along
                continue
            try:
                if story.phase == "round" and story.round_ends_at is not None:
                    if story.round_ends_at <= store.clock():
                        await self.end_round(story, by_timer=True)
                elif story.phase == "queuing":
                    await self.queue_winner(story)
                elif story.phase == "rendering":
                    await self.after_render(story)
                elif story.phase == "closing":
                    await self.after_closing(story)
                elif story.phase == "posting":
                    await self.post_due_film(story)
            except discord.HTTPException:
                log.warning("story %s: Discord refused a message; trying again", story.id, exc_info=True)

    async def round_s(self, story: Story) -> float:
        settings = await self.bot.store.settings.get_settings(story.guild_id)
        return settings.story_round_minutes * 60.0

    async def say(self, story: Story, text: str, **kwargs: Any) -> discord.Message:
        channel = await self.bot.messageable(story.thread_id)
        return await channel.send(text, **kwargs)

    async def after_render(self, story: Story) -> None:
        store = self.bot.store
        scenes = await store.stories.story_scenes(story.id)
        if not scenes:
            return
        last = scenes[-1]
        job = await store.jobs.get(last.job_id)
        if job is None or not job.posted:
            return  # still rendering, or not posted yet
        round_s = await self.round_s(story)
        ends_at = store.clock() + round_s
        locale = story.locale
        if job.state == "done":
            if not await store.stories.open_round(story.id, ends_at):
                return
            if last.number >= STORY_MAX_SCENES:
                await self.say(story, t(locale, "story.full", scene=last.number, limit=STORY_MAX_SCENES))
                return
            await self.say(
                story,
                t(
                    locale,
                    "story.round_open",
                    scene=last.number,
                    next=last.number + 1,
                    ends=f"<t:{int(ends_at)}:R>",
                ),
            )
            return
        if last.number == 1:  # the story has nothing to build on
            if await store.stories.finish_story(story.id):
                await self.say(story, t(locale, "story.first_failed"))
            return
        if await store.stories.reopen_round(story.id, last.number, ends_at):
            # its scene was deleted (🗑️): the story goes on from the last scene still there
            key = "story.scene_source_deleted" if job.error_code == "source_deleted" else "story.scene_failed"
            await self.say(story, t(locale, key, scene=last.number, ends=f"<t:{int(ends_at)}:R>"))

    async def end_round(self, story: Story, *, by_timer: bool) -> Proposal | None:
        """End the story's round; the winner is announced (and queued by the timer)."""
        winner = await self.bot.store.stories.end_round(story.id)
        locale = story.locale
        if winner is None:
            if by_timer:
                await self.say(story, t(locale, "story.no_proposals"))
            return None
        await self.say(
            story,
            t(
                locale,
                "story.winner",
                scene=winner.scene,
                author=mention(winner.user_id),
                votes=winner.votes,
                prompt=quoted_prompt(winner.prompt),
            ),
        )
        self.wake.set()
        return winner

    async def queue_winner(self, story: Story) -> None:
        """Queue the round's winner as an extend of the scene before, charged to its author."""
        store, bot = self.bot.store, self.bot
        if story.winner_proposal_id is None:
            return
        proposal = await store.stories.get_proposal(story.winner_proposal_id)
        scenes = await store.stories.story_scenes(story.id)
        following = await self.next_scene_spec(scenes, proposal.prompt) if proposal is not None else None
        if proposal is None or following is None:
            log.error("story %s: its winner or its scenes are gone", story.id)
            return
        spec, parent, base = following
        settings = await store.settings.get_settings(story.guild_id)
        spec = ending_on(spec, proposal.end_image_ref)
        if not settings.sound:
            spec = replace(spec, audio=False)
        try:
            plan = resolve_spec(spec, bot.catalog)
        except SpecError as exc:
            if (story.id, f"spec{proposal.id}") not in self.told:
                self.told.add((story.id, f"spec{proposal.id}"))
                await self.say(story, t(story.locale, f"spec.{exc.code}", **exc.params))
            return
        queued = await self.queued_before(story, parent, proposal.user_id, plan.spec.prompt, scenes)
        if queued is not None:  # queued before a restart that came before its scene was recorded
            recorded = await store.stories.add_scene(story.id, queued.id, proposal.user_id, proposal.prompt)
            if recorded is not None and queued.status_message_id is None:
                await post_status(bot, queued, story.thread_id, await store.jobs.queue_position(queued.id))
            return
        try:
            job = await store.jobs.enqueue(
                story.guild_id,
                story.thread_id,
                proposal.user_id,
                plan.spec,
                estimate_gpu_seconds(plan),
                weight=proposal.weight,
                parent_id=parent.id if parent is not None else None,
                kind="extend" if parent is not None else "new",
                locale=story.locale,
                age_restricted=parent is None and base.age_restricted,  # an extend's comes from its parent
            )
        except CapExceeded:
            # the author's clips wait their turn first: tried again on every tick, said once
            if (story.id, f"cap{proposal.id}") not in self.told:
                self.told.add((story.id, f"cap{proposal.id}"))
                await self.say(
                    story,
                    t(
                        story.locale,
                        "story.author_busy",
                        author=mention(proposal.user_id),
                        scene=proposal.scene,
                    ),
                )
            return
        if await store.stories.add_scene(story.id, job.id, proposal.user_id, proposal.prompt) is None:
            await store.jobs.cancel(job.id, None)  # another bot got there first
            return
        position = await store.jobs.queue_position(job.id)
        await post_status(bot, job, story.thread_id, position)

    async def queued_before(
        self, story: Story, parent: Job | None, user_id: int, prompt: str, scenes: list[Scene]
    ) -> Job | None:
        """The winner's render (an extend of ``parent``, or a new clip when there is none), if a bot queued
        it and stopped before recording it as the scene: queued after the story's last scene."""
        store = self.bot.store
        after = max(s.job_id for s in scenes)
        if parent is not None:
            candidates = await store.jobs.children(parent.id)
        else:
            states: list[JobState] = ["queued", "running", "done"]
            candidates = await store.jobs.jobs_for_user(story.guild_id, user_id, states)
        for child in candidates:
            if (
                child.id > after
                and child.kind == ("extend" if parent is not None else "new")
                and child.user_id == user_id
                and child.channel_id == story.thread_id
                and child.spec.prompt == prompt
                and child.state in ("queued", "running", "done")
                and not child.deleted
            ):
                return child
        return None

    async def standing(self, scenes: list[Scene]) -> tuple[list[Scene], Job | None]:
        """The story as it stands: its scenes without the deleted ones at its end (🗑️ under a scene),
        and the last one's clip, which holds them all; none and None when every scene was deleted."""
        store = self.bot.store
        for end in range(len(scenes), 0, -1):
            job = await store.jobs.get(scenes[end - 1].job_id)
            if job is not None and not job.deleted:
                return scenes[:end], job
        return [], None

    async def next_scene_spec(
        self, scenes: list[Scene], prompt: str
    ) -> tuple[JobSpec, Job | None, Job] | None:
        """The spec of the scene after ``scenes`` that shows ``prompt``, the clip it goes on from and the
        clip whose model, size and style it takes: an extend of the last scene still there; when every
        scene was deleted, a new clip from text, as scene 1 was (with the last scene's settings). None
        when the story has no scene at all."""
        _, parent = await self.standing(scenes)
        if parent is not None:
            return extend_spec(parent, prompt), parent, parent
        base = await self.bot.store.jobs.get(scenes[-1].job_id) if scenes else None
        if base is None:
            return None
        return replace(extend_spec(base, prompt), continues=None), None, base

    async def in_film(self, scenes: list[Scene], film: Job) -> list[Scene]:
        """The scenes ``film`` holds: those on its chain of parents (not a scene deleted before the next
        one was made: that one went on from the scene before it)."""
        chain: set[int] = set()
        job: Job | None = film
        while job is not None and job.id not in chain:
            chain.add(job.id)
            job = await self.bot.store.jobs.get(job.parent_id) if job.parent_id is not None else None
        return [s for s in scenes if s.job_id in chain]

    # ---- the commands ------------------------------------------------------------------------------

    async def story_here(self, interaction: Interaction) -> Story:
        locale = interaction.locale.value
        story = None
        if interaction.channel_id is not None:
            story = await self.bot.store.stories.story_in_thread(interaction.channel_id)
        if story is None or story.guild_id != interaction.guild_id:
            raise RefusedError(t(locale, "story.not_here"))
        return story

    async def start_story(self, interaction: Interaction, title: str, prompt: str) -> None:
        bot, store = self.bot, self.bot.store
        locale = interaction.locale.value
        channel = interaction.channel
        if interaction.guild_id is None or not isinstance(channel, discord.TextChannel):
            raise RefusedError(t(locale, "story.need_channel"))
        title = " ".join(title.split())
        if not title or not prompt.strip():
            raise RefusedError(t(locale, "story.empty"))
        await think(interaction)
        settings = await store.settings.get_settings(interaction.guild_id)
        spec = JobSpec(prompt=prompt)
        check_rules(interaction, settings, replace(spec, prompt=f"{title}\n{prompt}"), in_thread=False)
        if not settings.sound:
            spec = replace(spec, audio=False)
        served = await store.workers.served_models()
        spec = replace(spec, model=default_model(bot.catalog, served, spec))
        try:
            plan = resolve_spec(spec, bot.catalog)
        except SpecError as exc:
            raise RefusedError(t(locale, f"spec.{exc.code}", **exc.params)) from exc
        waiting = await store.jobs.jobs_for_user(
            interaction.guild_id, interaction.user.id, ["queued"], limit=10_000
        )
        if len(waiting) >= settings.max_queued_per_user:  # said before a thread is opened for nothing
            raise RefusedError(
                t(locale, "cap.too_many_queued", count=len(waiting), limit=settings.max_queued_per_user)
            )
        announce = await channel.send(
            t(
                locale,
                "story.announce",
                title=quoted_prompt(title, TITLE_MAX),
                author=mention(interaction.user.id),
            )
        )
        thread = await announce.create_thread(name=short(title, TITLE_MAX), auto_archive_duration=1440)
        try:
            job = await store.jobs.enqueue(
                interaction.guild_id,
                thread.id,
                interaction.user.id,
                plan.spec,
                estimate_gpu_seconds(plan),
                weight=settings.weight_for_roles(role_ids(interaction.user)),
                kind="new",
                locale=locale,
                age_restricted=is_age_restricted(channel),
            )
        except CapExceeded as exc:
            await thread.send(t(locale, "story.not_started"))
            raise RefusedError(t(locale, f"cap.{exc.code}", **exc.params)) from exc
        await store.stories.create_story(
            interaction.guild_id,
            channel.id,
            thread.id,
            interaction.user.id,
            title,
            job.id,
            prompt,
            locale=locale,
        )
        position = await store.jobs.queue_position(job.id)
        where = where_in_queue(position.position, position.eta_s, locale)
        await answer(interaction, t(locale, "story.started", thread=thread.mention, job=job.id, where=where))
        await post_status(bot, job, thread.id, position)

    async def propose(
        self, interaction: Interaction, prompt: str, end_image: discord.Attachment | None = None
    ) -> None:
        store = self.bot.store
        locale = interaction.locale.value
        story = await self.story_here(interaction)
        if not prompt.strip():
            raise RefusedError(t(locale, "story.empty"))
        check_attachment_size(locale, end_image)  # before downloading anything
        await think(interaction)
        settings = await store.settings.get_settings(story.guild_id)
        check_rules(interaction, settings, JobSpec(prompt=prompt), in_thread=True)
        picture = None
        if end_image is not None:
            picture = await self.scene_picture(interaction, story, prompt, end_image)
        try:
            proposal = await store.stories.propose(
                story.id,
                interaction.user.id,
                prompt,
                weight=settings.weight_for_roles(role_ids(interaction.user)),
                round_s=settings.story_round_minutes * 60.0,
                end_image_ref=picture[0] if picture else None,
            )
        except StoryRefused as refused:
            raise RefusedError(refused_text(locale, refused)) from refused
        shown: dict[str, Any] = {}
        if picture is not None:  # those who vote see where the scene would end
            _, data, extension = picture
            name = f"scene-{proposal.scene}-end.{extension}"
            shown["file"] = discord.File(io.BytesIO(data), filename=name)
        key = "story.proposal" if picture is None else "story.proposal_picture"
        message = await self.say(
            story,
            t(
                story.locale,
                key,
                scene=proposal.scene,
                author=mention(proposal.user_id),
                prompt=quoted_prompt(prompt),
            ),
            view=proposal_view(proposal.id, 0),
            **shown,
        )
        await store.stories.set_proposal_message(proposal.id, message.id)
        await answer(interaction, t(locale, "story.proposed", scene=proposal.scene))

    async def scene_picture(
        self, interaction: Interaction, story: Story, prompt: str, picture: discord.Attachment
    ) -> tuple[str, bytes, str]:
        """The picture a proposed scene ends on, stored once everything else is known to be fine: the
        member may propose now, the story's model ends scenes on pictures, and the picture itself
        passes /video's checks. Its reference, bytes and extension; raises RefusedError."""
        store = self.bot.store
        locale = interaction.locale.value
        try:
            await store.stories.may_propose(story.id, interaction.user.id)
        except StoryRefused as refused:
            raise RefusedError(refused_text(locale, refused)) from refused
        scenes = await store.stories.story_scenes(story.id)
        following = await self.next_scene_spec(scenes, prompt)
        if following is None:
            raise RefusedError(refused_text(locale, StoryRefused("no_round", scene=len(scenes))))
        try:  # the scene is an extend of the last one with the story's model, which must end on pictures
            resolve_spec(replace(following[0], end_image=True), self.bot.catalog)
        except SpecError as exc:
            raise spec_refused(locale, exc) from exc
        data, extension = await read_picture(interaction, picture)
        return await store.jobs.put_input(data, extension), data, extension

    async def close_round(self, interaction: Interaction) -> None:
        locale = interaction.locale.value
        story = await self.story_here(interaction)
        if not is_moderator(interaction):
            raise RefusedError(t(locale, "story.moderators_only"))
        if story.phase != "round":
            raise RefusedError(t(locale, "story.no_round_open"))
        await think(interaction)
        winner = await self.end_round(story, by_timer=False)
        if winner is None:
            fresh = await self.bot.store.stories.get_story(story.id)
            if fresh is not None and fresh.phase == "round":
                raise RefusedError(t(locale, "story.nothing_proposed"))
            raise RefusedError(t(locale, "story.no_round_open"))
        await answer(interaction, t(locale, "story.closed", scene=winner.scene))

    def phase_refusal(self, locale: str, story: Story, scenes: list[Scene]) -> RefusedError | None:
        """Why the film cannot be made now (a scene is on its way, or the story is over), or None."""
        if story.phase in ("finished", "closing", "posting"):
            return RefusedError(refused_text(locale, StoryRefused(story.phase)))
        if story.phase in ("rendering", "queuing"):
            scene = len(scenes) + (1 if story.phase == "queuing" else 0)
            return RefusedError(t(locale, "story.still_rendering", scene=scene))
        return None

    async def finish(self, interaction: Interaction, *, loop: bool = False) -> None:
        store = self.bot.store
        locale = interaction.locale.value
        story = await self.story_here(interaction)
        if interaction.user.id != story.starter_id and not is_moderator(interaction):
            raise RefusedError(t(locale, "story.starter_only"))
        scenes = await store.stories.story_scenes(story.id)
        refusal = self.phase_refusal(locale, story, scenes)
        if refusal is not None:
            raise refusal
        await think(interaction)
        kept, last = await self.standing(scenes)
        if last is None:  # every scene was deleted: the story ends without a film
            if not await store.stories.finish_story(story.id):
                raise RefusedError(refused_text(locale, StoryRefused("finished")))
            with contextlib.suppress(*POST_ERRORS):
                await self.say(story, t(story.locale, "story.nothing_left"))
            await answer(interaction, t(locale, "story.nothing_left"))
            return
        if loop:
            await self.close_into_loop(interaction, story, kept, last)
            return
        if await store.jobs.get_media(last.id) is None:
            raise RefusedError(t(locale, "error.media_gone", job=last.id))
        guild = interaction.guild
        limit = guild.filesize_limit if guild is not None else DISCORD_UPLOAD_FLOOR
        files = await self.film_files(story, last, limit)
        if not files:
            raise RefusedError(t(locale, "story.film_failed"))
        self.posting.add(story.id)  # the timer leaves it to this command
        try:
            if not await store.stories.start_posting(
                story.id, last.id, limit, from_phase="round", lease_s=FILM_LEASE_S
            ):  # a round ended, or another finish came first
                fresh = await store.stories.get_story(story.id)
                refusal = self.phase_refusal(locale, fresh, scenes) if fresh is not None else None
                raise refusal or RefusedError(refused_text(locale, StoryRefused("finished")))
            posting = await store.stories.get_story(story.id)
            sent = await self.send_film(posting, files) if posting is not None else "failed"
        finally:
            self.posting.discard(story.id)
        if sent == "posted":
            await answer(interaction, t(locale, "story.finished", parts=len(files)))
        elif sent == "later":  # it is tried again until Discord takes it
            await answer(interaction, t(locale, "story.film_coming", channel=f"<#{story.channel_id}>"))
        elif sent == "given_up":  # its channel is gone, or the bot may not post there
            await answer(interaction, t(locale, "story.film_given_up", channel=f"<#{story.channel_id}>"))
        else:  # its clip was deleted meanwhile
            await answer(interaction, t(locale, "story.film_failed"))

    async def close_into_loop(
        self, interaction: Interaction, story: Story, scenes: list[Scene], last: Job
    ) -> None:
        """``/story finish loop:true``: queue the closing scene, an extend of the last scene (``last``, the
        last still there) that ends on the film's first frame, charged to whoever finished (they asked
        for this render, as for ♾️ Loop under a clip; a moderator who finishes is not the starter). The
        film follows it."""
        bot, store = self.bot, self.bot.store
        locale = interaction.locale.value
        scenes = await self.in_film(scenes, last) or scenes
        first = await store.jobs.get(scenes[0].job_id)
        if first is None or first.deleted:  # the film's first scene is in the last one's clip too
            first = last
        assert interaction.guild_id is not None
        settings = await store.settings.get_settings(interaction.guild_id)
        # the first scene's words, not the title: the scene heads for the film's first frame, which is
        # what they describe (a title names the story, and often no picture at all)
        spec = replace(extend_spec(last, scenes[0].prompt), end_image=True)
        check_rules(interaction, settings, spec, in_thread=True)
        if not settings.sound:
            spec = replace(spec, audio=False)
        try:  # the story's model must continue clips and end on pictures
            plan = resolve_spec(spec, bot.catalog)
        except SpecError as exc:
            raise spec_refused(locale, exc) from exc
        frame = await clip_first_frame(bot, first, locale)
        job_spec = replace(
            plan.spec,
            end_image_ref=await store.jobs.put_input(frame, "png"),
            upload_limit=interaction.filesize_limit,  # the film is fitted to it as well
        )
        try:
            job = await store.jobs.enqueue(
                story.guild_id,
                story.thread_id,
                interaction.user.id,
                job_spec,
                estimate_gpu_seconds(plan),
                weight=settings.weight_for_roles(role_ids(interaction.user)),
                parent_id=last.id,
                kind="extend",
                locale=story.locale,
            )
        except CapExceeded as exc:
            raise RefusedError(t(locale, f"cap.{exc.code}", **exc.params)) from exc
        if not await store.stories.start_closing(story.id, job.id):  # a round ended or a finish came first
            await store.jobs.cancel(job.id, None)
            fresh = await store.stories.get_story(story.id)
            refusal = self.phase_refusal(locale, fresh, scenes) if fresh is not None else None
            raise refusal or RefusedError(refused_text(locale, StoryRefused("finished")))
        position = await store.jobs.queue_position(job.id)
        await self.say(story, t(story.locale, "story.closing", author=mention(interaction.user.id)))
        await post_status(bot, job, story.thread_id, position)
        where = where_in_queue(position.position, position.eta_s, locale)
        await answer(interaction, t(locale, "story.closing_queued", job=job.id, where=where))

    async def after_closing(self, story: Story) -> None:
        """Once the closing scene is posted (or told as failed), post the film: from the closing scene,
        which holds the whole story and its way back; from the last scene, without the loop, if it failed."""
        store = self.bot.store
        closing = await store.jobs.get(story.closing_job_id) if story.closing_job_id is not None else None
        if closing is not None and not closing.posted:
            return  # still rendering, or not posted yet
        looped = closing if closing is not None and closing.state == "done" and not closing.deleted else None
        if looped is not None and await store.jobs.get_media(looped.id) is None:
            looped = None  # its clip was deleted since: the film without the loop
        film = looped
        if film is None:  # no closing scene: the film is the last scene still there, without the loop
            _, film = await self.standing(await store.stories.story_scenes(story.id))
        if film is None:  # every scene was deleted, and the closing scene is not there either
            if await store.stories.finish_story(story.id):
                await self.say(story, t(story.locale, "story.nothing_left"))
            return
        limit = (closing.spec.upload_limit if closing is not None else None) or self.upload_limit(story)
        self.posting.add(story.id)  # the timer's next passes leave it to this one
        try:
            if not await store.stories.start_posting(
                story.id, film.id, limit, from_phase="closing", lease_s=FILM_LEASE_S
            ):
                return  # another process posts it
            if looped is None:
                with contextlib.suppress(*POST_ERRORS):
                    await self.say(story, t(story.locale, "story.loop_failed"))
            posting = await store.stories.get_story(story.id)
            if posting is not None:
                await self.send_film(posting)
        finally:
            self.posting.discard(story.id)

    async def post_due_film(self, story: Story) -> None:
        """The timer: post what is left of a film whose earlier upload failed (or was cut short by a
        restart), once its back-off is over."""
        if story.id in self.posting or (story.film_next_at or 0.0) > self.bot.store.clock():
            return
        self.posting.add(story.id)
        try:
            claimed = await self.bot.store.stories.claim_film(story.id, FILM_LEASE_S)
            if claimed is not None:
                await self.send_film(claimed)
        finally:
            self.posting.discard(story.id)

    async def film_files(self, story: Story, film: Job, limit: int) -> list[bytes]:
        """The film of ``story``, made from ``film``'s clip (which holds the whole story), as files that
        each fit ``limit``, signed; none when its clip is gone or it cannot be made to fit."""
        store = self.bot.store
        media = await store.jobs.get_media(film.id)
        if media is None:
            return []
        # encoded again to fit, the film leaves room for its content credentials (bot.credentials)
        room = post_reserve([film.manifest_bytes or 0])
        try:
            files = await asyncio.to_thread(fit_film, media.video, limit, room)
        except FilmError as exc:
            log.error("story %s: the film cannot be made: %s", story.id, exc)
            return []
        return await sign_film(
            store,
            self.bot.catalog,
            self.bot.signing_keys,
            film,
            files,
            server=self.bot.server_name(story.guild_id),
            name=f"story-{story.id}",
            limit=limit,
            style=await style_of(self.bot, film),
        )

    async def send_film(self, story: Story, files: list[bytes] | None = None) -> FilmSent:
        """Post the parts of the film of ``story`` (phase ``posting``, held by the caller) that were not
        sent yet, each recorded once Discord took it; then the story is finished. ``files``: the film
        as made just now (else it is made again: the same parts). "posted"; "later" when an upload
        failed (tried again after a back-off, the thread told the first time); "failed" when there is
        no film to post any more (its clip was deleted, or it cannot be made to fit: the story ends);
        "given_up" when it can never be posted (its channel or server is gone, the bot was not allowed
        to post there for :data:`FILM_NOT_ALLOWED_GIVE_UP_S`, or Discord refused it for
        :data:`FILM_GIVE_UP_S`: the story ends without it). A film that failed is kept made for its
        next try (:data:`FILM_KEPT` of them), not fitted and signed again."""
        store, locale = self.bot.store, story.locale
        film = await store.jobs.get(story.film_job_id) if story.film_job_id is not None else None
        if film is not None and film.deleted:
            film = None
        limit = story.film_limit or self.upload_limit(story)
        kept = self.films.pop(story.id, None)
        if files is None and film is not None:
            if kept is not None and kept[:2] == (film.id, limit):
                files = kept[2]
            else:
                files = await self.film_files(story, film, limit)
        if film is None or not files:
            if await store.stories.finish_story(story.id):
                with contextlib.suppress(*POST_ERRORS):
                    await self.say(story, t(locale, "story.film_failed"))
            return "failed"
        scenes = await self.in_film(await store.stories.story_scenes(story.id), film)
        looped = story.closing_job_id is not None and film.id == story.closing_job_id
        try:
            await self.post_film(
                story,
                scenes,
                files,
                closer=film.user_id if looped else None,
                loop_failed=story.closing_job_id is not None and not looped,
                sent=story.film_parts_sent,
            )
        except POST_ERRORS as exc:
            tries = await store.stories.film_failed(story.id, self.retry_s, self.retry_max_s)
            failing_s = film_failing_s(tries, self.retry_s, self.retry_max_s)
            if (
                film_gone(exc, self.bot.get_guild(story.guild_id) is not None)
                or (not_allowed(exc) and failing_s >= self.not_allowed_give_up_s)
                or failing_s >= self.give_up_s
            ):
                return await self.give_up_film(story, tries, exc)
            log.warning("story %s: its film was not posted (try %s): %s", story.id, tries, exc)
            self.films[story.id] = (film.id, limit, files)
            while len(self.films) > FILM_KEPT:
                self.films.pop(next(iter(self.films)))
            if tries == 1:  # said once in the thread: the starter and the makers know it is coming
                with contextlib.suppress(*POST_ERRORS):
                    await self.say(story, t(locale, "story.film_delayed", channel=f"<#{story.channel_id}>"))
            return "later"
        if await store.stories.finish_story(story.id):
            with contextlib.suppress(*POST_ERRORS):
                await self.say(story, t(locale, "story.finished_thread"))
        return "posted"

    async def give_up_film(self, story: Story, tries: int, exc: BaseException) -> FilmSent:
        """The film of ``story`` can never be posted (``exc``, at its ``tries``-th try): the story ends
        without it, so it is no longer tried and retention may prune its scenes; its thread is told
        (when it is still there)."""
        log.error("story %s: its film is given up after %s tries: %s", story.id, tries, exc)
        if await self.bot.store.stories.give_up_film(story.id):
            with contextlib.suppress(*POST_ERRORS):
                text = t(story.locale, "story.film_given_up", channel=f"<#{story.channel_id}>")
                await self.say(story, text)
        return "given_up"

    def upload_limit(self, story: Story) -> int:
        guild = self.bot.get_guild(story.guild_id)
        return guild.filesize_limit if guild is not None else DISCORD_UPLOAD_FLOOR

    async def post_film(
        self,
        story: Story,
        scenes: list[Scene],
        files: list[bytes],
        *,
        closer: int | None = None,
        loop_failed: bool = False,
        sent: int = 0,
    ) -> None:
        """Post the film in the channel the story began in, credits under its first part; ``closer``
        made the closing scene that loops it back to its start. The first ``sent`` parts were posted
        already; each part posted now is recorded once Discord took it (raises what the upload raised)."""
        locale = story.locale
        lines = [
            t(
                locale,
                "story.credit",
                scene=s.number,
                author=mention(s.user_id),
                prompt=quoted_prompt(s.prompt, 200),
            )
            for s in scenes
        ]
        if closer is not None:
            lines.append(
                t(
                    locale,
                    "story.credit_loop",
                    author=mention(closer),
                    prompt=quoted_prompt(scenes[0].prompt, 200),
                )
            )
        credits = "\n".join(lines)
        embed = discord.Embed(
            title=short(t(locale, "story.film_title", title=quoted_prompt(story.title, TITLE_MAX)), 256),
            description=short(credits, 4000) if len(credits) > 4000 else credits,
            colour=discord.Colour.gold(),
        )
        makers = [s.user_id for s in scenes] + ([closer] if closer is not None else [])
        authors = ", ".join(dict.fromkeys(mention(user_id) for user_id in makers))
        channel = await self.bot.messageable(story.channel_id)
        for number, data in enumerate(files, 1):
            if number <= sent:
                continue
            text = t(
                locale,
                "story.film" if closer is None else "story.film_loop",
                title=quoted_prompt(story.title, TITLE_MAX),
                scenes=len(scenes),
                authors=authors,
            )
            if loop_failed and number == 1:
                text += "\n" + t(locale, "story.loop_failed")
            if len(files) > 1:
                text += "\n" + t(locale, "story.film_part", part=number, parts=len(files))
            video = discord.File(io.BytesIO(data), filename=f"story-{story.id}-{number}.mp4")
            credited = [embed] if number == 1 else []  # the credits under the first part
            # a nonce of its own: a part Discord took whose answer was lost is not posted twice (for a
            # few minutes, as Discord keeps nonces; after that the record of the parts sent keeps it)
            await channel.send(text, file=video, embeds=credited, nonce=f"vb-film-{story.id}-{number}")
            await self.bot.store.stories.film_part_sent(story.id, number)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(StoryCog(bot))
