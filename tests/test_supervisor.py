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


def test_models_named_to_run_go_to_every_worker_and_not_to_the_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    bot, *workers = plan_children(argparse.Namespace(database=None, models="ltx-2-distilled,wan-1.3b"))
    assert "--models" not in bot.argv
    for worker in workers:
        assert worker.argv[worker.argv.index("--models") + 1] == "ltx-2-distilled,wan-1.3b"


def test_a_crashing_worker_is_started_again_after_a_doubling_delay_capped_at_five_minutes() -> None:
    from videobot.run import restart_delay

    assert [restart_delay(n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert restart_delay(1000) == 300


def test_the_delay_starts_over_once_a_worker_ran_a_while() -> None:
    from videobot.run import RAN_A_WHILE_S, Child

    child = Child("worker-cpu", [], {})
    child.started_at = 0.0
    assert [child.exited(1.0) for _ in range(3)] == [5, 10, 20]
    child.started_at = 100.0
    assert child.exited(100.0 + RAN_A_WHILE_S) == 5
