"""The job store's part for challenges: their themes, threads, entries, votes (kept for audit) and results.

``store.challenges``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/challenges.sql``, its tables in a migration of their own.

A challenge is open until :meth:`ChallengeStore.close_challenge` claims its end (once, whoever calls
it first, on any shard): that transaction copies every vote on the entries into ``challenge_votes``
and the ranking into ``challenge_results``, so the results are final and auditable however the clips
and their votes change later. Posting the results is recorded separately
(:meth:`ChallengeStore.mark_challenge_results_posted`), so a bot that died in between posts them
when it is back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from db.store.connector import Transaction
from db.store.part import Part

THEME_MAX_CHARS = 200


@dataclass(frozen=True)
class Challenge:
    id: int
    guild_id: int
    channel_id: int  # where it was started (and its results are announced)
    thread_id: int | None  # where its entries are made; None until the thread is opened
    announcement_id: int | None
    theme: str
    created_by: int
    locale: str
    started_at: float
    ends_at: float
    ended_at: float | None  # entries closed, results computed
    ended_by: int | None  # the moderator who ended it early (None: its time ran out)
    winner_user_id: int | None
    winner_job_id: int | None
    role_outcome: str | None  # "given", "forbidden", "failed" or None (no role set)
    results_message_id: int | None
    results_posted_at: float | None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Challenge:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ChallengeEntry:
    """One place of a finished challenge's ranking (or a standing of an open one)."""

    place: int
    job_id: int
    user_id: int
    up: int
    down: int
    entered_at: float
    message_id: int | None

    @property
    def score(self) -> int:
        return self.up - self.down


@dataclass(frozen=True)
class ChallengeVote:
    job_id: int
    user_id: int
    value: int
    voted_at: float


def rank_entries(
    entries: Sequence[Mapping[str, Any]], votes: Sequence[Mapping[str, Any]]
) -> list[ChallengeEntry]:
    """Entries by net votes (up less down), ties to the earlier entry."""
    tally: dict[int, list[int]] = {int(e["id"]): [0, 0] for e in entries}
    for vote in votes:
        counts = tally.get(int(vote["job_id"]))
        if counts is not None:
            counts[0 if vote["value"] > 0 else 1] += 1
    ordered = sorted(
        entries,
        key=lambda e: (-(tally[e["id"]][0] - tally[e["id"]][1]), e["created_at"], e["id"]),
    )
    return [
        ChallengeEntry(
            place,
            int(e["id"]),
            int(e["user_id"]),
            tally[e["id"]][0],
            tally[e["id"]][1],
            float(e["created_at"]),
            e["message_id"],
        )
        for place, e in enumerate(ordered, 1)
    ]


class ChallengeStore(Part):
    async def start_challenge(
        self,
        guild_id: int,
        channel_id: int,
        created_by: int,
        theme: str,
        ends_at: float,
        *,
        locale: str = "en-US",
    ) -> Challenge:
        """A new open challenge (its thread is recorded once opened: :meth:`set_challenge_thread`)."""
        theme = theme.strip()
        if not theme or len(theme) > THEME_MAX_CHARS:
            raise ValueError(f"a theme has 1 to {THEME_MAX_CHARS} characters")
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "insert_challenge",
                guild_id=guild_id,
                channel_id=channel_id,
                theme=theme,
                created_by=created_by,
                locale=locale,
                now=self.clock(),
                ends_at=ends_at,
            )
        assert row is not None
        return Challenge.from_row(row)

    async def set_challenge_thread(self, challenge_id: int, announcement_id: int, thread_id: int) -> None:
        await self._db.write_one(
            "set_challenge_thread", id=challenge_id, announcement_id=announcement_id, thread_id=thread_id
        )

    async def get_challenge(self, challenge_id: int) -> Challenge | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_challenge", id=challenge_id)
        return None if row is None else Challenge.from_row(row)

    async def challenge_by_thread(self, thread_id: int) -> Challenge | None:
        """The challenge whose entries are made in this thread, if any."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("challenge_by_thread", thread_id=thread_id)
        return None if row is None else Challenge.from_row(row)

    async def open_challenges(self) -> list[Challenge]:
        """Every challenge still taking entries (all guilds), the next to end first."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("open_challenges")
        return [Challenge.from_row(r) for r in rows]

    async def unannounced_challenges(self) -> list[Challenge]:
        """Challenges whose thread is not open yet, or whose results are not posted yet."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("unannounced_challenges")
        return [Challenge.from_row(r) for r in rows]

    async def guild_challenges(self, guild_id: int, limit: int = 10) -> list[Challenge]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("guild_challenges", guild_id=guild_id, limit=limit)
        return [Challenge.from_row(r) for r in rows]

    async def latest_finished_challenge(self, guild_id: int) -> Challenge | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("latest_finished_challenge", guild_id=guild_id)
        return None if row is None else Challenge.from_row(row)

    async def move_challenge_end(self, challenge_id: int, ends_at: float) -> bool:
        """Move the end of an open challenge (False if it has ended)."""
        return await self._db.write_one("move_challenge_end", id=challenge_id, ends_at=ends_at) > 0

    async def challenge_standings(self, challenge: Challenge) -> list[ChallengeEntry]:
        """The entries of a challenge as they stand now (live votes), the leader first."""
        async with self._db.transaction(write=False) as tx:
            return await self._standings(tx, challenge)

    async def _standings(self, tx: Transaction, challenge: Challenge) -> list[ChallengeEntry]:
        if challenge.thread_id is None:
            return []
        where = {"guild_id": challenge.guild_id, "thread_id": challenge.thread_id}
        entries = await tx.fetch_all(
            "challenge_entries", started_at=challenge.started_at, ends_at=challenge.ends_at, **where
        )
        votes = await tx.fetch_all("challenge_thread_votes", **where)
        return rank_entries(entries, votes)

    async def is_challenge_entry(self, challenge: Challenge, job_id: int) -> bool:
        return any(e.job_id == job_id for e in await self.challenge_standings(challenge))

    async def close_challenge(self, challenge_id: int, *, ended_by: int | None = None) -> bool:
        """Close a challenge's entries and compute its results, in one transaction: True for the
        caller that closed it, False when it was closed already (by another shard, or before a
        restart). Entries made after its end (``ends_at``) do not count; an early end by a moderator
        moves the end to now first."""
        now = self.clock()
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("get_challenge", id=challenge_id)
            if row is None or row["ended_at"] is not None:
                return False
            if ended_by is not None and row["ends_at"] > now:
                await tx.execute("move_challenge_end", id=challenge_id, ends_at=now)
                row = {**row, "ends_at": now}
            if not await tx.execute("claim_challenge_end", id=challenge_id, now=now, ended_by=ended_by):
                return False
            challenge = Challenge.from_row(row)
            ranking = await self._standings(tx, challenge)
            entry_ids = {e.job_id for e in ranking}
            if challenge.thread_id is not None:
                votes = await tx.fetch_all(
                    "challenge_thread_votes", guild_id=challenge.guild_id, thread_id=challenge.thread_id
                )
                for vote in votes:
                    if vote["job_id"] in entry_ids:
                        await tx.execute("insert_challenge_vote", challenge_id=challenge_id, **vote)
            for entry in ranking:
                await tx.execute(
                    "insert_challenge_result",
                    challenge_id=challenge_id,
                    place=entry.place,
                    job_id=entry.job_id,
                    user_id=entry.user_id,
                    up=entry.up,
                    down=entry.down,
                    entered_at=entry.entered_at,
                    message_id=entry.message_id,
                )
            winner = ranking[0] if ranking else None
            await tx.execute(
                "set_challenge_winner",
                id=challenge_id,
                user_id=winner.user_id if winner else None,
                job_id=winner.job_id if winner else None,
            )
        return True

    async def challenge_results(self, challenge_id: int) -> list[ChallengeEntry]:
        """A closed challenge's final ranking, the winner first (empty: open, or nobody entered)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("challenge_results", challenge_id=challenge_id)
        return [
            ChallengeEntry(
                int(r["place"]),
                int(r["job_id"]),
                int(r["user_id"]),
                int(r["up"]),
                int(r["down"]),
                float(r["entered_at"]),
                r["message_id"],
            )
            for r in rows
        ]

    async def challenge_audit(self, challenge_id: int) -> list[ChallengeVote]:
        """Who voted what on a closed challenge's entries, as they stood when it closed."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("challenge_audit", challenge_id=challenge_id)
        return [
            ChallengeVote(int(r["job_id"]), int(r["user_id"]), int(r["value"]), float(r["voted_at"]))
            for r in rows
        ]

    async def mark_challenge_results_posted(
        self, challenge_id: int, message_id: int | None, role_outcome: str | None
    ) -> bool:
        """Record that the results were posted (True only the first time)."""
        changed = await self._db.write_one(
            "mark_challenge_results_posted",
            id=challenge_id,
            message_id=message_id,
            now=self.clock(),
            role_outcome=role_outcome,
        )
        return changed > 0

    async def challenge_wins(self, guild_id: int, user_id: int) -> int:
        """How many of this guild's challenges the member won."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("challenge_wins", guild_id=guild_id, user_id=user_id)
        return int(row["wins"]) if row else 0
