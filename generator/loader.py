"""Pipelines kept warm: each loaded once per process, the least recently used evicted when a new one
would not fit in the memory budget.

A render that starts from a picture or continues a clip runs one of diffusers' conditioning pipelines
(``LTXConditionPipeline``, ``LTX2ConditionPipeline``, ``WanImageToVideoPipeline``) built with
``from_pipe`` from the loaded text-to-video pipeline: it shares every component, so a worker holds one
copy of the weights. It is kept beside its parent and evicted with it.

On CUDA a preset whose ``gpu_memory_gb`` does not fit the GPU is offloaded (``offload``): whole
components to the GPU in turn (diffusers' model CPU offload) when the largest one fits with the
activations, else layers streamed as they run (group offload).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers

from db.presets import Preset
from generator.speedups import apply_speedups
from generator.styles import SLOTS, StyleSlots, Switch

log = logging.getLogger(__name__)

DEVICE_ENV = "VIDEOBOT_DEVICE"
MEMORY_ENV = "VIDEOBOT_MODEL_MEMORY_GB"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
GIB = 1024**3


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


CASTING_LAYERS = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
CPU_COMPUTE_ENV = "VIDEOBOT_CPU_COMPUTE"  # "auto" (default), "float32" or "bfloat16"
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 CPUs that multiply bfloat16 natively


def cpu_computes_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether a CPU worker computes in bfloat16 (where the CPU multiplies it natively: AVX512-BF16 or
    AMX, or an Arm CPU with BF16) rather than in float32; ``VIDEOBOT_CPU_COMPUTE`` decides otherwise."""
    chosen = os.environ.get(CPU_COMPUTE_ENV, "auto").strip().lower()
    if chosen in ("float32", "bfloat16"):
        return chosen == "bfloat16"
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = {
        word
        for line in cpuinfo.splitlines()
        if line.startswith(("flags", "Features"))
        for word in line.split()
    }
    return any(flag in flags for flag in BF16_CPU_FLAGS) or "bf16" in flags


def compute_in_float32(pipe: Any) -> list[str]:
    """On a CPU: keep each component's half-precision weights as they are (a 2B transformer and
    T5-XXL in bfloat16 fit in 16 GB, in float32 they do not) but compute in float32, which CPUs do
    fast and exactly: every linear and convolution layer is cast up while it runs (diffusers'
    layerwise casting) and the small rest (norms, embeddings, tables) is kept in float32. The names
    of the components this was done to."""
    from diffusers.hooks import apply_layerwise_casting

    done = []
    for name, component in pipe.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        storage = {p.dtype for p in component.parameters() if p.is_floating_point()} - {torch.float32}
        if not storage:
            continue
        apply_layerwise_casting(
            component, storage_dtype=storage.pop(), compute_dtype=torch.float32, skip_modules_pattern=()
        )
        layers = [m for m in component.modules() if isinstance(m, CASTING_LAYERS)]
        for layer in layers:  # inputs a model rounded to its weights' dtype (T5 does) go in as float32
            layer.register_forward_pre_hook(_inputs_in_float32)
        casting = {id(p) for m in layers for p in m.parameters(False)}
        for module in component.modules():
            for key, param in list(module.named_parameters(recurse=False)):
                if id(param) not in casting and param.is_floating_point() and param.dtype != torch.float32:
                    module._parameters[key] = torch.nn.Parameter(param.float(), requires_grad=False)
            for key, buffer in list(module.named_buffers(recurse=False)):
                if buffer is not None and buffer.is_floating_point() and buffer.dtype != torch.float32:
                    module._buffers[key] = buffer.float()
        done.append(name)
    return done


def _inputs_in_float32(_module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() and a.dtype != torch.float32 else a
        for a in args
    )


def single_file_transformer(preset: Preset, dtype: torch.dtype) -> Any | None:
    """The transformer of ``preset.transformer_file`` (its original single-file layout, read by
    diffusers' ``from_single_file`` with the config of the source's transformer), or None."""
    if not preset.transformer_file:
        return None
    from huggingface_hub import hf_hub_download

    from generator.availability import hub_cache_dir

    path = Path(preset.transformer_file)
    hub_file = preset.transformer_hub_file
    if hub_file is not None:
        path = Path(hf_hub_download(hub_file[0], hub_file[1], cache_dir=hub_cache_dir()))
    folder = Path(preset.source)
    if not folder.is_dir():  # the source's config, from the hub cache (fetched with the pipeline)
        folder = Path(hf_hub_download(preset.source, "transformer/config.json", cache_dir=hub_cache_dir()))
        folder = folder.parent.parent
        hf_hub_download(preset.source, "model_index.json", cache_dir=hub_cache_dir())
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    cls = getattr(diffusers, index["transformer"][1])
    return cls.from_single_file(str(path), config=str(folder), subfolder="transformer", torch_dtype=dtype)


def weights_on_disk(source: str) -> int:
    """Bytes of weight files in a local pipeline folder (0 for a hub id not yet downloaded)."""
    folder = Path(source)
    if not folder.is_dir():
        return 0
    return sum(f.stat().st_size for f in folder.rglob("*") if f.suffix in WEIGHT_SUFFIXES and f.is_file())


def _component_bytes(component: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in [*component.parameters(), *component.buffers()])


def module_bytes(pipe: Any) -> int:
    return sum(
        _component_bytes(component)
        for component in pipe.components.values()
        if isinstance(component, torch.nn.Module)
    )


def gpu_memory_bytes(device: torch.device) -> int:
    """The GPU's memory (0 for a device that is no CUDA GPU)."""
    if device.type != "cuda":
        return 0
    return int(torch.cuda.get_device_properties(device).total_memory)


def offload_kind(preset: Preset, weights_bytes: int, largest_bytes: int, gpu_bytes: int) -> str:
    """How a preset runs on a GPU of ``gpu_bytes``: "none", "model" or "group".

    A preset's ``offload`` other than "auto" is obeyed. "auto" keeps everything on the GPU when the
    preset's ``gpu_memory_gb`` fits (or is not known); else offloads whole components when the largest
    (``largest_bytes`` of the ``weights_bytes`` loaded) fits beside the activations (what the figure
    leaves after the weights); else streams layers."""
    if preset.offload != "auto":
        return preset.offload
    needed = preset.gpu_memory_gb * GIB
    if not needed or needed <= gpu_bytes:
        return "none"
    activations = max(needed - weights_bytes, 0.0)
    return "model" if largest_bytes + activations <= gpu_bytes else "group"


def choose_offload(preset: Preset, pipe: Any, device: torch.device) -> str:
    """How ``pipe`` (loaded on the CPU) runs on ``device`` (see :func:`offload_kind`); the CPU never
    offloads."""
    if device.type != "cuda":
        return "none"
    sizes = [_component_bytes(c) for c in pipe.components.values() if isinstance(c, torch.nn.Module)]
    return offload_kind(preset, sum(sizes), max(sizes, default=0), gpu_memory_bytes(device))


def apply_offload(pipe: Any, kind: str, device: torch.device) -> None:
    """Put ``pipe`` on ``device`` as ``kind`` says (see :func:`choose_offload`)."""
    if kind == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif kind == "group":
        # leaf level with a CUDA stream: the next layer loads while this one runs
        pipe.enable_group_offload(
            onload_device=device,
            offload_device=torch.device("cpu"),
            offload_type="leaf_level",
            use_stream=True,
        )
    else:
        pipe.to(device)


_DERIVABLE: dict[type[Any], type[Any]] = {}  # diffusers class -> its subclass for from_pipe


def _keeping_dtypes(cls: type[Any]) -> type[Any]:
    """``cls`` for ``from_pipe``, whose last step casts every shared component to one dtype (float32
    unless told): the parent's bf16 weights would be copied to float32, or a float32 VAE or a text
    encoder's float32 layers (``_keep_in_fp32_modules``) rounded to bf16, for both pipelines. This
    subclass ignores that dtype-only ``to()`` so the components stay exactly as they were loaded."""
    cached = _DERIVABLE.get(cls)
    if cached is not None:
        return cached

    def to(self: Any, *args: Any, **kwargs: Any) -> Any:
        dtype_only = not args and set(kwargs) == {"dtype"}
        return self if dtype_only else cls.to(self, *args, **kwargs)

    derivable = type(cls.__name__, (cls,), {"to": to, "__module__": cls.__module__, "__doc__": cls.__doc__})
    _DERIVABLE[cls] = derivable
    return derivable


def derive_pipeline(parent: Any, class_name: str, **components: Any) -> Any:
    """A ``class_name`` pipeline (a diffusers class) sharing every component of ``parent``, by
    ``from_pipe``: no weight is copied or cast. ``components`` add or replace some (an upsampler, a
    scheduler)."""
    if type(parent).__name__ == class_name and not components:
        return parent
    cls = getattr(diffusers, class_name, None)
    if cls is None:
        raise ModelUnavailable(f"diffusers {diffusers.__version__} has no pipeline {class_name}")
    try:
        derived = _keeping_dtypes(cls).from_pipe(parent, **components)
    except Exception as exc:  # components the class cannot take
        raise ModelUnavailable(f"cannot build {class_name} from {type(parent).__name__}: {exc}") from exc
    derived.set_progress_bar_config(disable=True)
    return derived


# LTX's two stages (generator/hd.py): the pipeline that upsamples a draft's latents, and its model, by the
# text-to-video pipeline's class
UPSAMPLE_PIPELINES: dict[str, tuple[str, str]] = {
    "LTX2Pipeline": ("LTX2LatentUpsamplePipeline", "LTX2LatentUpsamplerModel"),
    "LTX2ConditionPipeline": ("LTX2LatentUpsamplePipeline", "LTX2LatentUpsamplerModel"),
}
UPSAMPLE = "upsample"  # PipelineCache.get variants: the upsample pipeline,
REFINE = "refine"  # and the text-to-video pipeline with the refine stage's scheduler


def load_upsampler(preset: Preset, model_class: str, device: torch.device) -> Any:
    """The preset's latent upsampler (``from_pretrained``, safetensors only), in the preset's dtype, on
    ``device`` (computing in float32 on a CPU that does not multiply half precision)."""
    from diffusers.pipelines import ltx2

    location = preset.upsampler_location
    if location is None:
        raise ModelUnavailable(f"{preset.title} names no upsampler")
    where, subfolder = location
    cls = getattr(ltx2, model_class)
    dtype = getattr(torch, preset.dtype)
    try:
        model = cls.from_pretrained(where, subfolder=subfolder, torch_dtype=dtype, use_safetensors=True)
    except Exception as exc:  # missing files, no hub access, weights of another model
        shown = f"{where}/{subfolder}" if subfolder else where
        raise ModelUnavailable(f"cannot load the upsampler of {preset.title} from {shown}: {exc}") from exc
    model.eval()
    if device.type == "cpu" and not (preset.dtype == "bfloat16" and cpu_computes_bfloat16()):
        compute_in_float32(_Components({"latent_upsampler": model}))
    return model


@dataclass
class _Components:
    """What :func:`compute_in_float32` reads of a pipeline: its components."""

    components: dict[str, Any]


def exact_sigmas_scheduler(scheduler: Any) -> Any:
    """``scheduler`` taking a distilled schedule's sigmas as they are: a flow-matching scheduler with
    dynamic shifting (LTX-2's dev repositories) would shift the given sigmas by the clip's length."""
    config = dict(scheduler.config)
    if not config.get("use_dynamic_shifting") and not config.get("shift_terminal"):
        return scheduler
    return scheduler.__class__.from_config(scheduler.config, use_dynamic_shifting=False, shift_terminal=None)


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
    offload: str = "none"
    # conditioning pipelines built from ``pipe`` by from_pipe, by class name (they share its weights),
    # and the two HD stages (UPSAMPLE, REFINE)
    derived: dict[str, Any] = field(default_factory=dict)
    # with model CPU offload the shared components carry one pipeline's hooks: the one that ran last
    hooked: Any = None
    # the LoRAs loaded into ``pipe``'s transformer (the derived pipelines share it): generator/styles.py
    styles: StyleSlots = field(default_factory=StyleSlots)


def load_pipeline(preset: Preset, device: torch.device) -> tuple[Any, str]:
    """``from_pretrained`` for a preset, on ``device`` (offloaded there if it does not fit, see
    :func:`choose_offload`), with the preset's component options applied; the pipeline and how it is
    offloaded."""
    cls = pipeline_class(preset)
    # our own progress (the step callback) replaces the libraries' loading bars
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    options = preset.load_options
    # the preset's dtype on a CPU too: half precision kept there halves a CPU worker's memory, and it
    # computes in float32 unless it multiplies bfloat16 natively (compute_in_float32)
    dtypes = {"default": getattr(torch, preset.dtype)}
    vae_dtype = options.get("vae_dtype")
    if vae_dtype:
        # loaded in its own dtype, not rounded through the pipeline's and cast back
        dtypes["vae"] = getattr(torch, str(vae_dtype))
    try:
        replaced = {}
        transformer = single_file_transformer(preset, dtypes["default"])
        if transformer is not None:
            replaced["transformer"] = transformer
        # safetensors only: a folder or repository with pickled .bin weights is refused, never unpickled
        pipe = cls.from_pretrained(preset.source, dtype=dtypes, use_safetensors=True, **replaced)
    except Exception as exc:  # missing files, no hub access, corrupt or mismatched weights
        raise ModelUnavailable(f"cannot load {preset.title} from {preset.source}: {exc}") from exc
    shift = options.get("flow_shift")
    if shift is not None and "flow_shift" in pipe.scheduler.config:
        pipe.scheduler = pipe.scheduler.__class__.from_config(pipe.scheduler.config, flow_shift=shift)
    if "sigmas" in preset.call_kwargs and hasattr(pipe, "scheduler"):
        pipe.scheduler = exact_sigmas_scheduler(pipe.scheduler)  # a distilled schedule, run as it is
    if options.get("vae_tiling") and hasattr(getattr(pipe, "vae", None), "enable_tiling"):
        pipe.vae.enable_tiling()  # decodes long HD clips tile by tile instead of all at once
    if device.type == "cpu" and not (preset.dtype == "bfloat16" and cpu_computes_bfloat16()):
        cast = compute_in_float32(pipe)
        if cast:
            log.info("%s: %s kept in %s, computed in float32", preset.title, ", ".join(cast), preset.dtype)
    offload = choose_offload(preset, pipe, device)
    apply_offload(pipe, offload, device)
    pipe.set_progress_bar_config(disable=True)
    speedups = dict(preset.speedups)
    if offload == "group":
        speedups["compile"] = False  # the offload hooks move weights inside each layer's forward
    applied = apply_speedups(pipe, speedups, device)
    if offload != "none":
        applied.insert(0, f"{offload} offload")
    if applied:
        log.info("%s: %s", preset.title, ", ".join(applied))
    return pipe, offload


class PipelineCache:
    """Warm pipelines by preset source, least recently used first out. Thread-safe."""

    def __init__(
        self,
        device: torch.device | str | None = None,
        budget_bytes: int | None = None,
        *,
        style_slots: int = SLOTS,
    ) -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.budget = budget_bytes if budget_bytes is not None else default_budget(self.device)
        self.style_slots = style_slots  # LoRAs kept loaded per warm pipeline
        self._entries: OrderedDict[tuple[str, str, str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times from_pretrained ran: a warm cache keeps this flat

    def _key(self, preset: Preset) -> tuple[str, str, str, str]:
        options = json.dumps(dict(preset.load_options), sort_keys=True)
        return (preset.source, preset.dtype, options, preset.transformer_file)

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

    def get(self, preset: Preset, variant: str | None = None) -> Any:
        """The preset's warm pipeline, loaded if need be; with ``variant`` (a diffusers class name) the
        pipeline of that class built from it by ``from_pipe`` and kept beside it."""
        key = self._key(preset)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            else:
                entry = self._load(key, preset)
            pipe = entry.pipe
            if variant is not None and variant != type(pipe).__name__:
                pipe = entry.derived.get(variant)
                if pipe is None:
                    pipe = entry.derived[variant] = self._derive(entry, preset, variant)
            if entry.offload == "model" and entry.hooked is not pipe:
                # the components move to the GPU on the hooks of the pipeline that calls them
                pipe.enable_model_cpu_offload(device=self.device)
            entry.hooked = pipe
            return pipe

    def _derive(self, entry: _Entry, preset: Preset, variant: str) -> Any:
        """A pipeline built from the entry's by ``from_pipe``: a conditioning class, or an HD stage."""
        parent = entry.pipe
        if variant not in (UPSAMPLE, REFINE):
            return derive_pipeline(parent, variant)
        stages = UPSAMPLE_PIPELINES.get(type(parent).__name__)
        if stages is None or not preset.upsampler:
            raise ModelUnavailable(f"{preset.title} has no HD stage ({type(parent).__name__})")
        if variant == REFINE:
            return derive_pipeline(
                parent, type(parent).__name__, scheduler=exact_sigmas_scheduler(parent.scheduler)
            )
        upsampler = self._load_upsampler(preset, stages[1])
        if entry.offload != "model":
            upsampler.to(self.device)  # small beside the transformer: kept on the GPU with group offload too
        entry.bytes += _component_bytes(upsampler)
        return derive_pipeline(parent, stages[0], latent_upsampler=upsampler)

    def _load_upsampler(self, preset: Preset, model_class: str) -> Any:
        """The preset's latent upsampler for the HD stage (a benchmark builds one of random weights)."""
        return load_upsampler(preset, model_class, self.device)

    def use_styles(self, preset: Preset, loras: Sequence[tuple[str, float]]) -> Switch:
        """Make ``loras`` (source, scale) the styles of the preset's warm pipeline and of those derived
        from it (loaded if need be, see generator/styles.py); none: the adapters off, the base model
        exactly. Raises StyleError, leaving no style in play."""
        with self._lock:
            entry = self._entries.get(self._key(preset))
            if not loras and (entry is None or not entry.styles.enabled):
                return Switch()
            if entry is None:
                raise ModelUnavailable(f"{preset.title} is not loaded")
            switch = entry.styles.apply(entry.pipe, loras, preset.title)
            if entry.offload == "model" and (switch.loaded or switch.swapped):
                entry.hooked = entry.pipe  # diffusers offloads again through the pipeline it loaded into
            return switch

    def clear_styles(self, preset: Preset) -> None:
        """No style in play on the preset's warm pipeline (if it is warm): what a render leaves."""
        with self._lock:
            entry = self._entries.get(self._key(preset))
            if entry is not None:
                entry.styles.clear(entry.pipe)

    def derived(self, preset: Preset) -> dict[str, Any]:
        """The conditioning pipelines built so far from the preset's warm pipeline, by class name."""
        entry = self._entries.get(self._key(preset))
        return dict(entry.derived) if entry is not None else {}

    def _load(self, key: tuple[str, str, str, str], preset: Preset) -> _Entry:
        # make room before loading, so a GPU never holds the old and the new model at once
        self._evict_for(weights_on_disk(preset.source))
        started = time.perf_counter()
        pipe, offload = load_pipeline(preset, self.device)
        self.loads += 1
        size = module_bytes(pipe)
        self._evict_for(size)
        entry = self._entries[key] = _Entry(
            pipe,
            size,
            time.perf_counter() - started,
            offload,
            hooked=pipe,
            styles=StyleSlots(self.style_slots),
        )
        log.info("loaded %s in %.1f s (%.2f GiB)", preset.source, entry.load_seconds, size / GIB)
        return entry
