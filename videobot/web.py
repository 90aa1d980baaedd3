"""``videobot web``: the web gallery of the servers that opted in (aiohttp + Jinja2)."""

from __future__ import annotations

import argparse


def run_web(args: argparse.Namespace) -> int:
    raise NotImplementedError("videobot web is being written")
