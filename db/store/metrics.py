"""The job store's part for operations: the health check's ping and the queue depth of every guild,
which the bot's ``/metrics`` shows.

``store.metrics``, a :class:`db.store.part.Part`: the same connection, clock and transactions; its
queries in ``db/sql/metrics.sql``.
"""

from __future__ import annotations

from db.store.part import Part


class MetricsStore(Part):
    async def ping(self) -> None:
        """One cheap read of the jobs table; raises when the database does not answer."""
        async with self._db.transaction(write=False) as tx:
            await tx.fetch_one("metrics_ping")

    async def queued_by_guild(self) -> dict[int, int]:
        """Jobs waiting per guild (guilds with none are left out), from one query."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("metrics_queued_by_guild")
        return {int(r["guild_id"]): int(r["n"]) for r in rows}
