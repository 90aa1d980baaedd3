"""The job store's part for stories told together: scenes, rounds of proposals and their votes.

A mixin of :class:`db.store.JobStore`: the same connection, clock and transactions; its queries in
``db/sql/stories.sql``, its tables in a migration of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from db.store.connector import Connector


class StoryStore:
    _db: Connector
    clock: Callable[[], float]
