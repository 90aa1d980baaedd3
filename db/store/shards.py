"""The job store's part for a sharded bot: which guilds a bot process owns, the store's walks over
ended and active jobs limited to those guilds, and a tiny key/value table of the bot's own state
(the digest of the last application-command tree synced to Discord, so commands are synced once and
not by every process on every start).

``store.shards``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/shards.sql``, its table (``bot_state``) in migration V11 (the lead may renumber it V12).

Discord's rule: a guild belongs to shard ``(guild_id >> 22) % shard_count``. A process owns a
contiguous range of shards (``videobot bot --shards 0-3 --shard-count 8``); ``None`` for the range
means one process with every guild.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.store.models import Job, unposted_cursor
from db.store.part import Part

# guild_id >> 22, written as a division both dialects do the same way on positive BIGINTs
SHARD_SHIFT = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> SHARD_SHIFT) % shard_count


@dataclass(frozen=True)
class ShardRange:
    """Shards ``first..last`` (inclusive) of ``count``: what one bot process connects as."""

    first: int
    last: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the shard count must be at least 1, not {self.count}")
        if not 0 <= self.first <= self.last < self.count:
            raise ValueError(
                f"shards {self.first}-{self.last} are not a range within 0-{self.count - 1} "
                f"(shard count {self.count})"
            )

    @property
    def ids(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    def owns(self, guild_id: int) -> bool:
        return self.first <= shard_of(guild_id, self.count) <= self.last

    def __str__(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{span} of {self.count}"


class ShardStore(Part):
    async def unposted_in(
        self, shards: ShardRange | None, limit: int = 20, *, after: tuple[float, int] | None = None
    ) -> list[Job]:
        """``unposted(limit, after=…)`` for the guilds of ``shards`` only (every guild when None):
        another process's backlog never fills this one's page."""
        return await self._jobs_in("unposted_jobs", shards, limit, **unposted_cursor(after))

    async def active_jobs_in(self, shards: ShardRange | None, limit: int = 200) -> list[Job]:
        """``active_jobs(limit)`` for the guilds of ``shards`` only (every guild when None)."""
        return await self._jobs_in("active_jobs", shards, limit)

    async def _jobs_in(
        self, query: str, shards: ShardRange | None, limit: int, **params: float | int
    ) -> list[Job]:
        """``query`` (or its ``_in_shards`` twin, for the guilds of ``shards``)."""
        async with self._db.transaction(write=False) as tx:
            if shards is None:
                rows = await tx.fetch_all(query, limit=limit, **params)
            else:
                rows = await tx.fetch_all(f"{query}_in_shards", limit=limit, **params, **_params(shards))
        return [Job.from_row(r) for r in rows]

    async def claim_bot_state(self, key: str, value: str) -> bool:
        """Set ``key`` to ``value``; True only for the one caller that changed it (the key was
        missing or held another value). Two processes claiming the same value at once: one wins."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("claim_bot_state", key=key, value=value, now=self.clock())
        return row is not None

    async def put_bot_state(self, key: str, value: str) -> None:
        """Set ``key`` to ``value`` whatever it held."""
        async with self._db.transaction() as tx:
            await tx.execute("put_bot_state", key=key, value=value, now=self.clock())

    async def release_bot_state(self, key: str, value: str) -> bool:
        """Forget ``key`` if it still holds ``value`` (a claim whose work failed: the next claim
        wins again)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute("release_bot_state", key=key, value=value)
        return changed == 1

    async def bot_state(self, key: str) -> str | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_bot_state", key=key)
        return None if row is None else str(row["value"])


def _params(shards: ShardRange) -> dict[str, int]:
    return {
        "shard_unit": 1 << SHARD_SHIFT,
        "shard_count": shards.count,
        "shard_first": shards.first,
        "shard_last": shards.last,
    }
