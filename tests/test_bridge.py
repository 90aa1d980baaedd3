"""Bridges (issue 19): a clip rendered from one clip's last frames to another clip's first frame, posted
whole as first clip + bridge + second clip, through the real diffusers pipelines with tiny random weights.

Random weights draw noise, so the bridge itself is checked by what the pipeline is given (the first clip's
tail at frame 0, the second clip's first frame where each pipeline takes a clip's last frame); the whole
by its length, its picture (the clips, as good as an encode of them can be) and its sound (each clip's
tone where it was). The clips differ in pattern, size, frame rate and tone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bench import bridge as bench
from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Job, JobResult, Store, open_store
from generator.bridge import bridge_clips
from generator.clipio import fit_frames, read_frames, resample_frames
from generator.encode import encode_mp4
from generator.loader import PipelineCache
from generator.render import fit_image
from generator.worker import Worker, WorkerConfig
from tests.mp4probe import (
    audio_facts,
    decode_audio,
    decode_frames,
    dominant_frequency,
    make_clip,
    probe,
    psnr,
)
from tests.test_cli import videobot
from tests.test_keyframes import CONDITION_PIPELINES, Call, last_index, placed
from tests.test_keyframes import record as record  # a fixture: wraps a diffusers pipeline's __call__
from tests.tiny_models import preset_entry

RATE = 48000
# the first clip: 160x96 (nearest the models' 3:2), 24 fps, 440 Hz; the second: 112x112, 30 fps, 1000 Hz
FIRST_SIZE, FIRST_TONE, SECOND_TONE = (160, 96), 440.0, 1000.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two clips a member might bring, one second each: ffmpeg's moving test pattern with a tone, and the
    same pattern negated, square and at another frame rate, with another tone."""
    folder = tmp_path_factory.mktemp("clips")
    first = make_clip(folder / "first.mp4", size=FIRST_SIZE, fps="24", seconds=1, tone=FIRST_TONE)
    second = make_clip(
        folder / "second.mp4", size=(112, 112), fps="30", seconds=1, tone=SECOND_TONE, extra=("-vf", "negate")
    )
    return first, second


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


def second_as_shown(second: Path) -> np.ndarray:
    """The second clip as the whole shows it: at the first clip's size and frame rate."""
    return fit_frames(resample_frames(decode_frames(second), 30, 24), *FIRST_SIZE)


def luma(frames: np.ndarray) -> np.ndarray:
    """The brightness of RGB ``frames`` (BT.601), on the 0-255 scale :func:`psnr` takes."""
    return frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


@pytest.mark.parametrize("model", list(CONDITION_PIPELINES))
def test_the_bridge_starts_on_the_first_clips_tail_and_ends_on_the_second_clips_first_frame(
    catalog: PresetCatalog,
    cache: PipelineCache,
    clips: tuple[Path, Path],
    tmp_path: Path,
    record: Callable[[str], list[Call]],
    model: str,
) -> None:
    name = CONDITION_PIPELINES[model]
    calls = record(name)
    first, second = clips
    spec = JobSpec("the pattern turns into its negative", model=model, seconds=1, steps=1, seed=3)
    result = bridge_clips(first, second, spec, tmp_path / "joined.mp4", cache=cache, catalog=catalog)

    plan = result.plan
    assert (plan.spec.continues, plan.spec.bridges_to, plan.spec.aspect) == (0, 0, "3:2")
    assert len(calls) == 1
    kwargs = calls[0].kwargs
    tail_count = plan.preset.continue_frames  # 17
    # the bridge is rendered over the tail it is conditioned on: the tail, then the bridge's frames
    assert kwargs["num_frames"] == plan.num_frames + tail_count - 1
    got = placed(name, kwargs)
    assert [index for index, _ in got] == [0, last_index(name, kwargs["num_frames"])]
    tail = read_frames(first, last=tail_count)[0]
    assert np.array_equal(got[0][1], np.stack([fit_image(f, plan.width, plan.height) for f in tail]))
    # the second clip's first frame, as the whole shows it (the first clip's shape), at the render's size
    head = fit_frames(read_frames(second)[0][:1], *FIRST_SIZE)[0]
    assert np.array_equal(got[1][1], fit_image(head, plan.width, plan.height)[None])

    # the whole: both clips whole, the bridge between without the frames that repeat theirs
    assert (result.first_frames, result.second_frames) == (24, 24)  # the second's 30 frames at 24 fps
    assert result.bridge_frames == plan.num_frames - 2
    facts = probe(result.clip.path)
    assert (facts.width, facts.height, facts.fps) == (*FIRST_SIZE, 24)
    assert facts.frames == result.clip.frames == 24 + result.bridge_frames + 24
    sound = audio_facts(result.clip.path)  # both clips have sound (and LTX-2 makes the bridge's)
    assert result.has_audio and sound is not None
    assert sound.duration == pytest.approx(facts.duration, abs=1 / 24)


def test_videobot_bridge_joins_two_clips_with_a_rendered_bridge(
    tiny_ltx: Path, clips: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = clips
    out = tmp_path / "joined.mp4"
    result = videobot(
        "bridge", str(first), str(second), "the pattern turns into its negative", "-o", str(out),
        "--model", str(tiny_ltx), "--seconds", "1", "--seed", "7", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and "seed 7" in result.stdout
    assert "2/2" in result.stderr  # the progress bar reached the last step
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.fps) == (*FIRST_SIZE, 24)  # the first clip's size and rate
    # 1 s, the bridge (1 s from the first clip's last frame to the second's first), 1 s: within a frame
    assert abs(facts.frames - 3 * 24) <= 1
    assert facts.duration == pytest.approx(facts.frames / 24, abs=1 / 24)

    frames = decode_frames(out)
    starts = psnr(frames[:24], decode_frames(first))
    # the second clip, resized, by its brightness: yuv420p keeps a quarter of the colour, and a resized
    # pattern's saturated edges do not survive that (26 dB in RGB even encoded losslessly) ...
    shown = second_as_shown(second)
    ends = psnr(luma(frames[-24:]), luma(shown))
    # ... and in RGB against it resized and encoded once, as the first clip is compared "after both are
    # encoded"
    reference = encode_mp4(shown, 24, tmp_path / "second-shown.mp4").path
    ends_rgb = psnr(frames[-24:], decode_frames(reference))
    print(f"PSNR of the start against the first clip: {starts:.1f} dB; of the end: {ends:.1f} dB (Y), "
          f"{ends_rgb:.1f} dB (RGB, against the second clip resized and encoded)")  # fmt: skip
    assert starts >= 35 and ends >= 30 and ends_rgb >= 30

    # each clip's tone where its picture is; the bridge (a model without sound) is silent
    sound = audio_facts(out)
    assert sound is not None and sound.codec == "aac"
    assert sound.duration == pytest.approx(facts.duration, abs=1 / 24)
    samples = decode_audio(out, RATE)
    margin = RATE // 20
    assert dominant_frequency(samples[margin : RATE - margin], RATE) == pytest.approx(FIRST_TONE, abs=5)
    second_starts = round((facts.frames - 24) / 24 * RATE)
    assert dominant_frequency(samples[second_starts + margin : -margin], RATE) == pytest.approx(
        SECOND_TONE, abs=5
    )
    assert np.abs(samples[RATE + margin : second_starts - margin]).max() < 0.02


@pytest.fixture
def no_bridge_presets(tiny_ltx: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A presets file with a model that continues clips and ends on pictures, but does not bridge."""
    modes = ["text", "continue", "end"]
    presets = {"default": "tiny-nobridge", "tiny-nobridge": preset_entry("ltx-video", tiny_ltx, modes=modes)}
    path = tmp_path_factory.mktemp("config") / "presets.json"
    path.write_text(json.dumps(presets))
    return path


@pytest.mark.parametrize(
    ("which", "model", "words"),
    [
        ("first missing", "tiny", "gone.mp4 does not exist"),
        ("second missing", "tiny", "gone.mp4 does not exist"),
        ("second text", "tiny", "is not a video ffmpeg can read"),
        ("good", "tiny-nobridge", "Tiny LTX cannot bridge two clips. Models that can:"),
    ],
)
def test_bad_input_for_bridge_one_line_nonzero_nothing_written(
    tiny_ltx: Path,
    clips: tuple[Path, Path],
    no_bridge_presets: Path,
    tmp_path: Path,
    which: str,
    model: str,
    words: str,
) -> None:
    first, second = clips
    if which == "first missing":
        first = tmp_path / "gone.mp4"
    elif which == "second missing":
        second = tmp_path / "gone.mp4"
    elif which == "second text":
        second = tmp_path / "notes.mp4"
        second.write_text("not a video\n")
    outputs = tmp_path / "out"
    outputs.mkdir()
    env = {"VIDEOBOT_PRESETS": str(no_bridge_presets)}
    result = videobot(
        "bridge", str(first), str(second), "between", "-o", str(outputs / "joined.mp4"),
        "--model", str(tiny_ltx) if model == "tiny" else model, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(outputs.iterdir()) == []


# ---- the worker reads both clips from the media store --------------------------------------------------

GUILD, CHANNEL = 1, 2


async def stored_clip(store: Store, catalog: PresetCatalog, path: Path, user: int) -> Job:
    """A done job whose clip is the file at ``path`` (as a worker would have stored it)."""
    plan = resolve_spec(JobSpec("a pattern", model="tiny-ltx", seconds=1, seed=1), catalog)
    job = await store.jobs.enqueue(GUILD, CHANNEL, user, plan.spec, estimate_gpu_seconds(plan))
    claimed = await store.jobs.claim_next("maker", ["tiny-ltx"])
    assert claimed is not None and claimed.id == job.id
    video = path.read_bytes()
    ref = await store.jobs.put_media(job.id, video, b"")
    facts = probe(path)
    result = JobResult(ref, len(video), facts.width, facts.height, facts.frames, facts.fps, 0.1)
    assert await store.jobs.finish(job.id, "maker", result)
    return job


async def test_the_worker_bridges_two_stored_clips_and_fails_when_one_is_gone(
    catalog: PresetCatalog, cache: PipelineCache, clips: tuple[Path, Path], tmp_path: Path
) -> None:
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        first = await stored_clip(store, catalog, clips[0], user=3)
        second = await stored_clip(store, catalog, clips[1], user=4)
        spec = JobSpec(
            "between", model="tiny-ltx", seconds=1, steps=1, seed=2, continues=first.id, bridges_to=second.id
        )
        config = WorkerConfig(worker_id="w1", models=tuple(catalog.names()), progress_interval_s=0.05)
        worker = Worker(store, catalog, cache, config)

        async def bridge(user: int) -> Job:
            plan = resolve_spec(spec, catalog)
            job = await store.jobs.enqueue(
                GUILD, CHANNEL, user, plan.spec, estimate_gpu_seconds(plan), parent_id=first.id, kind="bridge"
            )
            await worker.run(asyncio.Event(), max_jobs=1)
            ended = await store.jobs.get(job.id)
            assert ended is not None
            return ended

        done = await bridge(5)
        assert done.state == "done", done
        assert (done.width, done.height, done.fps) == (*FIRST_SIZE, 24)
        assert done.frames == 24 + (resolve_spec(spec, catalog).num_frames - 2) + 24
        # the first clip's frames were first encoded in its file; the rest (the second clip at the first's
        # size and rate too) here
        assert done.segments == ((first.id, 0, 24), (done.id, 24, done.frames - 24))
        media = await store.jobs.get_media(done.id)
        assert media is not None
        (tmp_path / "joined.mp4").write_bytes(media.video)
        assert probe(tmp_path / "joined.mp4").frames == done.frames
        assert audio_facts(tmp_path / "joined.mp4") is not None

        assert await store.jobs.delete_media(second.id)
        failed = await bridge(6)
        assert failed.state == "failed" and failed.error_code == "bridge_end_missing"
        assert dict(failed.error_params) == {"job": second.id}
    finally:
        await store.close()


def test_the_bridge_bench_times_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--small"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| step")]
    assert len(rows) == 5  # four steps and the total
    assert all(float(row.rstrip(" |").rsplit("| ", 1)[1].strip("*")) >= 0 for row in rows)
    # two small clips fit under 10 MiB beside the bridge: their streams are copied, as under 50 MiB
    assert out.count("both clips copied") == 2
    mib = float(out.rsplit("output under the limit: ", 1)[1].split()[0])
    assert 0 < mib <= 10
