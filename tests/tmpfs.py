"""A small disk of its own for a test: a tmpfs mounted on a folder (root only), and a file that fills it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(folder: Path, size: str = "8m") -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size``, unmounted afterwards; skips the test where that is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(path: Path) -> int:
    """Write ``path`` until its disk is full (ENOSPC); the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as out:
        for chunk in (b"\0" * 65536, b"\0" * 512):
            try:
                while True:
                    written += out.write(chunk)
            except OSError:
                pass
    return written
