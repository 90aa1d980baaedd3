"""``videobot status``: the queue per server, the workers with their model and current job, and clips
per hour, read from the job store."""

from __future__ import annotations

import argparse


def run_status(args: argparse.Namespace) -> int:
    raise NotImplementedError("videobot status is being written")
