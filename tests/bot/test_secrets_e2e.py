"""The bot's token stays a secret: it is in no repr of the settings that hold it, and no ffmpeg the
bot starts (to check a clip before posting it, to fit a story's film) inherits it from the bot's
environment. The children are real: ffmpeg is found through imageio-ffmpeg's IMAGEIO_FFMPEG_EXE, here
a small script that writes down the environment it was started with and then becomes the real ffmpeg."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from bot.app import VideoBot
from bot.config import BotConfig
from bot.film import fit_film
from db.store import JobResult, Store
from generator.encode import encode_mp4
from tests.bot.conftest import job_posted
from tests.discord_fake import DiscordFake
from tests.mp4probe import make_clip
from tests.store.helpers import spec
from videobot.run import plan_children

TOKEN = "MTA5.secret-bot-token.xyz"
DB_PASSWORD = "db-password-4711"


def test_the_token_and_the_database_password_are_in_no_repr_of_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("VIDEOBOT_DATABASE_URL", f"postgresql://videobot:{DB_PASSWORD}@db.internal/videobot")
    config = BotConfig.from_env()
    assert config.token == TOKEN
    for shown in (repr(config), str(config), f"{config}", f"{config!r}"):
        assert TOKEN not in shown and DB_PASSWORD not in shown, shown
    bot_child = plan_children(argparse.Namespace(database=None))[0]  # `videobot run`'s plan of its bot
    assert bot_child.env["DISCORD_TOKEN"] == TOKEN
    assert TOKEN not in repr(bot_child) and TOKEN not in str(bot_child)


@pytest.fixture
def ffmpeg_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that gets one file per ffmpeg started from now on: its environment, as /proc has it."""
    real = imageio_ffmpeg.get_ffmpeg_exe()
    seen = tmp_path / "ffmpeg-environments"
    seen.mkdir()
    spy = tmp_path / "ffmpeg"
    script = f'#!/bin/sh\ncat /proc/$$/environ > "{seen}/$$.env"\nexec "{real}" "$@"\n'  # exec: same pid
    spy.write_text(script, encoding="utf-8")
    spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(spy))
    return seen


def forget(seen: Path) -> None:
    """Drop what the test's own ffmpeg runs (making a clip to start from) wrote down."""
    for dump in seen.glob("*.env"):
        dump.unlink()


def environments(seen: Path) -> list[dict[str, str]]:
    found = []
    for dump in sorted(seen.glob("*.env")):
        pairs = [
            entry.split("=", 1) for entry in dump.read_text(errors="replace").split("\0") if "=" in entry
        ]
        found.append(dict(pairs))
    return found


async def test_the_ffmpeg_that_checks_a_clip_before_posting_never_sees_the_token(
    discord_fake: DiscordFake,
    bot: VideoBot,
    store: Store,
    ffmpeg_environments: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    frames = np.linspace(0, 255, 12 * 32 * 48 * 3).astype(np.uint8).reshape(12, 32, 48, 3)
    encode_mp4(frames, 12, tmp_path / "clip.mp4")
    mp4 = (tmp_path / "clip.mp4").read_bytes()
    forget(ffmpeg_environments)
    monkeypatch.setenv("DISCORD_TOKEN", discord_fake.token)  # as `videobot bot` has it
    channel = int(discord_fake.channel("general").id)
    job = await store.jobs.enqueue(int(discord_fake.guild.id), channel, 1, spec("a kite"), 1.0)
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(mp4), 48, 32, 12, 12.0, 1.0))
    await job_posted(store, job.id)  # checked by ffmpeg first, then posted
    started = environments(ffmpeg_environments)
    assert started, "the bot started no ffmpeg to check the clip"
    for env in started:
        assert "DISCORD_TOKEN" not in env
        assert discord_fake.token not in "\n".join(env.values())
        assert env.get("IMAGEIO_FFMPEG_EXE")  # the rest of the environment is passed on as it was


def test_the_ffmpeg_that_fits_a_storys_film_never_sees_the_token(
    ffmpeg_environments: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    film = make_clip(tmp_path / "film.mp4", size=(256, 160), seconds=3.0, extra=("-b:v", "1M")).read_bytes()
    forget(ffmpeg_environments)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    (fitted,) = fit_film(film, len(film) // 2)
    assert len(fitted) <= len(film) // 2
    started = environments(ffmpeg_environments)
    assert len(started) >= 2  # one to read the film, one or more to encode it
    assert all("DISCORD_TOKEN" not in env and TOKEN not in "\n".join(env.values()) for env in started)
    assert os.environ["DISCORD_TOKEN"] == TOKEN  # the bot's own environment is left as it was
