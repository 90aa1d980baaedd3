"""`videobot worker` on a job store it cannot open: one clear line and exit status 1, never a hang."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.store import open_store


def run_worker(database: Path, presets_file: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "videobot", "worker", "--device", "cpu", "--database", str(database)],
        env={**os.environ, "VIDEOBOT_PRESETS": str(presets_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def test_a_corrupt_database_file_is_one_line_and_exit_status_1(tmp_path: Path, presets_file: Path) -> None:
    database = tmp_path / "videobot.db"
    database.write_bytes(b"this is no database, just garbage " * 300)
    code, stderr, seconds = run_worker(database, presets_file)
    assert code == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open the job store" in lines[0], stderr
    assert seconds < 10


async def test_a_database_from_a_newer_videobot_is_refused(tmp_path: Path, presets_file: Path) -> None:
    database = tmp_path / "videobot.db"
    await (await open_store(str(database))).close()  # a migrated database
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)")
    code, stderr, _ = run_worker(database, presets_file)
    assert code == 1, stderr
    assert "newer" in stderr and "upgrade" in stderr, stderr


@pytest.mark.parametrize("found", [99])
async def test_open_store_refuses_a_newer_schema(tmp_path: Path, found: int) -> None:
    from db.store import SchemaTooNew

    database = tmp_path / "videobot.db"
    await (await open_store(str(database))).close()
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)", (found,)
        )
    with pytest.raises(SchemaTooNew, match="newer"):
        await open_store(str(database))
