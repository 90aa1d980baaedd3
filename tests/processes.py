"""A real `videobot worker` process on a test's job store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class WorkerProcess:
    def __init__(self, db_path: Path, presets_file: Path) -> None:
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
        self.env = {**os.environ, "VIDEOBOT_PRESETS": str(presets_file)}
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, stderr=subprocess.PIPE, text=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
