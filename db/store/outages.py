"""Whether an error means the job store is away (down, restarting, unreachable, full) rather than a
refusal or a bug: callers that talk to members say "try again in a minute" instead of an apology with
an error id, and loops wait it out."""

from __future__ import annotations

import sqlite3

from db.media import StoreFull

# what SQLite says when the file cannot be written for now: a full disk, another writer holding the
# lock past the busy timeout, an I/O error of the disk under it, a file it cannot open (yet)
_SQLITE_AWAY = ("database or disk is full", "database is locked", "disk i/o error", "unable to open")


def store_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what it was raised from) says the store cannot be reached or written
    right now. Only an explicit cause counts: an error raised while handling another is its own."""
    seen: BaseException | None = error
    while seen is not None:
        if _away(seen):
            return True
        seen = seen.__cause__
    return False


def _away(error: BaseException) -> bool:
    if isinstance(error, StoreFull | ConnectionError | TimeoutError):
        return True
    if isinstance(error, sqlite3.OperationalError):
        return any(words in str(error).lower() for words in _SQLITE_AWAY)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover (asyncpg comes with videobot)
        return isinstance(error, OSError)
    if isinstance(
        error,
        asyncpg.PostgresConnectionError  # refused, lost mid-query, no such connection any more
        | asyncpg.exceptions.OperatorInterventionError  # shutting down, starting up, crashed
        | asyncpg.exceptions.InsufficientResourcesError  # disk full, out of memory, too many clients
        | asyncpg.exceptions.ConnectionDoesNotExistError,
    ):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        return "connection" in str(error).lower()  # "connection is closed"; not a misuse of the API
    # nothing answers on the server's port, or its address does not resolve (a failover in DNS)
    return isinstance(error, OSError) and not isinstance(error, FileNotFoundError | PermissionError)
