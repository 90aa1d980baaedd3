"""The store's part for votes on clips and the ranking they make: ``store.votes``.

Its queries are in ``db/sql/votes.sql``.
"""

from __future__ import annotations

from db.store.connector import Transaction
from db.store.models import Job, RankedClip, VoteCounts, VoteRefused
from db.store.part import Part


class VoteStore(Part):
    async def vote(self, job_id: int, user_id: int, value: int, *, toggle: bool = False) -> VoteCounts:
        """Vote +1 or -1 on a finished clip (again to change it, 0 to withdraw); the new counts. With
        ``toggle``, the same vote a second time withdraws it, as a second click on a button does.
        Raises :class:`VoteRefused` for your own clip or a job that is not a finished clip."""
        if value not in (-1, 0, 1):
            raise VoteRefused("bad_value", value=value)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("lock_job_for_vote", id=job_id)
            if row is None or row["state"] != "done":
                raise VoteRefused("not_a_clip")
            if row["user_id"] == user_id:
                raise VoteRefused("own_clip")
            if toggle and value != 0:
                mine = await tx.fetch_one("get_vote", job_id=job_id, user_id=user_id)
                if mine is not None and mine["value"] == value:
                    value = 0
            if value == 0:
                await tx.execute("delete_vote", job_id=job_id, user_id=user_id)
            else:
                await tx.execute("upsert_vote", job_id=job_id, user_id=user_id, value=value, now=self.clock())
            return await self._vote_counts(tx, job_id)

    async def vote_counts(self, job_id: int) -> VoteCounts:
        async with self._db.transaction(write=False) as tx:
            return await self._vote_counts(tx, job_id)

    @staticmethod
    async def _vote_counts(tx: Transaction, job_id: int) -> VoteCounts:
        row = await tx.fetch_one("vote_counts", job_id=job_id)
        assert row is not None
        return VoteCounts(int(row["up"]), int(row["down"]))

    async def top(
        self, guild_id: int, since: float, limit: int = 10, *, with_age_restricted: bool = False
    ) -> list[RankedClip]:
        """A guild's clips finished since ``since`` with the best score (up - down), best first; clips
        made in an age-restricted channel only ``with_age_restricted`` (a list for such a channel)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all(
                "top_clips",
                guild_id=guild_id,
                since=since,
                limit=limit,
                age_restricted=bool(with_age_restricted),
            )
        return [RankedClip(Job.from_row(r), VoteCounts(int(r["vote_up"]), int(r["vote_down"]))) for r in rows]
