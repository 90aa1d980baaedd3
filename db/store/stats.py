"""The job store's part for the numbers behind /stats and `videobot status`: GPU-seconds per member,
queue waits per day, clips per hour.

A mixin of :class:`db.store.JobStore`: the same connection, clock and transactions; its queries in
``db/sql/stats.sql``.
"""

from __future__ import annotations

from collections.abc import Callable

from db.store.connector import Connector


class StatsStore:
    _db: Connector
    clock: Callable[[], float]
