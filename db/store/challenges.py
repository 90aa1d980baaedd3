"""The job store's part for challenges: their themes, threads, entries, votes (kept for audit) and results.

A mixin of :class:`db.store.JobStore`: the same connection, clock and transactions; its queries in
``db/sql/challenges.sql``, its tables in a migration of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from db.store.connector import Connector


class ChallengeStore:
    _db: Connector
    clock: Callable[[], float]
