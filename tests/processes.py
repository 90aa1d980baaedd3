"""A real `videobot worker` process on a test's job store."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO


class WorkerProcess:
    """``videobot worker --device cpu`` on ``db_path`` (a SQLite file or a database URL); its stderr
    goes to a file (a pipe nobody reads would fill up and freeze the worker mid-transaction), readable
    with :meth:`log`."""

    def __init__(self, db_path: Path | str, presets_file: Path, env: Mapping[str, str] | None = None) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "videobot",
            "worker",
            "--device",
            "cpu",
            "--database",
            str(db_path),
        ]
        self.env = {**os.environ, "VIDEOBOT_PRESETS": str(presets_file), **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def start(self) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(self.argv, env=self.env, stderr=self._stderr)

    def log(self) -> str:
        """What the worker wrote to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the worker dies without a word, as under the OOM killer or a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
