"""``python -m bench.gpu --styles``: what a style (LoRA, issue 20) costs on the compiled default preset.

    python -m bench.gpu --styles [--presets ltx-video] [--steps 8] [--frames N] [--style-slots 4]
                                 [--small] [--write-results] [--results FILE]

The default preset's pipeline is built as ``--smoke`` builds it (full-size architecture, random weights,
placed as the loader places it and sped up with the preset's speed-ups: attention backend and
``compile_repeated_blocks`` with inductor) inside the worker's warm cache (``bench.gpu.BuiltPipelineCache``),
and every clip goes through ``generator.render.render``, which puts a spec's styles in play with
``PipelineCache.use_styles`` and takes them out after the clip, as the worker does. Two styles, A and B,
are LoRAs made with peft for that transformer (random ``lora_A``/``lora_B`` of the same rank,
:data:`STYLE_RANK` on the attention projections :data:`STYLE_TARGETS`), saved as ``.safetensors`` in a
temporary folder and given to the spec as the command line's ``--lora`` gives them (scale 1).

After a warm-up clip without a style (compilation), six clips are timed in this order (:data:`SEQUENCE`):
no style; style A (its first use: loaded into a slot, the compiled blocks see new modules); A again;
B (the first clip after a switch: the cache has the worker's 4 slots, ``--style-slots``, but on a compiled
transformer it keeps only the slot a one-style clip needs, so B is hotswapped into A's: it must not
recompile); B again; no style again
(the adapters disabled: the base model, bit for bit). Each row says how long ``render`` took (the style's
checks and load or hotswap included), the median step, the first step (where a recompilation lands),
the clip at the preset's default steps (estimated from the median step), whether torch._dynamo compiled a
graph during the clip (its ``unique_graphs`` counter; the first guard that failed, when the ``recompiles``
log could be read), and how its 8-bit frames compare with the clip they should equal or differ from.

The clip is short so that the whole run, compilation included, stays within a few minutes of an H100:
the preset's default size, its shortest length (``--frames``), :data:`STYLE_STEPS` steps (``--steps``).
``--small`` runs the scaled-down configs on the CPU in seconds (compile backend "eager": torch._dynamo
traces and guards as with inductor, so the recompilation column means the same; tests/test_gpu_bench.py).

On the lent GPU machine (no network; its image had torch 2.11 and no diffusers or peft): first, here,
``pip download --no-deps -d build/gpu-wheels diffusers==0.42.1 peft==0.21.2`` (7 MiB; imageio-ffmpeg's
68-MB wheel is over the 64-MiB carry limit and this bench never encodes), then one call with
``carry=["build/gpu-wheels"]`` and ``timeout_s`` of about 420::

    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site \
        build/gpu-wheels/*.whl && mkdir -p /tmp/site/imageio_ffmpeg \
    && echo 'def get_ffmpeg_exe(): raise RuntimeError("none")' > /tmp/site/imageio_ffmpeg/__init__.py \
    && PYTHONPATH=/tmp/site python3 -m bench.gpu --styles --write-results 2>&1 | tee $OUT/styles.log; \
    cp bench/RESULTS.md $OUT/
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch

from bench.gpu import (
    FULL,
    INIT_STD,
    NEGATIVE,
    PROMPT,
    RESULTS,
    SMALL,
    Arch,
    BuiltPipelineCache,
    _component,
    _failure,
    _FiniteWatch,
    append_results,
    card_name,
    free_memory,
    on_meta,
    peak_gib,
    place_pipeline,
    reset_peak,
    smoke_preset_for,
    speedup_options,
    sync,
)
from db.presets import BUILTIN_PRESETS, DEFAULT_MODEL, PresetCatalog
from db.spec import JobSpec, resolve_spec
from generator.render import render
from generator.speedups import apply_speedups
from generator.styles import HOTSWAP_RANK, SLOTS

STYLE_STEPS = 8  # timed steps of each clip on a GPU (--steps); --small takes its clip's 3
STYLE_RANK = 32  # the LoRAs' rank on a GPU; 4 with --small
STYLE_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # every attention's projections (peft names)
STYLE_SLOTS = SLOTS  # the worker's; compiled, the cache keeps one (generator.styles): B is hotswapped
# each LoRA layer's output, relative to its base layer's, for an input of unit entries (A and B ~ N(0, s²)):
# random weights decode to nearly flat frames, so a style changes its layers' outputs several times over to
# show in them (speed does not depend on the values)
LORA_STRENGTH = 8.0
# (the row's clip, its style): None is no style
SEQUENCE: tuple[tuple[str, str | None], ...] = (
    ("no style", None),
    ("style A, first use", "A"),
    ("style A again", "A"),
    ("style B, first after a switch", "B"),
    ("style B again", "B"),
    ("no style again", None),
)
# the clip each row's frames must equal (same style), and those they must differ from
SAME_AS: dict[int, int] = {3: 2, 5: 4, 6: 1}
DIFFERS_FROM: dict[int, tuple[int, ...]] = {2: (1,), 4: (1, 2)}
RECOMPILES_LOG = "torch._dynamo.guards.__recompiles"


@dataclass
class StyleRow:
    index: int  # 1 … 6, as in SEQUENCE
    clip: str
    style: str  # "A", "B" or "–"
    slot: str = ""  # what the cache did: loaded into a slot, hotswapped, kept, adapters off
    seconds: float = math.nan  # render(), spec to frames, synchronised: the style's switch included
    switch_s: float | None = None  # render()'s start to the pipeline call: checks, load or hotswap
    step_s: float | None = None  # the median step
    first_step_s: float | None = None  # the first transformer call to the first step's end
    estimate_s: float | None = None  # seconds + (the preset's steps - the timed steps) x step_s
    peak_gib: float | None = None
    graphs: int = 0  # graphs torch._dynamo compiled during the clip
    reason: str = ""  # the first guard that failed, when the recompiles log was read
    frames: str = ""  # against the clips it must equal or differ from
    finite: bool | None = None  # the VAE decoder's output held no NaN or inf (before the 8-bit rounding)
    same: bool | None = None  # equals the clip it must equal (None: no such clip)
    differs: bool | None = None  # differs from every clip it must differ from (None: no such clip)
    error: str = ""

    @property
    def recompiled(self) -> str:
        if self.error and not self.graphs:
            return "–"
        return "yes" if self.graphs else "no"


@dataclass
class StylesReport:
    card: str
    device: str
    small: bool
    preset: str
    clip: str = ""  # in words
    styles: str = ""  # the LoRAs, in words
    speedups: str = ""
    build_s: float | None = None
    warmup_s: float | None = None  # the warm-up clip without a style (compilation), build excluded
    warmup_graphs: int = 0
    steps: int = 0
    default_steps: int = 0
    slots: int = STYLE_SLOTS
    rows: list[StyleRow] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # what stopped the run before its rows (the build, the warm-up)


def _graphs() -> int:
    return int(torch._dynamo.utils.counters["stats"]["unique_graphs"])


class _Reasons(logging.Handler):
    """The messages of torch._dynamo's ``recompiles`` log, kept instead of printed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def first_guard(self, since: int) -> str:
        """The first guard that failed in the messages after the first ``since``, without its source."""
        for message in self.messages[since:]:
            for line in message.splitlines():
                text = line.strip()
                if text.startswith("- ") and ":" in text and "User stack" not in text:
                    guard = text[2:].split("#", 1)[0].strip()  # "0/0: <guard>", its source line cut
                    guard = re.sub(r"\._(?:modules|parameters|buffers)\['([^']+)'\]", r".\1", guard)
                    guard = re.sub(r", \d{6,}\)", ")", guard)  # an object's id
                    guard = guard.split(" Guard failed", 1)[0]  # torch's advice
                    return guard.split(": ", 1)[-1].replace("self.", "")[:160]
        return ""


@contextmanager
def _recompile_reasons() -> Iterator[_Reasons]:
    """torch._dynamo's recompilation reasons, captured (not printed) for the run; left to TORCH_LOGS when
    the caller set it."""
    reasons = _Reasons()
    logger = logging.getLogger(RECOMPILES_LOG)
    ours = "TORCH_LOGS" not in os.environ
    if ours:
        torch._logging.set_logs(recompiles=True)
    propagate = logger.propagate
    logger.addHandler(reasons)
    logger.propagate = not ours
    try:
        yield reasons
    finally:
        logger.removeHandler(reasons)
        logger.propagate = propagate
        if ours:
            torch._logging.set_logs()


def make_style(pipe: Any, arch: Arch, out: Path, *, seed: int, rank: int, dtype: torch.dtype) -> Path:
    """A LoRA for ``pipe``'s transformer (``arch``'s), made with peft: ``LoraConfig`` on
    :data:`STYLE_TARGETS`, injected into a copy of the transformer on the meta device (no memory), its
    ``lora_A``/``lora_B`` filled with normal noise of ``seed``, saved with the pipeline's
    ``save_lora_weights`` at ``out`` (diffusers' format, the config in the header). The noise's spread
    makes each LoRA layer change its layer's output by about :data:`LORA_STRENGTH` of the base weights'."""
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model

    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=list(STYLE_TARGETS), init_lora_weights=False)
    meta = on_meta(_component(getattr(diffusers, arch.transformer_class), arch.transformer), dtype)
    inject_adapter_in_model(config, meta, low_cpu_mem_usage=True)
    shapes = {name: tuple(t.shape) for name, t in get_peft_model_state_dict(meta).items()}
    del meta
    # |B A x| ~ s² sqrt(rank · n) against |W x| ~ INIT_STD sqrt(n) for n inputs of unit size
    spread = math.sqrt(LORA_STRENGTH * INIT_STD / math.sqrt(rank))
    generator = torch.Generator(device="cpu").manual_seed(seed)
    layers = {
        name: (torch.randn(shape, generator=generator) * spread).to(dtype) for name, shape in shapes.items()
    }
    metadata = config.to_dict()
    metadata["target_modules"] = sorted(metadata["target_modules"])  # a set: not JSON
    type(pipe).save_lora_weights(
        out.parent,
        transformer_lora_layers=layers,
        weight_name=out.name,
        transformer_lora_adapter_metadata=metadata,
    )
    return out


def _compare(index: int, frames: dict[int, np.ndarray]) -> tuple[str, bool | None, bool | None]:
    """Row ``index``'s frames against the clips it must equal and differ from: the cell, and the two
    verdicts."""
    mine = frames.get(index)
    if mine is None:
        return "–", None, None

    def delta(other: int) -> str | None:
        theirs = frames.get(other)
        if theirs is None or theirs.shape != mine.shape:
            return None
        diff = np.abs(mine.astype(np.int16) - theirs.astype(np.int16))
        return "" if not diff.any() else f"max Δ {int(diff.max())}/255, mean {diff.mean():.2g}"

    parts: list[str] = []
    same: bool | None = None
    differs: bool | None = None
    if index in SAME_AS:
        twin = SAME_AS[index]
        d = delta(twin)
        same = d == ""
        parts.append(f"= #{twin}" if same else f"≠ #{twin} ({d or 'not rendered'})")
    if index in DIFFERS_FROM:
        differs = True
        for other in DIFFERS_FROM[index]:
            d = delta(other)
            differs = differs and bool(d)
            parts.append(f"≠ #{other} ({d})" if d else f"= #{other}")
    return ("; ".join(parts) or "reference"), same, differs


def run_styles(
    name: str | None = None,
    *,
    small: bool = False,
    device: torch.device | None = None,
    steps: int | None = None,
    frames: int | None = None,
    slots: int = STYLE_SLOTS,
    warmup_steps: int = 2,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> StylesReport:
    """The six clips of :data:`SEQUENCE` on preset ``name`` (default: the default preset), compiled as the
    worker compiles it; see the module's doc. With ``small`` a failure is raised, else it is the row's."""
    name = name or DEFAULT_MODEL
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() and not small else "cpu")
    started = time.perf_counter()
    preset = next(p for p in BUILTIN_PRESETS if p.name == name)
    arch = (SMALL if small else FULL)[name]
    dtype = getattr(torch, preset.dtype) if device.type == "cuda" else torch.float32
    vae_name = preset.load_options.get("vae_dtype")
    vae_dtype = getattr(torch, str(vae_name)) if vae_name and dtype != torch.float32 else dtype
    serving = smoke_preset_for(preset, arch, small)
    steps = steps or (arch.clip["steps"] if small else STYLE_STEPS)
    frames = frames or serving.min_frames
    rank = 4 if small else STYLE_RANK
    report = StylesReport(card_name(device), device.type, small, name, steps=steps, slots=slots)
    report.default_steps = preset.default_steps
    spec = JobSpec(
        PROMPT, negative_prompt=NEGATIVE, model=name, seconds=frames / serving.fps, steps=steps, seed=seed
    )
    catalog = PresetCatalog([serving], default=name)
    plan = resolve_spec(spec, catalog)
    report.clip = (
        f"{preset.title}: {plan.width}×{plan.height}, {plan.num_frames} frames "
        f"({plan.num_frames / plan.fps:.2f} s at {plan.fps} fps), {steps} steps (the preset's "
        f"{preset.default_steps} estimated from the median step), guidance {plan.spec.guidance:g}"
    )

    clock = _Clock(device, seed)
    hooks: list[Any] = []
    watches: list[_FiniteWatch] = []

    def build(loaded: Any) -> tuple[Any, str]:
        began = time.perf_counter()
        pipe, offload = place_pipeline(loaded, arch, device, dtype, vae_dtype, log)
        applied = apply_speedups(pipe, speedup_options(loaded, device, offload), device, allow_cpu=True)
        report.speedups = ", ".join(applied) or "none"
        hooks.append(pipe.transformer.register_forward_pre_hook(clock.on_transformer))
        watches.append(_FiniteWatch([pipe.vae.decoder]))
        sync(device)
        report.build_s = time.perf_counter() - began
        return pipe, offload

    registry = diffusers.models.attention_dispatch._AttentionBackendRegistry
    default_backend = registry._active_backend
    cache: Any = BuiltPipelineCache(device, build, style_slots=slots)
    rendered: dict[int, np.ndarray] = {}
    folder = tempfile.TemporaryDirectory(prefix="bench-gpu-styles-")
    try:
        with _recompile_reasons() as reasons:
            # the warm-up clip: the build (in the cache's load) and the no-style graphs compiled
            before = _graphs()
            free_memory(device)
            sync(device)
            began = time.perf_counter()
            try:
                render(replace(plan, spec=replace(plan.spec, steps=min(warmup_steps, steps))), cache=cache)
                sync(device)
                report.warmup_s = time.perf_counter() - began - (report.build_s or 0.0)
                report.warmup_graphs = _graphs() - before
                log(f"{name}: built in {report.build_s:.1f} s; warm-up clip {report.warmup_s:.1f} s")
                pipe = cache.get(serving)
                folder_path = Path(folder.name)
                sources = {
                    style: make_style(
                        pipe, arch, folder_path / f"style-{style}.safetensors", seed=n, rank=rank, dtype=dtype
                    )
                    for n, style in enumerate("AB", start=1)
                }
            except Exception as exc:  # nothing to time: the table says why
                if small:
                    raise
                report.error = f"build, warm-up or the styles' files: {_failure(exc)}"
                log(f"{name}: FAILED: {report.error}")
                return report
            megabytes = sources["A"].stat().st_size / 2**20
            layers = _lora_layers(sources["A"])
            compiled = "compile" in report.speedups and "no compile" not in report.speedups
            padded = f"padded to rank {HOTSWAP_RANK} on the compiled transformer, " if compiled else ""
            report.styles = (
                f"A and B: random LoRAs made with peft, rank {rank} on {', '.join(STYLE_TARGETS)} "
                f"({layers} layers, {megabytes:.3g} MiB each), scale 1; {padded}{slots} slot"
                f"{'s' if slots != 1 else ''} in the cache"
                + (
                    " (B is hotswapped into A's)"
                    if slots == 1 or compiled
                    else " (B goes into a slot of its own: the transformer is not compiled)"
                )
            )
            for index, (clip, style) in enumerate(SEQUENCE, start=1):
                row = StyleRow(index, clip, style or "–")
                report.rows.append(row)
                loras = ((str(sources[style]), 1.0),) if style else ()
                for watch in watches:
                    watch.reset()
                seen = len(reasons.messages)
                before = _graphs()
                free_memory(device)
                reset_peak(device)
                clock.reset()
                sync(device)
                began = time.perf_counter()
                try:
                    styled = replace(plan, spec=replace(plan.spec, loras=loras))
                    out = render(styled, clock.on_progress, cache=cache)
                    sync(device)
                    row.seconds = time.perf_counter() - began
                    rendered[index] = out.frames
                except Exception as exc:  # the row says what failed; the next clips still run
                    if small:
                        raise
                    row.error = _failure(exc)
                    log(f"{name}/{clip}: FAILED: {row.error}")
                row.graphs = _graphs() - before
                row.reason = reasons.first_guard(seen) if row.graphs else ""
                row.peak_gib = peak_gib(device)
                row.finite = watches[0].result() if watches else None
                row.slot = _slot_action(cache, style)
                clock.fill(row, began, preset.default_steps - steps)
                if not row.error:
                    why = f" ({row.reason})" if row.reason else ""
                    log(f"{name}/{clip}: {row.seconds:.3g} s, {row.slot}, recompiled: {row.recompiled}{why}")
        for row in report.rows:
            row.frames, row.same, row.differs = _compare(row.index, rendered)
            if row.finite is False:
                row.frames = f"NaN or inf; {row.frames}"
    finally:
        for hook in hooks:
            hook.remove()
        for watch in watches:
            watch.close()
        registry.set_active_backend(default_backend)
        torch._dynamo.reset()  # drop the compiled blocks with the pipeline
        cache = None
        folder.cleanup()
        free_memory(device)
        report.seconds = time.perf_counter() - started
    return report


class _Clock:
    """The moments of one clip: the pipeline call's start (``on_progress(0, …)``, just before it), the
    first transformer call (a forward pre-hook) and each step's end, each after a synchronize."""

    def __init__(self, device: torch.device, seed: int) -> None:
        self.device = device
        self.seed = seed
        self.call: float | None = None
        self.first: float | None = None
        self.ends: list[float] = []

    def reset(self) -> None:
        self.call, self.first, self.ends = None, None, []

    def on_progress(self, done: int, _total: int) -> None:
        sync(self.device)
        now = time.perf_counter()
        if done == 0:
            # LTX-Video's decoder draws its noise from the global RNG: the same for every clip
            torch.manual_seed(self.seed)
            self.call = now
        else:
            self.ends.append(now)

    def on_transformer(self, _module: Any, _args: Any) -> None:
        if self.first is None:
            sync(self.device)
            self.first = time.perf_counter()

    def fill(self, row: StyleRow, began: float, more_steps: int) -> None:
        """``row``'s switch, step, first step and estimate from the clip that began at ``began``;
        ``more_steps``: the preset's steps less the timed ones."""
        if self.call is not None:
            row.switch_s = self.call - began
        if len(self.ends) >= 2:
            row.step_s = statistics.median(b - a for a, b in itertools.pairwise(self.ends))
        if self.ends and self.first is not None:
            row.first_step_s = self.ends[0] - self.first
        if row.step_s is not None and math.isfinite(row.seconds):
            row.estimate_s = row.seconds + more_steps * row.step_s


def _lora_layers(path: Path) -> int:
    """How many layers the LoRA file at ``path`` changes (its lora_A tensors)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return sum(1 for key in f.keys() if ".lora_A." in key)  # noqa: SIM118 (safe_open is no dict)


def _slot_action(cache: Any, style: str | None) -> str:
    """What the cache did with the row's style: its last switch, or the adapters turned off."""
    entry = next(iter(cache._entries.values()), None)
    if entry is None:
        return "–"
    slots = entry.styles
    if style is None:
        return f"adapters off ({len(slots.slots)} loaded)" if slots.slots else "none loaded"
    last = slots.last
    if last.swapped:
        return "hotswapped"
    if last.loaded:
        return "loaded into a slot"
    return "kept (already loaded)" if last.kept else "–"


def styles_verdicts(report: StylesReport) -> list[str]:
    """What the run says of issue 20's promises, one line each."""
    rows = {r.index: r for r in report.rows}
    lines: list[str] = []
    swap = rows.get(4)
    if swap is not None and not swap.error:
        how = "hotswapped" if swap.slot == "hotswapped" else f"not hotswapped ({swap.slot})"
        compiled = "without recompiling" if not swap.graphs else f"RECOMPILED ({swap.graphs} graphs)"
        lines.append(f"Switch A → B (#4): {how}, {compiled}.")
    back = rows.get(6)
    if back is not None and back.same is not None:
        what = "is" if back.same else "is NOT"
        lines.append(f"No style after styles (#6) {what} the first no-style clip (#1) bit for bit.")
    base, styled = rows.get(1), rows.get(3)
    if base and styled and base.step_s and styled.step_s:
        extra = 100 * (styled.step_s / base.step_s - 1)
        note = " (scaled-down model on a CPU: no figure)" if report.small else ""
        lines.append(f"A style's cost per step (#3 against #1): {extra:+.1f} %{note}.")
    return lines


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None or not math.isfinite(value) else format(value, spec)


def styles_table(report: StylesReport) -> str:
    lines = [
        f"Styles (LoRAs) on the compiled default preset (`python -m bench.gpu --styles`): {report.card}; "
        f"torch {torch.__version__}, diffusers {diffusers.__version__}; {report.seconds:.0f} s in all.",
        "",
        f"- {report.preset}: {report.clip}",
        f"- speed-ups: {report.speedups or '–'}; built in {_fmt(report.build_s, '.1f')} s; warm-up clip "
        f"without a style (compilation) {_fmt(report.warmup_s, '.3g')} s, {report.warmup_graphs} graphs "
        "compiled",
        f"- styles: {report.styles or '–'}",
    ]
    if report.error:
        lines += ["", f"FAILED before the timed clips: {report.error}"]
    lines += [
        "",
        f"| # | clip | style | slot | s | style s | s/step | first step s | est. s at {report.default_steps} "
        "steps | peak GiB | graphs compiled | recompiled | frames |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        if r.peak_gib is not None:
            peak = f"{r.peak_gib:.1f}"
        else:
            peak = "n/a on cpu" if report.device != "cuda" else "–"
        recompiled = r.recompiled + (f" ({r.reason})" if r.reason else "")
        cells = [
            str(r.index),
            r.clip,
            r.style,
            r.slot,
            _fmt(r.seconds, ".3g"),
            _fmt(r.switch_s, ".3g"),
            _fmt(r.step_s, ".3g"),
            _fmt(r.first_step_s, ".3g"),
            _fmt(r.estimate_s, ".3g"),
            peak,
            str(r.graphs),
            recompiled,
            f"FAILED: {r.error}" if r.error else r.frames,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", *styles_verdicts(report)]
    lines += [
        "",
        f"Random weights (normal init): speeds are real, pictures are not. {report.steps} timed steps a "
        "clip. s = `generator.render.render` as the worker calls it, spec to frames (the style's file "
        "checks, its load or hotswap, text encoding, steps, VAE decode), after a `torch.cuda.synchronize`; "
        "style s = up to the pipeline call; s/step = the median step; first step = the first transformer "
        "call to the first step's end (a recompilation lands there); est. = s + (the preset's steps - the "
        "timed steps) x s/step. graphs compiled = torch._dynamo's unique_graphs counter over the clip "
        "(recompiled: the first guard that failed). frames: the 8-bit frames against the clip they must "
        "equal (= #n: bit for bit) or differ from (≠ #n), NaN or inf said first; the global RNG (LTX-Video's "
        "decoder noise) is seeded at each pipeline call.",
    ]
    return "\n".join(lines)


def write_styles(report: StylesReport, path: Path = RESULTS) -> None:
    append_results(f"{report.card} · styles", styles_table(report), path)


def failed(report: StylesReport) -> bool:
    """Whether the run is no measurement: it stopped, a clip failed, or a clip's frames are not finite."""
    broken = any(row.error or row.finite is False for row in report.rows)
    return bool(report.error) or broken or len(report.rows) != len(SEQUENCE)
