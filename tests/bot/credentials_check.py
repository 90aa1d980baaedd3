"""Reading a posted clip's content credentials in the bot's tests, as a member's /verify would."""

from __future__ import annotations

from db.credentials import Verdict
from db.store import Store


async def verdict_of(data: bytes, store: Store) -> Verdict:
    """The verdict on a clip's bytes, checked against the installation's roots the bot recorded."""
    return (await store.credentials.trust()).verdict(data)
