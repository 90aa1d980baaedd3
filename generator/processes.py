"""Which processes of this machine are alive, and in which process namespace a pid means something.

Light on purpose (no torch): ``videobot worker`` registers before it loads the pipelines.
"""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_space() -> str | None:
    """The process namespace this process's pid is read in: this boot of this machine (its random
    boot id) and the pid namespace (a container has its own). None where Linux's /proc does not say:
    then no successor trusts a pid, and leases alone find dead workers."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return f"{boot}:{namespace}"
