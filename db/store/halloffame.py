"""The job store's part for the hall of fame (which clip was posted there, as which message) and for
/me (a member's standing: clips, votes received, GPU time this week).

``store.hall``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/halloffame.sql``, its tables in a migration of their own (V7).

Exactly once: a clip's row is claimed (``state='posting'``, the primary key is the clip) *before* its
post is sent; the message id is recorded after (``'posted'``); a deleted clip or post makes it
``'removed'``, and the row stays, so nothing ever posts that clip there again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from db.store.models import Job, VoteCounts
from db.store.part import Part

HallState = Literal["posting", "posted", "removed"]


@dataclass(frozen=True)
class HallPost:
    """A clip's place in its server's hall of fame."""

    job_id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    state: HallState
    shown: VoteCounts  # the counts the message shows (or will show, while posting)
    claimed_at: float
    posted_at: float | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> HallPost:
        return cls(
            job_id=int(row["job_id"]),
            guild_id=int(row["guild_id"]),
            channel_id=int(row["channel_id"]),
            message_id=None if row["message_id"] is None else int(row["message_id"]),
            state=row["state"],
            shown=VoteCounts(int(row["shown_up"]), int(row["shown_down"])),
            claimed_at=float(row["claimed_at"]),
            posted_at=None if row["posted_at"] is None else float(row["posted_at"]),
        )


@dataclass(frozen=True)
class MemberGpu:
    """GPU-seconds a member used in a period, and the weight of their latest job in it."""

    user_id: int
    gpu_seconds: float
    weight: float


@dataclass(frozen=True)
class Standing:
    """What /me shows, from the store: clips (all time and since the moment asked), the votes they
    received, and every member's GPU time since that moment (the fair share is the bot's arithmetic)."""

    clips_total: int
    clips_recent: int
    votes: VoteCounts
    gpu_by_member: tuple[MemberGpu, ...]

    def gpu_seconds_of(self, user_id: int) -> float:
        return sum(m.gpu_seconds for m in self.gpu_by_member if m.user_id == user_id)

    @property
    def guild_gpu_seconds(self) -> float:
        return sum(m.gpu_seconds for m in self.gpu_by_member)


class HallOfFameStore(Part):
    # ---- hall of fame ----------------------------------------------------------------------------

    async def claim_hall_post(
        self, guild_id: int, job_id: int, channel_id: int, votes: VoteCounts
    ) -> HallPost | None:
        """Claim the clip's post in the hall channel ``channel_id`` before sending it; None when it
        was claimed before (posted, being posted, or removed): then nobody sends it again."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "hof_claim",
                job_id=job_id,
                guild_id=guild_id,
                channel_id=channel_id,
                up=votes.up,
                down=votes.down,
                now=self.clock(),
            )
        return None if row is None else HallPost.from_row(row)

    async def hall_post(self, job_id: int) -> HallPost | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("hof_get", job_id=job_id)
        return None if row is None else HallPost.from_row(row)

    async def record_hall_post(self, job_id: int, message_id: int, shown: VoteCounts) -> bool:
        """The claimed post was sent as ``message_id`` showing ``shown``; True only the first time."""
        changed = await self._db.write_one(
            "hof_record",
            job_id=job_id,
            message_id=message_id,
            now=self.clock(),
            up=shown.up,
            down=shown.down,
        )
        return changed == 1

    async def set_hall_shown(self, job_id: int, shown: VoteCounts) -> bool:
        """The posted message now shows ``shown`` (False unless it is posted)."""
        return await self._db.write_one("hof_shown", job_id=job_id, up=shown.up, down=shown.down) == 1

    async def remove_hall_post(self, job_id: int) -> HallPost | None:
        """The clip or its post is gone: the row (as it was) whose message to delete, or None when
        there was none (or it was removed already). The clip is never posted there again."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("hof_remove", job_id=job_id)
        return None if row is None else HallPost.from_row(row)

    async def unfinished_hall_posts(self, guild_id: int) -> list[HallPost]:
        """Claimed posts never recorded (the bot stopped between the claim and the record)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("hof_unfinished", guild_id=guild_id)
        return [HallPost.from_row(r) for r in rows]

    async def stale_hall_posts(self, guild_id: int) -> list[tuple[HallPost, VoteCounts]]:
        """Posted messages whose counts differ from the clip's votes now, with the votes."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("hof_stale", guild_id=guild_id)
        return [(HallPost.from_row(r), VoteCounts(int(r["up"]), int(r["down"]))) for r in rows]

    async def hall_candidates(
        self,
        guild_id: int,
        threshold: int,
        since: float,
        limit: int = 10,
        *,
        with_age_restricted: bool = False,
        hall_channel_id: int | None = None,
    ) -> list[Job]:
        """Posted, undeleted clips finished since ``since`` with at least ``threshold`` net 👍 and no
        hall-of-fame row yet (a threshold an admin lowered), oldest first; clips made in an
        age-restricted channel only ``with_age_restricted`` (the hall channel is one too). Clips recorded
        as private (``Job.public_channel`` false) only when the hall channel ``hall_channel_id`` is their
        own channel or thread, so clips that will never enter it do not take the places of those that will."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all(
                "hof_candidates",
                guild_id=guild_id,
                threshold=threshold,
                since=since,
                limit=limit,
                age_restricted=bool(with_age_restricted),
                hall=hall_channel_id or 0,
            )
        return [Job.from_row(r) for r in rows]

    # ---- /me ---------------------------------------------------------------------------------------

    async def standing(self, guild_id: int, user_id: int, since: float) -> Standing:
        """A member's clips and votes received in a guild, and every member's GPU time since ``since``."""
        async with self._db.transaction(write=False) as tx:
            clips = await tx.fetch_one("me_clips", guild_id=guild_id, user_id=user_id, since=since)
            votes = await tx.fetch_one("me_votes", guild_id=guild_id, user_id=user_id)
            gpu = await tx.fetch_all("me_gpu_by_member", guild_id=guild_id, since=since)
        assert clips is not None and votes is not None
        return Standing(
            clips_total=int(clips["total"]),
            clips_recent=int(clips["recent"]),
            votes=VoteCounts(int(votes["up"]), int(votes["down"])),
            gpu_by_member=tuple(
                MemberGpu(int(r["user_id"]), float(r["used"] or 0.0), float(r["weight"] or 1.0)) for r in gpu
            ),
        )
