"""A failed job reads in the language of the member who asked for it, whatever the worker's language."""

from __future__ import annotations

from pathlib import Path

from bot.text import status_line
from db.store import open_store
from tests.store.helpers import MODEL, submit


async def test_a_german_member_reads_why_their_clip_failed_in_german(tmp_path: Path) -> None:
    async with await open_store(str(tmp_path / "videobot.db")) as store:
        job = await submit(store, 1)
        assert await store.jobs.claim_next("w1", [MODEL]) is not None
        assert await store.jobs.fail(job.id, "w1", "model_unavailable", params={"model": "Wan 2.1 14B"})
        failed = await store.jobs.get(job.id)
        assert failed is not None
        assert status_line(failed, "de") == (
            "❌ Fehlgeschlagen: Das Modell Wan 2.1 14B ist auf diesem Rechner nicht verfügbar."
        )
        assert status_line(failed, "en-US") == (
            "❌ Failed: The model Wan 2.1 14B is not available on this machine."
        )


async def test_a_failure_from_before_codes_shows_its_stored_sentence(tmp_path: Path) -> None:
    async with await open_store(str(tmp_path / "videobot.db")) as store:
        job = await submit(store, 1)
        assert await store.jobs.claim_next("w1", [MODEL]) is not None
        assert await store.jobs.fail(job.id, "w1", "a-code-from-a-newer-worker")
        failed = await store.jobs.get(job.id)
        assert failed is not None
        assert status_line(failed, "de") == "❌ Fehlgeschlagen: a-code-from-a-newer-worker"
