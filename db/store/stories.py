"""The job store's part for stories told together: scenes, rounds of proposals and their votes.

``store.stories``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/stories.sql``, its tables in a migration of their own (V9).

A story lives in a thread. Its scenes are jobs: scene 1 a new clip, scene k+1 an extend of scene k,
charged to the member who proposed it. A story is in one phase at a time:

``rendering``  its latest scene is queued or rendering;
``round``      members propose the next scene and vote; ``round_ends_at`` is when the round ends
               (None: nobody has proposed yet, the timer starts with the first proposal);
``queuing``    the round ended, ``winner_proposal_id`` is to be queued as the next scene;
``closing``    ``/story finish loop:true``: ``closing_job_id``, a last scene that ends on the film's
               first frame, is queued or rendering; the film is posted once it is (without it, if
               it failed);
``posting``    the film (made from the clip ``film_job_id``, fitted to ``film_limit``) is being
               posted: ``film_parts_sent`` of its parts were sent, in order; a failed upload is tried
               again from ``film_next_at`` on, later after each of its ``film_tries`` (migration V23);
               ``film_next_at`` is also the lease of the process that posts it;
``finished``   the film was posted (every part of it), or the story ended without one (also a film
               given up: its channel or server gone, or its uploads refused for too long).

A proposal may end on a picture its author attached (``end_image_ref``, in the media store): its scene
is then an extend that ends on it. Retention keeps the picture while its story is unfinished.

Every move between phases is a conditional update: a round ends once, however many timers and
moderators try to end it at the same moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from db.store.connector import Transaction
from db.store.models import StoreError
from db.store.part import Part

StoryPhase = Literal["rendering", "round", "queuing", "closing", "posting", "finished"]

STORY_MAX_SCENES = 12  # a story is its own chain: it has this limit, not the server's max_extends


class StoryRefused(StoreError):
    """Something a member asked of a story that cannot be done; nothing was stored."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "no_round": "This story takes no proposals right now: scene {scene} is being made.",
        "finished": "This story is finished.",
        "already_proposed": "You already proposed scene {scene}; wait for the next round.",
        "own_proposal": "You cannot vote for your own proposal.",
        "round_over": "The round for scene {scene} is over.",
        "unknown_proposal": "That proposal is gone.",
        "too_many_scenes": "This story has {limit} scenes, the most a story may have; finish it.",
        "closing": "This story is closing: its last scene, back to the first frame, is being made.",
        "posting": "This story is finished: its film is on its way, posted as soon as Discord takes it.",
    }


@dataclass(frozen=True)
class Story:
    id: int
    guild_id: int
    channel_id: int  # where it was started (the film is posted there)
    thread_id: int  # where it is told
    starter_id: int
    title: str
    locale: str
    phase: StoryPhase
    round_ends_at: float | None
    winner_proposal_id: int | None
    created_at: float
    finished_at: float | None
    closing_job_id: int | None = None  # phase ``closing``: the scene that loops the film back to its start
    film_job_id: int | None = None  # phase ``posting``: the clip the film is made from
    film_limit: int | None = None  # phase ``posting``: the upload limit the film is fitted to
    film_parts_sent: int = 0  # phase ``posting``: how many of the film's parts Discord took
    film_tries: int = 0  # phase ``posting``: the uploads that failed
    film_next_at: float | None = None  # phase ``posting``: when it may be tried (again)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Story:
        return cls(
            id=int(row["id"]),
            guild_id=int(row["guild_id"]),
            channel_id=int(row["channel_id"]),
            thread_id=int(row["thread_id"]),
            starter_id=int(row["starter_id"]),
            title=row["title"],
            locale=row["locale"],
            phase=row["phase"],
            round_ends_at=row["round_ends_at"],
            winner_proposal_id=_int_or_none(row["winner_proposal_id"]),
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            closing_job_id=_int_or_none(row["closing_job_id"]),
            film_job_id=_int_or_none(row["film_job_id"]),
            film_limit=_int_or_none(row["film_limit"]),
            film_parts_sent=int(row["film_parts_sent"] or 0),
            film_tries=int(row["film_tries"] or 0),
            film_next_at=row["film_next_at"],
        )


@dataclass(frozen=True)
class Scene:
    story_id: int
    number: int  # 1, 2, …
    job_id: int
    user_id: int  # its author: charged for its render, credited in the film
    prompt: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Scene:
        return cls(
            int(row["story_id"]), int(row["number"]), int(row["job_id"]), int(row["user_id"]), row["prompt"]
        )


@dataclass(frozen=True)
class Proposal:
    id: int
    story_id: int
    scene: int  # the scene number it would become
    user_id: int
    prompt: str
    weight: float  # its author's share of the GPUs when they proposed it (their render is charged so)
    message_id: int | None
    created_at: float
    votes: int = 0
    end_image_ref: str | None = None  # the picture its scene ends on (media store), or None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Proposal:
        return cls(
            id=int(row["id"]),
            story_id=int(row["story_id"]),
            scene=int(row["scene"]),
            user_id=int(row["user_id"]),
            prompt=row["prompt"],
            weight=float(row["weight"]),
            message_id=_int_or_none(row["message_id"]),
            created_at=row["created_at"],
            votes=int(row.get("votes") or 0),
            end_image_ref=row["end_image_ref"],
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def film_back_off_s(tries: int, retry_s: float, max_s: float) -> float:
    """How long a film waits after its ``tries``-th failed upload: ``retry_s``, twice as long after
    each failure, at most ``max_s``."""
    return min(retry_s * 2 ** min(max(tries, 1) - 1, 30), max_s)


def film_failing_s(tries: int, retry_s: float, max_s: float) -> float:
    """The least time from a film's first failed upload to its ``tries``-th (the back-offs in between,
    as :meth:`StoryStore.film_failed` sets them): how long it has been failing, counted in tries, so
    a restart neither forgets it nor counts the time the bot was down."""
    total, n = 0.0, 1
    while n < tries:
        wait = film_back_off_s(n, retry_s, max_s)
        if wait >= max_s:  # every later wait is max_s
            return total + (tries - n) * max_s
        total += wait
        n += 1
    return total


class StoryStore(Part):
    async def create_story(
        self,
        guild_id: int,
        channel_id: int,
        thread_id: int,
        starter_id: int,
        title: str,
        first_job_id: int,
        first_prompt: str,
        *,
        locale: str = "en-US",
    ) -> Story:
        """A story in ``thread_id`` whose scene 1 (``first_job_id``, by the starter) is queued."""
        now = self.clock()
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "story_insert",
                guild_id=guild_id,
                channel_id=channel_id,
                thread_id=thread_id,
                starter_id=starter_id,
                title=title,
                locale=locale,
                now=now,
            )
            assert row is not None
            story = Story.from_row(row)
            await tx.execute(
                "story_scene_insert",
                story_id=story.id,
                number=1,
                job_id=first_job_id,
                user_id=starter_id,
                prompt=first_prompt,
                now=now,
            )
        return story

    async def get_story(self, story_id: int) -> Story | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("story_get", id=story_id)
        return Story.from_row(row) if row else None

    async def story_in_thread(self, thread_id: int) -> Story | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("story_in_thread", thread_id=thread_id)
        return Story.from_row(row) if row else None

    async def unfinished_stories(self) -> list[Story]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("story_unfinished")
        return [Story.from_row(r) for r in rows]

    async def story_scenes(self, story_id: int) -> list[Scene]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("story_scenes", story_id=story_id)
        return [Scene.from_row(r) for r in rows]

    async def add_scene(self, story_id: int, job_id: int, user_id: int, prompt: str) -> Scene | None:
        """Record the winner of a round (phase ``queuing``), queued as ``job_id``: the story waits for
        its render. None when the story was not waiting for a scene (nothing is stored)."""
        async with self._db.transaction() as tx:
            if not await tx.execute("story_set_rendering", id=story_id, from_phase="queuing"):
                return None
            number = len(await tx.fetch_all("story_scenes", story_id=story_id)) + 1
            await tx.execute(
                "story_scene_insert",
                story_id=story_id,
                number=number,
                job_id=job_id,
                user_id=user_id,
                prompt=prompt,
                now=self.clock(),
            )
        return Scene(story_id, number, job_id, user_id, prompt)

    async def open_round(self, story_id: int, ends_at: float) -> bool:
        """The latest scene is posted: proposals for the next are open until ``ends_at``. False when
        the story was not waiting for a render (a round opens once)."""
        async with self._db.transaction() as tx:
            return await tx.execute("story_open_round", id=story_id, ends_at=ends_at) > 0

    async def reopen_round(self, story_id: int, number: int, ends_at: float) -> bool:
        """Scene ``number`` failed to render: it is forgotten and its round opens again (its
        proposals and votes kept)."""
        async with self._db.transaction() as tx:
            if not await tx.execute("story_open_round", id=story_id, ends_at=ends_at):
                return False
            await tx.execute("story_scene_delete", story_id=story_id, number=number)
        return True

    async def propose(
        self,
        story_id: int,
        user_id: int,
        prompt: str,
        *,
        weight: float = 1.0,
        round_s: float = 3600.0,
        end_image_ref: str | None = None,
    ) -> Proposal:
        """A member proposes the next scene (one proposal per member and round), ending on the picture
        ``end_image_ref`` names if given (stored already). The first proposal of a round that waited
        for one starts its timer (``round_s``). Raises :class:`StoryRefused`."""
        now = self.clock()
        async with self._db.transaction() as tx:
            scene = await self._open_scene(tx, story_id)
            row = await tx.fetch_one(
                "story_proposal_insert",
                story_id=story_id,
                scene=scene,
                user_id=user_id,
                prompt=prompt,
                weight=float(weight),
                end_image_ref=end_image_ref,
                now=now,
            )
            if row is None:
                raise StoryRefused("already_proposed", scene=scene)
            await tx.execute("story_round_timer_if_waiting", id=story_id, ends_at=now + round_s)
        return Proposal.from_row(row)

    async def may_propose(self, story_id: int, user_id: int) -> None:
        """Raises the :class:`StoryRefused` that :meth:`propose` would raise now, so a proposal's
        picture is stored only when it may be proposed (``propose`` checks again, atomically)."""
        async with self._db.transaction(write=False) as tx:
            scene = await self._open_scene(tx, story_id)
            if await tx.fetch_one("story_proposal_of", story_id=story_id, scene=scene, user_id=user_id):
                raise StoryRefused("already_proposed", scene=scene)

    async def set_proposal_message(self, proposal_id: int, message_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("story_proposal_message", id=proposal_id, message_id=message_id)

    async def get_proposal(self, proposal_id: int) -> Proposal | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("story_proposal_get", id=proposal_id)
            if row is None:
                return None
            count = await tx.fetch_one("story_vote_count", proposal_id=proposal_id)
        return Proposal.from_row({**row, "votes": count["n"] if count else 0})

    async def vote_proposal(self, proposal_id: int, user_id: int) -> int:
        """A member's vote for a proposal of the open round; a second vote takes it back. The
        proposal's votes now. Raises :class:`StoryRefused` (your own proposal, a round that is over)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("story_proposal_get", id=proposal_id)
            if row is None:
                raise StoryRefused("unknown_proposal")
            proposal = Proposal.from_row(row)
            story = await self._story(tx, proposal.story_id)
            if story.phase != "round" or await self._next_scene(tx, story) != proposal.scene:
                raise StoryRefused("round_over", scene=proposal.scene)
            if proposal.user_id == user_id:
                raise StoryRefused("own_proposal")
            if await tx.fetch_one("story_vote_get", proposal_id=proposal_id, user_id=user_id):
                await tx.execute("story_vote_delete", proposal_id=proposal_id, user_id=user_id)
            else:
                await tx.execute(
                    "story_vote_insert", proposal_id=proposal_id, user_id=user_id, now=self.clock()
                )
            count = await tx.fetch_one("story_vote_count", proposal_id=proposal_id)
        return int(count["n"]) if count else 0

    async def round_proposals(self, story_id: int) -> list[Proposal]:
        """The proposals of the story's current (or last) round, the leader first."""
        async with self._db.transaction(write=False) as tx:
            story = await self._story(tx, story_id)
            scene = await self._next_scene(tx, story)
            rows = await tx.fetch_all("story_round_proposals", story_id=story_id, scene=scene)
        return [Proposal.from_row(r) for r in rows]

    async def end_round(self, story_id: int) -> Proposal | None:
        """End the open round: the proposal with the most votes wins (a tie goes to the earlier one)
        and waits to be queued (phase ``queuing``). None when the round is not open (it ended
        already) or nobody proposed anything: then it stays open, its timer starting again with the
        first proposal."""
        async with self._db.transaction() as tx:
            story = await self._story(tx, story_id)
            if story.phase != "round":
                return None
            scene = await self._next_scene(tx, story)
            rows = await tx.fetch_all("story_round_proposals", story_id=story_id, scene=scene)
            if not rows:
                await tx.execute("story_round_timer", id=story_id, ends_at=None)
                return None
            winner = Proposal.from_row(rows[0])
            if not await tx.execute("story_choose_winner", id=story_id, proposal_id=winner.id):
                return None
        return winner

    async def due_rounds(self, now: float | None = None) -> list[Story]:
        """Stories whose round's time is up."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("story_due_rounds", now=self.clock() if now is None else now)
        return [Story.from_row(r) for r in rows]

    async def start_closing(self, story_id: int, job_id: int) -> bool:
        """``/story finish loop:true``: the closing scene ``job_id`` is queued; the story takes no more
        proposals and waits for it (phase ``closing``), then its film is posted. False when the story
        was not between rounds or in one (nothing is stored)."""
        async with self._db.transaction() as tx:
            return await tx.execute("story_start_closing", id=story_id, job_id=job_id) > 0

    async def start_posting(
        self, story_id: int, film_job_id: int, limit: int, *, from_phase: StoryPhase, lease_s: float
    ) -> bool:
        """The story's film, made from the clip ``film_job_id`` and fitted to ``limit`` bytes, is to be
        posted (phase ``posting``): the story takes nothing more, and is finished once every part of
        the film is sent (:meth:`film_part_sent`, :meth:`finish_story`). The caller posts it now and
        holds it for ``lease_s`` seconds (:meth:`claim_film`). False when the story was not in
        ``from_phase`` (a round ended or a finish came first; nothing is stored)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "story_start_posting",
                id=story_id,
                from_phase=from_phase,
                job_id=film_job_id,
                film_limit=limit,
                until=self.clock() + lease_s,
            )
        return changed > 0

    async def claim_film(self, story_id: int, lease_s: float) -> Story | None:
        """The story whose film is due to be posted (again), held for ``lease_s`` seconds by the caller
        (no other process posts it meanwhile); None when it is not due or not being posted."""
        now = self.clock()
        async with self._db.transaction() as tx:
            if not await tx.execute("story_claim_film", id=story_id, now=now, until=now + lease_s):
                return None
            row = await tx.fetch_one("story_get", id=story_id)
        return Story.from_row(row) if row else None

    async def film_part_sent(self, story_id: int, number: int) -> bool:
        """Part ``number`` (1, 2, …) of the story's film is posted: a retry sends only the parts after
        it. False when it was recorded already (or the story is not being posted)."""
        async with self._db.transaction() as tx:
            return await tx.execute("story_film_part_sent", id=story_id, number=number) > 0

    async def film_failed(self, story_id: int, retry_s: float, max_s: float) -> int:
        """An upload of the story's film failed: it is tried again ``retry_s`` seconds from now, twice
        as long after each failure, at most ``max_s``. How many uploads have failed (0: the story is
        not being posted)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("story_get", id=story_id)
            if row is None or row["phase"] != "posting":
                return 0
            tries = int(row["film_tries"] or 0) + 1
            wait = film_back_off_s(tries, retry_s, max_s)
            await tx.execute("story_film_failed", id=story_id, tries=tries, next_at=self.clock() + wait)
        return tries

    async def give_up_film(self, story_id: int) -> bool:
        """The story's film can never be posted (its channel or server is gone, the bot was not allowed
        to post there for too long, Discord kept refusing it): the story ends without it (phase
        ``finished``; ``film_job_id`` is kept). True the first time; False when it was not being
        posted."""
        async with self._db.transaction() as tx:
            return await tx.execute("story_give_up_film", id=story_id, now=self.clock()) > 0

    async def finish_story(self, story_id: int) -> bool:
        """The story is over (True the first time)."""
        async with self._db.transaction() as tx:
            return await tx.execute("story_finish", id=story_id, now=self.clock()) > 0

    @staticmethod
    async def _story(tx: Transaction, story_id: int) -> Story:
        row = await tx.fetch_one("story_get", id=story_id)
        if row is None:
            raise StoryRefused("finished")
        return Story.from_row(row)

    @classmethod
    async def _open_scene(cls, tx: Transaction, story_id: int) -> int:
        """The scene a proposal for ``story_id`` would be; raises :class:`StoryRefused` when the story
        takes no proposal now."""
        story = await cls._story(tx, story_id)
        scene = await cls._next_scene(tx, story)
        if story.phase == "finished":
            raise StoryRefused("finished")
        if story.phase in ("closing", "posting"):
            raise StoryRefused(story.phase)
        if story.phase != "round":
            raise StoryRefused("no_round", scene=scene - 1)
        if scene > STORY_MAX_SCENES:
            raise StoryRefused("too_many_scenes", limit=STORY_MAX_SCENES)
        return scene

    @staticmethod
    async def _next_scene(tx: Transaction, story: Story) -> int:
        """The number of the scene a round of ``story`` decides (the one after its scenes so far)."""
        return len(await tx.fetch_all("story_scenes", story_id=story.id)) + 1
