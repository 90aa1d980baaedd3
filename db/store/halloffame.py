"""The job store's part for the hall of fame: which clip was posted there, as which message.

A mixin of :class:`db.store.JobStore`: the same connection, clock and transactions; its queries in
``db/sql/halloffame.sql``, its tables in a migration of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from db.store.connector import Connector


class HallOfFameStore:
    _db: Connector
    clock: Callable[[], float]
