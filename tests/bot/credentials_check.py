"""Reading a posted clip's content credentials in the bot's tests, as a member's /verify would."""

from __future__ import annotations

import tempfile
from pathlib import Path

from db.credentials import Verdict, read_credentials
from db.store import Store


async def verdict_of(data: bytes, store: Store) -> Verdict:
    """The verdict on a clip's bytes, checked against the installation's roots the bot recorded."""
    trust = await store.credentials.trust()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(data)
        return read_credentials(path, trust.roots or None, trust.signers)
