"""The job store's part for the web gallery: the best clips of the servers that opted in, and a clip's
chain.

A mixin of :class:`db.store.JobStore`: the same connection, clock and transactions; its queries in
``db/sql/gallery.sql``.
"""

from __future__ import annotations

from collections.abc import Callable

from db.store.connector import Connector


class GalleryStore:
    _db: Connector
    clock: Callable[[], float]
