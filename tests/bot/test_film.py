"""A story's film under the upload limit: the plan (pure) and ffmpeg's part, on real small mp4s."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.film import MIN_SHORT_SIDE, FilmError, fit_film, min_kbps, plan_fit
from tests.mp4probe import audio_facts, make_clip, probe

MiB = 1024 * 1024


def test_a_film_a_little_too_big_keeps_its_size_at_a_lower_bitrate() -> None:
    plan = plan_fit(20.0, 768, 512, 24.0, 10 * MiB, audio=True)
    assert (plan.parts, plan.width, plan.height) == (1, 768, 512)
    assert plan.video_kbps * 20.0 * 1000 / 8 < 10 * MiB
    assert plan.video_kbps >= min_kbps(768, 512, 24.0)


def test_a_longer_film_is_made_smaller_before_it_is_cut() -> None:
    plan = plan_fit(120.0, 768, 512, 24.0, 10 * MiB, audio=True)
    assert plan.parts == 1 and plan.width < 768 and plan.height < 512
    assert plan.width % 2 == plan.height % 2 == 0
    assert (plan.video_kbps + 64) * 120 * 1000 / 8 < 10 * MiB


def test_a_film_too_long_for_any_size_is_cut_into_parts_that_each_fit() -> None:
    plan = plan_fit(1800.0, 768, 512, 24.0, 10 * MiB, audio=True)
    assert plan.parts > 1 and min(plan.width, plan.height) >= MIN_SHORT_SIDE
    assert plan.part_s * plan.parts == pytest.approx(1800.0)
    assert (plan.video_kbps + 64) * plan.part_s * 1000 / 8 < 10 * MiB
    assert plan.video_kbps >= min_kbps(plan.width, plan.height, 24.0)


def test_a_limit_that_holds_no_film_is_an_error() -> None:
    with pytest.raises(FilmError):
        plan_fit(10.0, 768, 512, 24.0, 1000, audio=True)


def test_a_film_that_fits_is_posted_as_it_is(tmp_path: Path) -> None:
    film = make_clip(tmp_path / "film.mp4", seconds=1.0).read_bytes()
    assert fit_film(film, len(film)) == [film]


def test_a_film_over_the_limit_is_encoded_again_to_fit(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "film.mp4", size=(320, 192), seconds=4.0, extra=("-b:v", "2M"))
    film = source.read_bytes()
    limit = len(film) // 3
    (smaller,) = fit_film(film, limit)
    assert len(smaller) <= limit
    out = tmp_path / "out.mp4"
    out.write_bytes(smaller)
    facts = probe(out)
    assert facts.codec == "h264" and facts.pix_fmt == "yuv420p" and facts.faststart
    assert facts.duration == pytest.approx(4.0, abs=0.2)
    assert audio_facts(out) is not None  # the sound comes along


def test_a_film_that_cannot_fit_whole_is_posted_in_parts_each_under_the_limit(tmp_path: Path) -> None:
    film = make_clip(tmp_path / "film.mp4", size=(256, 160), seconds=6.0, extra=("-b:v", "1M")).read_bytes()
    limit = 40_000
    parts = fit_film(film, limit)
    assert len(parts) > 1
    total = 0.0
    for i, part in enumerate(parts):
        assert len(part) <= limit
        path = tmp_path / f"part{i}.mp4"
        path.write_bytes(part)
        total += probe(path).duration
    assert total == pytest.approx(6.0, abs=0.5)  # every second of the film, once
