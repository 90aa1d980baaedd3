"""`videobot run`'s plan of child processes: what each one is given."""

from __future__ import annotations

import argparse

import pytest

from videobot.run import plan_children


def test_the_token_goes_to_the_bot_and_never_to_a_gpu_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    children = plan_children(argparse.Namespace(database=None))
    bot, *workers = children
    assert bot.name == "bot" and bot.env["DISCORD_TOKEN"] == "secret-token"
    assert [w.name for w in workers] == ["worker-gpu0", "worker-gpu1"]
    assert all("DISCORD_TOKEN" not in w.env for w in workers)
    assert [w.env["CUDA_VISIBLE_DEVICES"] for w in workers] == ["0", "1"]
