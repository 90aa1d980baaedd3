"""HD: a draft of a two-stage preset finished at full size, from its latents or from any clip's frames."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from generator.encode import encode_mp4
from generator.hd import hd_clip, padded_frames
from generator.loader import REFINE, UPSAMPLE, PipelineCache
from generator.render import render
from tests.mp4probe import audio_facts, decode_audio, dominant_frequency, make_clip, probe
from tests.test_cli import videobot

CATALOG = PresetCatalog.load(presets_file="")


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


def test_the_frame_counts_the_pipeline_takes() -> None:
    assert [padded_frames(n, 8) for n in (1, 2, 9, 10, 25, 36, 241)] == [1, 9, 9, 17, 25, 41, 241]


def test_a_draft_renders_at_half_size_and_its_hd_version_from_its_latents(
    tiny_ltx2_hd: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    spec = JobSpec("rain on a tin roof", model=str(tiny_ltx2_hd), seconds=1, seed=5)
    plan = resolve_spec(spec, CATALOG)
    assert (plan.width, plan.height) == (128, 64)  # half of the preset's 16:9 size, 256x128
    draft = render(plan, cache=cache)
    assert draft.latents is not None and draft.frames.shape == (25, 64, 128, 3)
    assert draft.audio is not None and draft.sample_rate is not None
    draft_path = encode_mp4(
        draft.frames, draft.fps, tmp_path / "draft.mp4", audio=draft.audio, sample_rate=draft.sample_rate
    ).path

    steps: list[tuple[int, int]] = []
    hd_plan = resolve_spec(replace(plan.spec, upscales=1), CATALOG)
    result = hd_clip(
        draft_path,
        hd_plan,
        tmp_path / "hd.mp4",
        latents=draft.latents,
        cache=cache,
        on_progress=lambda step, total: steps.append((step, total)),
    )
    assert result.from_latents
    facts = probe(result.clip.path)
    assert (facts.width, facts.height) == (256, 128)  # 2x each side
    assert facts.frames == 25 and facts.duration == pytest.approx(25 / 24, abs=1 / 24)
    sound = audio_facts(result.clip.path)
    assert sound is not None and sound.duration == pytest.approx(25 / 24, abs=0.05)
    # the upsample, then the preset's 3 refine steps; the member's status counts them
    assert steps == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]

    # one copy of the weights: both stages share the loaded pipeline's components
    pipe = cache.get(plan.preset)
    upsample, refine = cache.get(plan.preset, UPSAMPLE), cache.get(plan.preset, REFINE)
    assert upsample.vae is pipe.vae and refine.transformer is pipe.transformer
    assert cache.loads == 1

    # the same seed and draft give the same HD clip
    again = hd_clip(draft_path, hd_plan, tmp_path / "again.mp4", latents=draft.latents, cache=cache)
    assert again.clip.path.read_bytes() == result.clip.path.read_bytes()


def test_hd_from_a_drafts_frames_keeps_its_sound(
    tiny_ltx2_hd: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    """No latents at hand (another worker, a restart): the draft's frames are encoded and its own
    sound is kept as it was."""
    draft_path = make_clip(tmp_path / "draft.mp4", size=(128, 64), fps="24", seconds=1.5, tone=440.0)
    spec = JobSpec("a test pattern", model=str(tiny_ltx2_hd), seed=2, upscales=1, aspect="16:9")
    result = hd_clip(draft_path, spec, tmp_path / "hd.mp4", cache=cache, catalog=CATALOG)
    assert not result.from_latents and result.has_audio
    facts = probe(result.clip.path)
    assert (facts.width, facts.height, facts.frames) == (256, 128, 36)  # 36 frames: padded to 41, cut back
    samples = decode_audio(result.clip.path)
    assert dominant_frequency(samples[4800:-4800], 48000) == pytest.approx(440, abs=5)


def test_videobot_hd_finishes_any_clip(tiny_ltx2_hd: Path, tmp_path: Path) -> None:
    source = make_clip(tmp_path / "pattern.mp4", size=(160, 96), fps="24", seconds=1.5, tone=440.0)
    out = tmp_path / "pattern-hd.mp4"
    done = videobot("hd", str(source), "-o", str(out), "--model", str(tiny_ltx2_hd), "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1 and "seed 3" in done.stdout
    facts = probe(out)
    # the preset's HD size of the aspect nearest the clip's (160x96 is 5:3: 16:9), its frames and rate
    assert (facts.width, facts.height, facts.fps, facts.frames) == (256, 128, 24, 36)
    assert facts.duration == pytest.approx(1.5, abs=1 / 24)
    samples = decode_audio(out)
    assert dominant_frequency(samples[4800:-4800], 48000) == pytest.approx(440, abs=5)


def test_videobot_hd_refuses_what_it_cannot_do(tiny_ltx: Path, tiny_ltx2_hd: Path, tmp_path: Path) -> None:
    source = make_clip(tmp_path / "pattern.mp4", size=(160, 96), fps="24", seconds=1.0)
    out = tmp_path / "out.mp4"
    no_hd = videobot("hd", str(source), "-o", str(out), "--model", str(tiny_ltx))
    assert no_hd.returncode == 2 and "makes no HD versions" in no_hd.stderr
    not_a_clip = tmp_path / "notes.mp4"
    not_a_clip.write_text("not a video")
    unreadable = videobot("hd", str(not_a_clip), "-o", str(out), "--model", str(tiny_ltx2_hd))
    assert unreadable.returncode == 2 and len(unreadable.stderr.strip().splitlines()) == 1
    too_long = make_clip(tmp_path / "long.mp4", size=(160, 96), fps="24", seconds=12.0, tone=None)
    long_answer = videobot("hd", str(too_long), "-o", str(out), "--model", str(tiny_ltx2_hd))
    assert long_answer.returncode == 2 and "seconds" in long_answer.stderr
    assert not out.exists()


def test_a_preset_with_an_upsampler_needs_sizes_on_the_64_pixel_grid(
    tiny_ltx2_hd: Path, tmp_path: Path
) -> None:
    from db.presets import PresetError
    from tests.tiny_models import preset_entry

    preset = CATALOG.resolve(str(tiny_ltx2_hd))
    assert preset is not None and preset.has_hd and preset.refine_steps == 3
    odd = tmp_path / "presets.json"
    entry = preset_entry("ltx-2", tiny_ltx2_hd, sizes={"3:2": [96, 64]}, default_aspect="3:2")
    odd.write_text(json.dumps({"odd-hd": entry}))
    # the half-size draft (48x32) would be off the VAE's 32-pixel grid: the operator hears it at load
    with pytest.raises(PresetError, match="multiple of 64"):
        PresetCatalog.load(odd)


def test_a_distilled_schedule_runs_exactly_as_its_sigmas_say() -> None:
    """LTX-2's dev repositories shift sigmas by the clip's length (dynamic shifting, a terminal
    shift); a distilled draft's 8 sigmas and the refine stage's 3 must be taken as they are."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    from generator.loader import exact_sigmas_scheduler
    from tests.tiny_models import DISTILLED_SIGMAS, REFINE_SIGMAS

    shifting = FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, shift_terminal=0.1)
    exact = exact_sigmas_scheduler(shifting)
    for sigmas in (DISTILLED_SIGMAS, REFINE_SIGMAS):
        shifting.set_timesteps(sigmas=sigmas, mu=2.0)
        exact.set_timesteps(sigmas=sigmas, mu=2.0)
        assert shifting.sigmas[:-1].tolist() != pytest.approx(sigmas)  # what went wrong before
        assert exact.sigmas[:-1].tolist() == pytest.approx(sigmas) and float(exact.sigmas[-1]) == 0.0
    plain = FlowMatchEulerDiscreteScheduler()
    assert exact_sigmas_scheduler(plain) is plain  # nothing to change: the same object


def test_an_hd_version_is_refined_with_its_drafts_style(
    tiny_ltx2_hd: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    from bench.styles import make_lora
    from generator.clipio import read_frames

    lora = make_lora(tiny_ltx2_hd, tmp_path / "style.safetensors", seed=3)
    spec = JobSpec("rain on a tin roof", model=str(tiny_ltx2_hd), seconds=1, seed=5)
    plan = resolve_spec(spec, CATALOG)
    draft = render(plan, cache=cache)
    draft_path = encode_mp4(draft.frames, draft.fps, tmp_path / "draft.mp4").path

    def finished(loras: tuple[tuple[str, float], ...], name: str) -> Path:
        hd_plan = resolve_spec(replace(plan.spec, upscales=1, loras=loras), CATALOG)
        result = hd_clip(draft_path, hd_plan, tmp_path / name, latents=draft.latents, cache=cache)
        return result.clip.path

    plain = read_frames(finished((), "plain.mp4"))[0]
    styled = read_frames(finished(((str(lora), 1.0),), "styled.mp4"))[0]
    assert plain.shape == styled.shape and not (plain == styled).all()  # the refine ran with the style
    again = read_frames(finished((), "again.mp4"))[0]
    assert (again == plain).all()  # and left it out of play afterwards
