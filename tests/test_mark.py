"""The visible AI mark (issue 21): a server that asks for it gets a small "AI" ("KI" in German) in the
bottom-right corner of every frame of its new clips; a clip without it is exactly as before."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import open_store
from generator.hd import upscale
from generator.loader import PipelineCache
from generator.mark import MIN_TEXT_PX, mark_box, mark_frames, mark_overlay, mark_text, text_size
from generator.render import Conditioning, render
from generator.worker import Worker, WorkerConfig
from tests.test_cli import videobot

CATALOG = PresetCatalog.load(presets_file="")


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


def outside(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``frames`` with the mark's box blanked: what must not change."""
    top, bottom, left, right = box
    kept = frames.copy()
    kept[:, top:bottom, left:right] = 0
    return kept


def corner_change(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> float:
    top, bottom, left, right = box
    region = np.s_[:, top:bottom, left:right]
    return float(np.abs(after[region].astype(int) - before[region].astype(int)).mean())


def test_the_words_follow_the_members_language() -> None:
    assert [mark_text(x) for x in ("de", "de-DE", "de_AT", "DE-ch")] == ["KI"] * 4
    assert [mark_text(x) for x in ("en-US", "en-GB", "fr", "ja", "", None)] == ["AI"] * 6


@pytest.mark.parametrize(("height", "width"), [(720, 1280), (512, 768), (64, 96), (32, 32)])
def test_only_the_bottom_right_corner_changes_and_the_mark_shows_on_black_and_white(
    height: int, width: int
) -> None:
    rng = np.random.default_rng(1)
    frames = np.stack(
        [
            np.zeros((height, width, 3), np.uint8),
            np.full((height, width, 3), 255, np.uint8),
            rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        ]
    )
    marked = mark_frames(frames, "AI")
    assert marked.shape == frames.shape and marked.dtype == np.uint8
    assert not np.shares_memory(marked, frames) and frames[0].max() == 0  # a new array: the input stays
    box = mark_box("AI", height, width)
    top, bottom, left, right = box
    # in the bottom-right corner, within a small margin, and small on a real clip
    assert bottom > height * 0.8 and right > width * 0.8 and bottom < height and right < width
    if height >= 512:
        assert (bottom - top) * (right - left) < 0.01 * height * width
    assert np.array_equal(outside(marked, box), outside(frames, box))  # the rest bit for bit
    for n in range(3):  # white letters on black, the dark box on white, and on noise
        assert corner_change(frames[n : n + 1], marked[n : n + 1], box) > 20, n
    # legible: the letters are about 1/18 of the height, never under MIN_TEXT_PX
    assert text_size(height) == max(MIN_TEXT_PX, round(height / 18))


def test_the_mark_is_half_transparent_and_scales_with_the_frame() -> None:
    small, margin_small = mark_overlay("AI", 360)
    large, margin_large = mark_overlay("AI", 720)
    alpha = large[..., 3]
    assert alpha.max() < 255 and alpha[alpha > 0].min() < 128  # the picture shows through, everywhere
    assert large.shape[0] == pytest.approx(2 * small.shape[0], abs=2)
    assert large.shape[1] == pytest.approx(2 * small.shape[1], abs=3)
    assert margin_large == pytest.approx(2 * margin_small, abs=1)


def test_german_members_get_ki_not_ai() -> None:
    frames = np.zeros((1, 360, 640, 3), np.uint8)
    english, german = mark_frames(frames, mark_text("en-US")), mark_frames(frames, mark_text("de"))
    assert not np.array_equal(english, german)


def test_a_renders_own_frames_are_marked_without_a_copy() -> None:
    frames = np.full((2, 90, 160, 3), 128, np.uint8)
    expected = mark_frames(frames, "AI")
    assert mark_frames(frames, "AI", in_place=True) is frames and np.array_equal(frames, expected)
    frozen = np.full((2, 90, 160, 3), 128, np.uint8)
    frozen.setflags(write=False)  # not writable: a new array, as without in_place
    assert np.array_equal(mark_frames(frozen, "AI", in_place=True), expected) and frozen.max() == 128


def test_frames_of_another_layout_are_refused() -> None:
    for bad in (
        np.zeros((4, 8, 3), np.uint8),
        np.zeros((1, 8, 8, 3), np.float32),
        np.zeros((1, 8, 8, 4), np.uint8),
    ):
        with pytest.raises(ValueError):
            mark_frames(bad, "AI")


def test_a_spec_keeps_its_mark_and_one_stored_before_it_has_none() -> None:
    spec = JobSpec("a cat", model="ltx-video", seed=3, mark=True)
    assert JobSpec.from_json(spec.to_json()) == spec
    old = json.loads(replace(spec, mark=False).to_json())
    del old["mark"]  # a job queued before the setting existed
    assert JobSpec.from_json(json.dumps(old)).mark is False


def test_a_render_without_the_mark_is_unchanged_and_with_it_only_the_corner_differs(
    tiny_ltx: Path, cache: PipelineCache
) -> None:
    spec = JobSpec("a lighthouse at night", model=str(tiny_ltx), seconds=1, seed=11)
    plain = render(resolve_spec(spec, CATALOG), cache=cache).frames
    stored = json.loads(spec.to_json())
    del stored["mark"]  # as a spec stored before the field
    before = render(resolve_spec(JobSpec.from_json(json.dumps(stored)), CATALOG), cache=cache).frames
    assert np.array_equal(plain, before)

    marked = render(resolve_spec(replace(spec, mark=True), CATALOG), cache=cache).frames
    german = render(resolve_spec(replace(spec, mark=True), CATALOG, locale="de"), cache=cache).frames
    _, height, width, _ = plain.shape
    box = mark_box("AI", height, width)
    assert np.array_equal(outside(marked, box), outside(plain, box))
    assert corner_change(plain, marked, box) > 5
    assert np.array_equal(marked, mark_frames(plain, "AI"))  # every frame, the same mark
    assert np.array_equal(german, mark_frames(plain, "KI"))


def test_a_continuation_marks_only_its_new_frames(tiny_ltx: Path, cache: PipelineCache) -> None:
    parent = np.zeros((9, 64, 96, 3), np.uint8)  # a dark clip, unmarked
    spec = JobSpec("the night goes on", model=str(tiny_ltx), seconds=1, seed=4, continues=0)
    plan = resolve_spec(spec, CATALOG)
    plain = render(plan, cache=cache, condition=Conditioning(frames=parent)).frames
    marked = render(
        replace(plan, spec=replace(plan.spec, mark=True)), cache=cache, condition=Conditioning(frames=parent)
    ).frames
    assert len(marked) == plan.num_frames - 1  # the parent's frames are not in it
    assert np.array_equal(marked, mark_frames(plain, "AI"))


def test_an_hd_version_carries_the_mark_at_its_own_size(tiny_ltx2_hd: Path, cache: PipelineCache) -> None:
    draft = np.random.default_rng(3).integers(0, 256, (9, 64, 128, 3), dtype=np.uint8)
    plan = resolve_spec(
        JobSpec("rain on a roof", model=str(tiny_ltx2_hd), seconds=1, seed=5, upscales=1), CATALOG
    )
    plan = replace(plan, num_frames=9)
    plain = upscale(plan, fps=24, frames=draft, cache=cache).frames
    marked = upscale(
        replace(plan, spec=replace(plan.spec, mark=True)), fps=24, frames=draft, cache=cache
    ).frames
    assert plain.shape == (9, 128, 256, 3)  # 2x the draft each side
    assert np.array_equal(marked, mark_frames(plain, "AI"))


async def test_the_worker_marks_a_job_in_the_language_of_the_member_who_asked(
    catalog: PresetCatalog, tmp_path: Path
) -> None:
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        await store.settings.update_settings(1, ai_mark=True)
        spec = resolve_spec(JobSpec("a cat", model="tiny-wan", seconds=1, seed=2), catalog).spec
        german = await store.jobs.enqueue(1, 2, 3, spec, 10, locale="de")
        english = await store.jobs.enqueue(1, 2, 4, spec, 10)
        worker = Worker(store, catalog, PipelineCache(device="cpu"), WorkerConfig("w1", ("tiny-wan",)))
        for job, words in ((german, "KI"), (english, "AI")):
            plan = worker.plan_for(job)
            assert plan.spec.mark and mark_text(plan.locale) == words
    finally:
        await store.close()


def test_videobot_generate_mark_draws_it(tiny_ltx: Path, cache: PipelineCache, tmp_path: Path) -> None:
    poster = tmp_path / "clip.png"
    args = ("--model", str(tiny_ltx), "--seconds", "1", "--seed", "6", "--device", "cpu")
    result = videobot(
        "generate", "a red kite", "-o", str(tmp_path / "clip.mp4"), *args, "--mark", "--poster", str(poster)
    )
    assert result.returncode == 0, result.stderr
    plain = render(
        JobSpec("a red kite", model=str(tiny_ltx), seconds=1, seed=6), catalog=CATALOG, cache=cache
    )
    middle = len(plain.frames) // 2
    shown = np.asarray(Image.open(poster).convert("RGB"))  # the poster: the middle frame, lossless
    assert np.array_equal(shown, mark_frames(plain.frames, "AI")[middle])
