"""What every part of the store shares: the connector, the media and the clock.

The store (:class:`db.store.Store`) is one small object; each feature's data is a part of it
(``store.jobs``, ``store.challenges``, …), a subclass of :class:`Part` in a module of its own with its
queries in ``db/sql/<part>.sql``. A part reads and writes through the connector only: it does not call
another part's private helpers (what two parts share is a function of a module, taking a transaction).
"""

from __future__ import annotations

from collections.abc import Callable

from db.media import MediaStore
from db.store.connector import Connector

Clock = Callable[[], float]


class Part:
    """One feature's share of the store: the same connection, media and clock as every other part."""

    def __init__(self, connector: Connector, media: MediaStore, clock: Clock) -> None:
        self._db = connector
        self._media = media
        self.clock = clock
