"""Which presets a worker can serve, and how it stays in the registry while it loads.

A worker offers only presets whose weights it can load: a local pipeline folder, a pipeline in the
Hugging Face cache, or one it fetches first (generator/weights.py): those the operator names with
``--models``, and on a first start with nothing on disk the default preset. On a CUDA GPU it also
leaves out a preset that does not fit in the GPU's memory even with offloading (the preset's
``gpu_memory_offload_gb``). Everything here reads the disk only (and asks
``nvidia-smi`` how much memory the GPU has): no torch, no diffusers, no network, so a worker can check
its presets and register as "starting" before the heavy imports.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from db.presets import Preset, PresetCatalog

if TYPE_CHECKING:
    from db.store import Store

log = logging.getLogger(__name__)

INDEX_FILE = "model_index.json"
HUB_TRUE_VALUES = {"1", "ON", "YES", "TRUE"}  # what huggingface_hub reads as true in HF_HUB_OFFLINE
STARTING_HEARTBEAT_S = 15.0  # well inside the 60 s after which the bot forgets a silent worker
NO_WEIGHTS_HELP = (
    "no preset has weights on this machine and the default one cannot be fetched: point presets at "
    "pipeline folders with a presets file (VIDEOBOT_PRESETS), or name hub presets with --models "
    "(`videobot download NAME` fetches one ahead)"
)


DEVICE_ENV = "VIDEOBOT_DEVICE"  # as generator/loader.py reads it
GPU_QUERY_TIMEOUT_S = 10.0


def gpu_memory_gb() -> float | None:
    """GiB of memory on the CUDA GPU the worker renders on (``VIDEOBOT_DEVICE``, else the first
    visible one), from ``nvidia-smi``; None on a CPU worker or where that cannot be asked."""
    device = os.environ.get(DEVICE_ENV, "cuda").strip().lower()
    if not device.startswith("cuda"):
        return None
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    number = device.partition(":")[2]
    index = int(number) if number.isdigit() else 0
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    if "CUDA_VISIBLE_DEVICES" in os.environ and index >= len(visible):
        return None  # no GPU is visible to this process
    gpu = visible[index] if visible else str(index)
    query = [tool, "--query-gpu=memory.total", "--format=csv,noheader,nounits", "-i", gpu]
    try:
        done = subprocess.run(query, capture_output=True, text=True, timeout=GPU_QUERY_TIMEOUT_S, check=True)
        return float(done.stdout.split()[0]) / 1024  # MiB
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        log.warning("could not read the GPU's memory from nvidia-smi; not checking presets against it")
        return None


CPU_TOO_SLOW = "needs a GPU: on a CPU a clip takes an hour or more"


def renders_on_cpu(device: str | None) -> bool:
    """Whether a worker asked for ``device`` (else ``VIDEOBOT_DEVICE``, else the first GPU if there is
    one) renders on the CPU; told without torch, from ``nvidia-smi`` and ``CUDA_VISIBLE_DEVICES``."""
    name = (device or os.environ.get(DEVICE_ENV) or "").strip().lower()
    if name:
        return name == "cpu"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return shutil.which("nvidia-smi") is None or (visible is not None and visible.strip() in ("", "-1"))


def first_start_preset(catalog: PresetCatalog, cpu: bool) -> Preset | None:
    """What a worker with nothing on disk fetches: the default preset, or on a CPU the first preset made
    for one (the default too, if it is)."""
    default = catalog.get(catalog.default)
    if not cpu or (default is not None and default.cpu):
        return default
    return next((preset for preset in catalog if preset.cpu), None)


def _too_big(preset: Preset, gpu_gb: float | None) -> str | None:
    """Why ``preset`` cannot run on a GPU of ``gpu_gb`` GiB even with offloading, or None if it can."""
    needed = preset.gpu_memory_offload_gb or preset.gpu_memory_gb
    if gpu_gb is None or not needed or needed <= gpu_gb:
        return None
    return f"needs {needed:g} GiB of GPU memory even with offloading; this GPU has {round(gpu_gb, 1):g} GiB"


class NoWeights(ValueError):
    """A worker with nothing to render, or a preset named with --models that cannot be loaded."""


@dataclass(frozen=True)
class Weights:
    """Where a preset's pipeline is on this machine, if anywhere."""

    found: bool
    where: str  # "local folder /models/ltx", "in the Hugging Face cache", "no weights on this machine"
    downloadable: bool = False  # a hub id from_pretrained could fetch


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) forbids downloads, as huggingface_hub reads it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    return value is not None and value.upper() in HUB_TRUE_VALUES


def hub_cache_dir() -> Path:
    """The hub cache from_pretrained reads: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub."""
    # huggingface_hub.constants reads these once at import; reading them now follows the environment
    cache_home = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    hf_home = os.path.expandvars(
        os.path.expanduser(os.environ.get("HF_HOME", os.path.join(cache_home, "huggingface")))
    )
    legacy = os.environ.get("HUGGINGFACE_HUB_CACHE", os.path.join(hf_home, "hub"))
    return Path(os.path.expandvars(os.path.expanduser(os.environ.get("HF_HUB_CACHE", legacy))))


def _is_hub_id(source: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(source)
    except HFValidationError:
        return False
    return True


def find_weights(preset: Preset) -> Weights:
    """Whether ``preset``'s pipeline (and its single-file transformer and its latent upsampler in another
    hub repository, if it names them) can be loaded from this machine's disk, and from where."""
    weights = _find_pipeline(preset)
    if not weights.found:
        return weights
    if preset.transformer_file and not Path(preset.transformer_file).is_file():
        hub_file = preset.transformer_hub_file
        if hub_file is None:
            return Weights(False, f"no file {preset.transformer_file}")
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(hub_file[0], hub_file[1], cache_dir=hub_cache_dir()), str):
            return Weights(False, "its transformer file is not on this machine", downloadable=True)
    if preset.upsampler:
        from generator.weights import missing_upsampler

        if missing_upsampler(preset):
            return Weights(False, "its latent upsampler is not on this machine", downloadable=True)
    return weights


def _find_pipeline(preset: Preset) -> Weights:
    folder = Path(preset.source)
    if folder.is_dir():
        try:
            index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Weights(False, f"no {INDEX_FILE} in {folder}")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return Weights(False, f"unreadable {INDEX_FILE} in {folder}")
        if not isinstance(index, dict):
            return Weights(False, f"unreadable {INDEX_FILE} in {folder}")
        return Weights(True, f"local folder {folder}")
    if not _is_hub_id(preset.source):
        return Weights(False, f"no folder {folder}")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(preset.source, INDEX_FILE, cache_dir=hub_cache_dir())
    if not isinstance(cached, str):
        return Weights(False, "no weights on this machine", downloadable=True)
    from generator.weights import missing_files

    missing = missing_files(preset)
    if missing:  # a fetch that was stopped halfway: the next one resumes it
        return Weights(False, f"partly fetched, {len(missing)} files to go", downloadable=True)
    return Weights(True, "in the Hugging Face cache", downloadable=True)


@dataclass(frozen=True)
class Availability:
    """The presets a worker serves and those it leaves out, each with the reason; ``fetch``: the served
    presets whose weights the worker fetches from the hub before it loads them."""

    served: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    fetch: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.served)

    def summary(self) -> str:
        """One line for the log and the registry note: 'serves: a, b (local folder /x); skipped: …'."""
        text = f"serves: {_grouped(self.served)}"
        return f"{text}; skipped: {_grouped(self.skipped)}" if self.skipped else text


def _grouped(pairs: Sequence[tuple[str, str]]) -> str:
    # presets with the same reason share it: "wan-1.3b, wan-14b (no weights on this machine)"
    by_reason: dict[str, list[str]] = {}
    for name, reason in pairs:
        by_reason.setdefault(reason, []).append(name)
    return ", ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())


def check_presets(
    catalog: PresetCatalog,
    requested: Sequence[str] | None,
    *,
    offline: bool,
    gpu_gb: float | Literal["detect"] | None = "detect",
    cpu: bool = False,
) -> Availability:
    """The presets to serve: by default every one with weights on disk, or on a first start (nothing on
    disk) the default preset, fetched from the hub; with ``requested`` exactly those, each of which must
    be on disk or on the hub. Presets to fetch are listed in ``fetch`` (``offline``: the worker waits
    for them to appear). On a GPU of ``gpu_gb`` GiB (by default :func:`gpu_memory_gb`; None for a CPU)
    a preset that does not fit even with offloading is left out; on a ``cpu`` only presets made for
    one are served unless named (:func:`first_start_preset`). Raises ValueError for an unknown name
    and :class:`NoWeights` when something cannot be served."""
    gpu = gpu_memory_gb() if gpu_gb == "detect" else gpu_gb
    if not requested:
        served: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = []
        for preset in catalog:
            weights = find_weights(preset)
            too_big = _too_big(preset, gpu) if weights.found else None
            if too_big is None and cpu and not preset.cpu:
                too_big = CPU_TOO_SLOW
            if too_big is not None:
                skipped.append((preset.name, too_big))
            else:
                (served if weights.found else skipped).append((preset.name, weights.where))
        if not served:
            first = first_start_preset(catalog, cpu)
            if first is None or not find_weights(first).downloadable or _too_big(first, gpu):
                raise NoWeights(NO_WEIGHTS_HELP)
            reason = "first start: " + ("waiting for its weights" if offline else "fetching its weights")
            others = [(name, why) for name, why in skipped if name != first.name]
            return Availability([(first.name, reason)], others, fetch=(first.name,))
        return Availability(served, skipped)
    unknown = [name for name in requested if name not in catalog]
    if unknown:
        raise ValueError(f"unknown model preset(s): {', '.join(unknown)}; see `videobot models`")
    served = []
    fetch: list[str] = []
    for name in dict.fromkeys(requested):  # a name given twice is served once
        named = catalog.get(name)
        assert named is not None
        too_big = _too_big(named, gpu)
        if too_big is not None:
            raise NoWeights(f"{name} cannot run here: it {too_big}")
        weights = find_weights(named)
        slow = "; slow on a CPU" if cpu and not named.cpu else ""
        if weights.found:
            served.append((name, weights.where + slow))
        elif weights.downloadable:
            how = "waiting for its weights" if offline else "fetching"
            served.append((name, f"named with --models; {how}{slow}"))
            fetch.append(name)
        else:
            raise NoWeights(f"no weights for {name}: {weights.where}; point the preset at a pipeline folder")
    return Availability(served, [], fetch=tuple(fetch))


def servable_presets(
    catalog: PresetCatalog, requested: Sequence[str] | None, *, offline: bool
) -> list[tuple[str, str]]:
    """(name, reason) for each preset this machine can serve; see :func:`check_presets`."""
    return check_presets(catalog, requested, offline=offline).served


async def heartbeat_while_starting(
    store: Store, worker_id: str, interval_s: float = STARTING_HEARTBEAT_S
) -> None:
    """Keep a registered worker's row fresh until cancelled: loading torch and weights can take minutes.
    A database that is away is said once when it goes and once when it is back, not at every try."""
    away = False
    while True:
        await asyncio.sleep(interval_s)
        try:
            await store.workers.worker_heartbeat(worker_id)
        except Exception as exc:  # a database hiccup: the row has time to spare, try again next interval
            if not away:
                log.warning("heartbeat for starting worker %s failed (%r); trying again", worker_id, exc)
            away = True
        else:
            if away:
                log.warning("heartbeat for starting worker %s works again", worker_id)
            away = False
