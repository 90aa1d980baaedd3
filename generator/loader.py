"""Pipelines kept warm: each loaded once per process, the least recently used evicted when a new one
would not fit in the memory budget."""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers

from db.presets import Preset
from generator.speedups import apply_speedups

log = logging.getLogger(__name__)

DEVICE_ENV = "VIDEOBOT_DEVICE"
MEMORY_ENV = "VIDEOBOT_MODEL_MEMORY_GB"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


class ModelUnavailable(RuntimeError):
    """The preset's weights cannot be loaded (missing folder, no hub access, wrong format)."""


def pick_device(requested: str | None = None) -> torch.device:
    """The requested device, else ``VIDEOBOT_DEVICE``, else the first CUDA GPU, else the CPU."""
    name = requested or os.environ.get(DEVICE_ENV)
    if name:
        return torch.device(name)
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def default_budget(device: torch.device) -> int:
    """Bytes of weights to keep warm: ``VIDEOBOT_MODEL_MEMORY_GB`` if set, else 60 % of the GPU's memory
    (the rest is for activations), else half the machine's memory."""
    configured = os.environ.get(MEMORY_ENV)
    if configured:
        return int(float(configured) * 1024**3)
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory * 0.6)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.5)
    except (ValueError, OSError, AttributeError):
        return 16 * 1024**3


def torch_dtype(name: str, device: torch.device) -> torch.dtype:
    # half precision on a CPU is slow or unsupported for many ops: CPUs render in float32
    if device.type == "cpu":
        return torch.float32
    return getattr(torch, name)


def weights_on_disk(source: str) -> int:
    """Bytes of weight files in a local pipeline folder (0 for a hub id not yet downloaded)."""
    folder = Path(source)
    if not folder.is_dir():
        return 0
    return sum(f.stat().st_size for f in folder.rglob("*") if f.suffix in WEIGHT_SUFFIXES and f.is_file())


def module_bytes(pipe: Any) -> int:
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            for tensor in [*component.parameters(), *component.buffers()]:
                total += tensor.numel() * tensor.element_size()
    return total


def pipeline_class(preset: Preset) -> type[Any]:
    """The diffusers class for a preset; a local folder's own model_index.json wins over the preset."""
    name = preset.pipeline
    index = Path(preset.source) / "model_index.json"
    if index.is_file():
        name = json.loads(index.read_text()).get("_class_name", name)
    cls = getattr(diffusers, name, None)
    if cls is None:
        raise ModelUnavailable(f"diffusers {diffusers.__version__} has no pipeline {name}")
    return cls


@dataclass
class _Entry:
    pipe: Any
    bytes: int
    load_seconds: float


def load_pipeline(preset: Preset, device: torch.device) -> Any:
    """``from_pretrained`` for a preset, on ``device``, with the preset's component options applied."""
    cls = pipeline_class(preset)
    # our own progress (the step callback) replaces the libraries' loading bars
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    dtype = torch_dtype(preset.dtype, device)
    try:
        pipe = cls.from_pretrained(preset.source, dtype=dtype)
    except Exception as exc:  # missing files, no hub access, corrupt or mismatched weights
        raise ModelUnavailable(f"cannot load {preset.title} from {preset.source}: {exc}") from exc
    options = preset.load_options
    vae_dtype = options.get("vae_dtype")
    if vae_dtype and getattr(pipe, "vae", None) is not None:
        pipe.vae.to(dtype=getattr(torch, vae_dtype))
    shift = options.get("flow_shift")
    if shift is not None and "flow_shift" in pipe.scheduler.config:
        pipe.scheduler = pipe.scheduler.__class__.from_config(pipe.scheduler.config, flow_shift=shift)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    applied = apply_speedups(pipe, preset.speedups, device)
    if applied:
        log.info("%s: %s", preset.title, ", ".join(applied))
    return pipe


class PipelineCache:
    """Warm pipelines by preset source, least recently used first out. Thread-safe."""

    def __init__(self, device: torch.device | str | None = None, budget_bytes: int | None = None) -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.budget = budget_bytes if budget_bytes is not None else default_budget(self.device)
        self._entries: OrderedDict[tuple[str, str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times from_pretrained ran: a warm cache keeps this flat

    def _key(self, preset: Preset) -> tuple[str, str, str]:
        return (preset.source, preset.dtype, json.dumps(dict(preset.load_options), sort_keys=True))

    def warm(self) -> list[str]:
        return [key[0] for key in self._entries]

    def _evict_for(self, incoming: int) -> None:
        while self._entries and sum(e.bytes for e in self._entries.values()) + incoming > self.budget:
            key, entry = self._entries.popitem(last=False)
            log.info("evicting %s (%.1f GiB) to make room", key[0], entry.bytes / 1024**3)
            del entry
            gc.collect()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()

    def get(self, preset: Preset) -> Any:
        key = self._key(preset)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry.pipe
            # make room before loading, so a GPU never holds the old and the new model at once
            self._evict_for(weights_on_disk(preset.source))
            started = time.perf_counter()
            pipe = load_pipeline(preset, self.device)
            self.loads += 1
            size = module_bytes(pipe)
            self._evict_for(size)
            self._entries[key] = _Entry(pipe, size, time.perf_counter() - started)
            log.info(
                "loaded %s in %.1f s (%.2f GiB)", preset.source, time.perf_counter() - started, size / 1024**3
            )
            return pipe
