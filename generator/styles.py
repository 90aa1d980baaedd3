"""Styles: LoRAs loaded into the warm pipeline for one clip, and taken out of play after it.

A style's source (``JobSpec.loras``) is a local ``.safetensors`` file, a Hugging Face file
(``Org/Repo/file.safetensors``) or a repository holding a single ``.safetensors`` (``Org/Repo``), fetched
into the hub cache (only looked up there with ``HF_HUB_OFFLINE=1``). Before anything loads, the file is
checked without unpickling anything: ``.safetensors`` only, at most :data:`LORA_BYTES_MAX`, its header
parses and covers the file exactly (a truncated file is refused), and its keys are a LoRA's
(``lora_A``/``lora_B`` or ``lora_down``/``lora_up``). Then its layers are matched against the model's
(names and shapes) before diffusers sees it: a LoRA made for another model is refused with the layer that
does not fit, and the pipeline is left as it was.

:class:`StyleSlots` (one per warm pipeline, shared by the pipelines ``from_pipe`` derives from it: they
share the transformer the adapters live in) keeps the last :data:`SLOTS` LoRAs loaded as adapters
``style_0`` … A LoRA not loaded goes into a free slot, else into the least recently used one by
hotswapping (diffusers' ``load_lora_weights(..., hotswap=True)``: the weights are copied into the
adapter's tensors in place, so a compiled transformer is not recompiled; ranks are padded to
:data:`HOTSWAP_RANK` on a compiled transformer, ``enable_lora_hotswap`` before each new slot). On a
compiled transformer only as many slots are kept as the clip in hand needs (one, for a clip with one
style): each adapter loaded into a new slot, and each new set of active adapters, is a graph compiled
anew (and torch keeps at most 8 per function, then runs the blocks uncompiled), so every other style
is hotswapped into the one slot: two graphs in all, styled and plain. A clip without styles runs with
the adapters disabled, which is the base model exactly.

Errors are :class:`StyleError`, with the failure codes ``lora_unusable`` and ``lora_unavailable``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.failures import failure_message

log = logging.getLogger(__name__)

GIB = 1024**3
LORA_BYTES_MAX = 2 * GIB  # a style LoRA is megabytes to a few hundred; more is no style
HEADER_BYTES_MAX = 100 * 1024**2  # safetensors' own limit on its JSON header
SUFFIX = ".safetensors"
# the operator's folder of styles: a server's style may name a file on the GPU hosts only in it
LORA_DIR_ENV = "VIDEOBOT_LORA_DIR"
SLOTS = 4  # LoRAs kept loaded per warm pipeline
HOTSWAP_RANK = 64  # a compiled transformer's adapters are padded to this rank: higher ranks recompile
ADAPTER_PREFIX = "style_"
LORA_KEY = re.compile(r"\.(lora_A|lora_B|lora_down|lora_up)(\.[^.]+)?\.weight$")
DTYPES = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"}
COMPONENTS = ("transformer", "connectors")  # what diffusers' video LoRA loaders load into


class StyleError(Exception):
    """A style that cannot be used: ``code`` ("lora_unusable" or "lora_unavailable") and ``params``
    (db.failures: ``style``, ``model``, ``reason``); ``str()`` is the English sentence."""

    def __init__(self, code: str, *, lasting: bool = True, **params: Any) -> None:
        self.code = code
        self.params = params
        # the style itself is at fault (a server's style is then marked broken), not the network or
        # the hub being away for a moment
        self.lasting = lasting
        super().__init__(failure_message(code, {"model": "this model", **params}))

    def naming(self, **params: Any) -> StyleError:
        """The same error with ``params`` filled in where it had none (the model, the style's name)."""
        return StyleError(self.code, lasting=self.lasting, **{**params, **self.params})


def style_name(source: str) -> str:
    """How a style is named in a failure when the spec names none: its file's name, or the repository."""
    text = source.rstrip("/")
    return text.rsplit("/", 1)[-1] if text.endswith(SUFFIX) else text


def _unavailable(source: str, reason: str, *, lasting: bool = True) -> StyleError:
    return StyleError("lora_unavailable", lasting=lasting, style=style_name(source), reason=reason)


def check_server_source(source: str, lora_dir: str | None = None) -> None:
    """A server's style (added by its admins, who need not run the GPU hosts) may name a hub file, or a
    file in the operator's folder for styles (``VIDEOBOT_LORA_DIR``), nothing else on the host. Decided
    from the text alone, before any file is looked at: StyleError "lora_unavailable" otherwise."""
    if not source.startswith(("/", ".", "~", "\\")) and ":" not in source and ".." not in source.split("/"):
        return  # a hub id: Org/Repo or Org/Repo/file.safetensors
    folder = lora_dir if lora_dir is not None else os.environ.get(LORA_DIR_ENV, "")
    if not folder:
        raise _unavailable(
            source, f"a server's style may name a file on the GPU hosts only in {LORA_DIR_ENV}"
        )
    root = Path(folder).resolve()
    if not Path(source).expanduser().resolve().is_relative_to(root):
        raise _unavailable(
            source, f"a server's style may name a file on the GPU hosts only in {LORA_DIR_ENV}"
        )


def _unusable(source: str, reason: str) -> StyleError:
    return StyleError("lora_unusable", style=style_name(source), reason=reason)


def is_hub_source(source: str) -> bool:
    """``Org/Repo`` or ``Org/Repo/path/file.safetensors`` that is no file here."""
    if source.startswith(("/", ".", "~")) or Path(source).exists():
        return False
    parts = source.split("/")
    return (len(parts) == 2 or (len(parts) > 2 and parts[-1].endswith(SUFFIX))) and all(parts)


def resolve_lora(source: str, *, offline: bool | None = None, cache_dir: Path | None = None) -> Path:
    """The local file of a style's ``source``: a path as it is; a hub file through the hub cache (a
    repository naming no file must hold exactly one ``.safetensors``). StyleError "lora_unavailable"."""
    if not is_hub_source(source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise _unavailable(source, f"there is no file {source}")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

    from generator.availability import hub_cache_dir, hub_offline

    offline = hub_offline() if offline is None else offline
    cache = cache_dir or hub_cache_dir()
    parts = source.split("/")
    repo = "/".join(parts[:2])
    try:
        filename = "/".join(parts[2:]) if len(parts) > 2 else _single_safetensors(repo, offline, cache)
        if not offline:
            _check_hub_size(source, repo, filename)  # before a byte of it is fetched
        return Path(hf_hub_download(repo, filename, cache_dir=cache, local_files_only=offline))
    except StyleError:
        raise
    except (
        HfHubHTTPError,
        OSError,
        ValueError,
    ) as exc:  # not cached offline, no such repo or file, no network
        why = "not in the Hugging Face cache (offline)" if offline else type(exc).__name__
        # a repository or file the hub does not have is the style's fault; no network is not
        lasting = not offline and isinstance(exc, RepositoryNotFoundError | EntryNotFoundError)
        raise _unavailable(source, f"{why}: {str(exc).splitlines()[0][:200]}", lasting=lasting) from exc


def _check_hub_size(source: str, repo: str, filename: str) -> None:
    """Refuse a hub file over :data:`LORA_BYTES_MAX` from its listed size, before fetching it (a file the
    listing does not size is checked once it is here, as every file is)."""
    from huggingface_hub import HfApi

    for info in HfApi().get_paths_info(repo, [filename]):
        size = getattr(info, "size", None)
        if isinstance(size, int) and size > LORA_BYTES_MAX:
            most = LORA_BYTES_MAX / GIB
            raise _unusable(source, f"it is {size / GIB:.1f} GiB; a style may have {most:g} GiB")


def _single_safetensors(repo: str, offline: bool, cache: Path) -> str:
    """The one ``.safetensors`` file of ``repo`` (from the cache when offline)."""
    if offline:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo, cache_dir=cache, local_files_only=True))
        names = sorted(str(p.relative_to(folder)) for p in folder.rglob(f"*{SUFFIX}"))
    else:
        from huggingface_hub import HfApi

        names = sorted(f for f in HfApi().list_repo_files(repo) if f.endswith(SUFFIX))
    if len(names) != 1:
        found = "no .safetensors file" if not names else f"{len(names)} .safetensors files"
        raise _unavailable(repo, f"{repo} holds {found}; name one as {repo}/FILE.safetensors")
    return names[0]


@dataclass(frozen=True)
class LoraFile:
    """A checked LoRA file: where it is, its identity (path, size, mtime), and its highest rank."""

    path: Path
    key: tuple[str, int, int]
    rank: int
    tensors: int


def inspect_lora(path: Path, source: str | None = None) -> LoraFile:
    """Check ``path`` as a LoRA without loading a tensor (no pickle is ever read): StyleError
    "lora_unusable" for another format, a size over :data:`LORA_BYTES_MAX`, a header that does not parse
    or does not cover the file exactly (truncated, padded), or keys that are no LoRA's."""
    source = source or str(path)
    if path.suffix != SUFFIX:
        raise _unusable(
            source, f"only {SUFFIX} files are loaded, not {path.suffix or 'a file without suffix'}"
        )
    try:
        stat = path.stat()
        size = stat.st_size
        if size > LORA_BYTES_MAX:
            raise _unusable(source, f"{size / GIB:.1f} GiB is more than {LORA_BYTES_MAX / GIB:g} GiB")
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise _unusable(source, "the file is too short to be safetensors")
            (length,) = struct.unpack("<Q", head)
            if length > HEADER_BYTES_MAX or 8 + length > size:
                raise _unusable(source, "not a safetensors file (its header length does not fit the file)")
            raw = f.read(length)
    except OSError as exc:
        raise _unavailable(source, f"cannot read it: {exc.strerror or exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unusable(source, "not a safetensors file (its header does not parse)") from exc
    if not isinstance(header, dict):
        raise _unusable(source, "not a safetensors file (its header is no table)")
    data = size - 8 - length
    end = 0
    rank = 0
    lora_keys = 0
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, entry in entries.items():
        if not (
            isinstance(entry, dict)
            and entry.get("dtype") in DTYPES
            and isinstance(entry.get("shape"), list)
            and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2
        ):
            raise _unusable(source, f"not a safetensors file (entry {name[:80]!r} is malformed)")
        start, stop = entry["data_offsets"]
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start <= stop):
            raise _unusable(source, f"not a safetensors file (entry {name[:80]!r} is malformed)")
        if stop > data:
            raise _unusable(source, "the file is truncated (its tensors end past its last byte)")
        end = max(end, stop)
        match = LORA_KEY.search(name)
        if match:
            lora_keys += 1
            shape = entry["shape"]
            if len(shape) >= 2 and all(isinstance(n, int) for n in shape):
                rank = max(rank, shape[0] if match.group(1) in ("lora_A", "lora_down") else shape[1])
    if end != data:
        raise _unusable(source, "not a safetensors file (its tensors do not fill the file)")
    if not lora_keys:
        raise _unusable(source, "it holds no LoRA layers (no lora_A/lora_B or lora_down/lora_up weights)")
    return LoraFile(path, (str(path.resolve()), size, stat.st_mtime_ns), rank, len(entries))


def check_source(source: str, *, offline: bool | None = None) -> LoraFile:
    """:func:`resolve_lora`, then :func:`inspect_lora`: what the command line checks before loading."""
    return inspect_lora(resolve_lora(source, offline=offline), source)


# ---------------------------------------------------------------------------------------------------------
# loading into a pipeline


def _targets(pipe: Any, state_dict: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The layers a LoRA (diffusers' key format, ``component.module.lora_X.weight``) changes:
    (component, module) -> (in features, out features, rank), from its lora_A and lora_B shapes."""
    found: dict[tuple[str, str], list[int]] = {}
    for key, tensor in state_dict.items():
        component, _, rest = key.partition(".")
        for part, side in ((".lora_A.", 0), (".lora_B.", 1)):
            if part in rest and rest.endswith(".weight") and getattr(tensor, "ndim", 0) == 2:
                module = rest.split(part, 1)[0]
                shape = found.setdefault((component, module), [-1, -1, -1])
                if side == 0:
                    shape[2], shape[0] = int(tensor.shape[0]), int(tensor.shape[1])
                else:
                    shape[1], shape[2] = int(tensor.shape[0]), int(tensor.shape[1])
    return {k: (v[0], v[1], v[2]) for k, v in found.items()}


def _base_layer(module: Any) -> Any:
    return module.get_base_layer() if hasattr(module, "get_base_layer") else module


def check_fits(
    pipe: Any, lora: LoraFile, source: str, model: str
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Match the LoRA's layers against ``pipe``'s by name and shape before diffusers loads it; its layers.
    StyleError "lora_unusable" naming the first that does not fit (a LoRA made for another model)."""
    import safetensors.torch

    loader = getattr(type(pipe), "lora_state_dict", None)
    if loader is None:
        raise _unusable(source, f"{model} takes no LoRAs").naming(model=model)
    try:
        raw = safetensors.torch.load_file(str(lora.path), device="cpu")
        state_dict = loader(raw)  # diffusers' conversion of other trainers' key formats
    except Exception as exc:  # a file that changed since it was checked, a format diffusers cannot convert
        raise _unusable(source, f"diffusers cannot read it: {type(exc).__name__}: {exc}"[:300]).naming(
            model=model
        ) from exc
    if isinstance(state_dict, tuple):
        state_dict = state_dict[0]
    targets = _targets(pipe, state_dict)
    if not targets:
        raise _unusable(source, "it changes no layer this kind of model has").naming(model=model)
    missing = []
    for (component, name), (inputs, outputs, rank) in targets.items():
        owner = getattr(pipe, component, None) if component in COMPONENTS else None
        try:
            layer = _base_layer(owner.get_submodule(name)) if owner is not None else None
        except AttributeError:
            layer = None
        if layer is None:
            missing.append(f"{component}.{name}")
            continue
        want = (getattr(layer, "in_features", None), getattr(layer, "out_features", None))
        if rank <= 0 or want != (inputs, outputs):
            raise _unusable(
                source,
                f"its layer {component}.{name} is {inputs}→{outputs} (rank {rank}), the model's is "
                f"{want[0]}→{want[1]}: it was made for another model",
            ).naming(model=model)
    if missing:
        shown = ", ".join(missing[:2]) + (" …" if len(missing) > 2 else "")
        raise _unusable(
            source,
            f"{len(missing)} of its {len(targets)} layers are not in this model ({shown}): "
            "it was made for another model",
        ).naming(model=model)
    return targets


@dataclass
class _Slot:
    name: str  # the adapter's name in the transformer
    key: tuple[str, int, int]  # the file loaded into it
    layers: frozenset[tuple[str, str]]  # what it changes
    rank: int  # its tensors' rank (padded, on a compiled transformer)
    base: dict[int, float] = field(default_factory=dict)  # each LoRA layer's scaling at scale 1, by id
    used: int = 0  # when a clip last used it (a count of clips)


@dataclass(frozen=True)
class Switch:
    """What :meth:`StyleSlots.apply` did: LoRAs loaded into new slots, hotswapped in, already there."""

    loaded: int = 0
    swapped: int = 0
    kept: int = 0


def _lora_layers(pipe: Any) -> list[Any]:
    from peft.tuners.lora import LoraLayer

    layers: list[Any] = []
    for component in COMPONENTS:
        model = getattr(pipe, component, None)
        if model is not None and hasattr(model, "modules"):
            layers.extend(m for m in model.modules() if isinstance(m, LoraLayer))
    return layers


def is_compiled(model: Any) -> bool:
    """Whether ``model`` or one of its blocks went through torch.compile (generator/speedups.py)."""
    return hasattr(model, "_orig_mod") or any(
        getattr(m, "_compiled_call_impl", None) is not None for m in model.modules()
    )


class StyleSlots:
    """The LoRAs loaded into one warm pipeline (see the module's doc). Not thread-safe: the cache's
    lock guards it."""

    def __init__(self, slots: int = SLOTS, hotswap_rank: int = HOTSWAP_RANK) -> None:
        self.size = max(1, slots)
        self.hotswap_rank = hotswap_rank
        self.slots: list[_Slot] = []
        self.active: tuple[str, ...] = ()
        self.enabled = False
        self.last = Switch()
        self.clips = 0

    def _models(self, pipe: Any) -> list[Any]:
        return [
            m for c in COMPONENTS if (m := getattr(pipe, c, None)) is not None and hasattr(m, "peft_config")
        ]

    def clear(self, pipe: Any) -> None:
        """No style: the adapters off (the base model exactly), the loaded ones kept for later."""
        if self.enabled:
            pipe.disable_lora()
            self.enabled = False

    def apply(self, pipe: Any, loras: Sequence[tuple[str, float]], model: str) -> Switch:
        """Make ``loras`` (source, scale) the pipeline's styles, loading or hotswapping those not loaded
        (:class:`Switch` says how many); none: :meth:`clear`. StyleError for a LoRA that cannot be used,
        the pipeline then left with no style."""
        if not loras:
            self.clear(pipe)
            self.last = Switch()
            return self.last
        self.clear(pipe)
        files = []
        for source, scale in loras:
            try:
                lora = check_source(source)
            except StyleError as exc:
                raise exc.naming(model=model) from exc
            files.append((source, lora, float(scale)))
        chosen: list[tuple[_Slot, float]] = []
        needed = len({lora.key for _, lora, _ in files})
        loaded = swapped = kept = 0
        try:
            for source, lora, scale in files:
                slot = next((s for s in self.slots if s.key == lora.key), None)
                if slot is not None:
                    kept += 1
                else:
                    targets = check_fits(pipe, lora, source, model)
                    busy = {s.name for s, _ in chosen}
                    slot, how = self._load(pipe, lora, source, model, targets, busy, needed)
                    loaded += how == "loaded"
                    swapped += how == "swapped"
                self.clips += 1
                slot.used = self.clips
                chosen.append((slot, scale))
        except BaseException:
            if self.slots:  # a freshly loaded adapter is in play until disabled
                pipe.disable_lora()
            raise
        names = [slot.name for slot, _ in chosen]
        if len(set(names)) != len(names):  # the same file twice: one adapter at the summed scale
            merged: dict[str, tuple[_Slot, float]] = {}
            for slot, scale in chosen:
                merged[slot.name] = (slot, merged.get(slot.name, (slot, 0.0))[1] + scale)
            chosen = list(merged.values())
        self._scale(pipe, chosen)
        for m in self._models(pipe):  # LTX-2's connectors hold only the adapters of LoRAs that change them
            m.set_adapter([s.name for s, _ in chosen if s.name in m.peft_config])
        pipe.enable_lora()
        self.active = tuple(s.name for s, _ in chosen)
        self.enabled = True
        self.last = Switch(loaded, swapped, kept)
        return self.last

    def _scale(self, pipe: Any, chosen: list[tuple[_Slot, float]]) -> None:
        """Each chosen adapter's layers at its scale: its scaling at scale 1 times the scale, written in
        place (a tensor's value is filled: a compiled transformer is not recompiled for a new scale)."""
        import torch

        wanted = {slot.name: (slot, scale) for slot, scale in chosen}
        for layer in _lora_layers(pipe):
            for name, (slot, scale) in wanted.items():
                if name not in layer.scaling:
                    continue
                value = slot.base.get(id(layer), 1.0) * scale
                current = layer.scaling[name]
                if isinstance(current, torch.Tensor):
                    current.fill_(value)
                else:
                    layer.scaling[name] = value

    def _record_base(self, pipe: Any, slot: _Slot) -> None:
        slot.base = {
            id(layer): float(layer.scaling[slot.name])
            for layer in _lora_layers(pipe)
            if slot.name in layer.scaling
        }

    def _load(
        self,
        pipe: Any,
        lora: LoraFile,
        source: str,
        model: str,
        targets: dict[tuple[str, str], tuple[int, int, int]],
        busy: set[str],
        needed: int = 1,
    ) -> tuple[_Slot, str]:
        """Put ``lora`` into a free slot, else hotswap it into the least recently used one this clip does
        not use (a fresh load there when it changes other layers or has a higher rank). A compiled
        transformer has only the ``needed`` slots of the clip in hand (see the module's doc)."""
        layers = frozenset(targets)
        transformer = getattr(pipe, "transformer", None)
        compiled = transformer is not None and is_compiled(transformer)
        capacity = max(1, needed) if compiled else self.size
        if len(self.slots) < capacity:
            taken = {s.name for s in self.slots}
            name = next(
                f"{ADAPTER_PREFIX}{i}" for i in range(self.size + 1) if f"{ADAPTER_PREFIX}{i}" not in taken
            )
            return self._fresh(pipe, lora, source, model, name, layers, compiled), "loaded"
        candidates = [s for s in self.slots if s.name not in busy]
        victim = min(candidates, key=lambda s: s.used)
        if layers <= victim.layers and lora.rank <= victim.rank:
            try:
                pipe.load_lora_weights(
                    str(lora.path), adapter_name=victim.name, hotswap=True, use_safetensors=True
                )
            except Exception as exc:  # configs that cannot be swapped (other alphas per layer): load anew
                log.info("hotswapping %s failed (%s); loading it anew", source, exc)
            else:
                victim.key = lora.key
                self._record_base(pipe, victim)
                return victim, "swapped"
        self._forget(pipe, victim)
        return self._fresh(pipe, lora, source, model, victim.name, layers, compiled), "loaded"

    def _fresh(
        self,
        pipe: Any,
        lora: LoraFile,
        source: str,
        model: str,
        name: str,
        layers: frozenset[tuple[str, str]],
        compiled: bool,
    ) -> _Slot:
        rank = max([lora.rank, *(s.rank for s in self.slots)] + ([self.hotswap_rank] if compiled else []))
        for m in self._models(pipe) or [getattr(pipe, "transformer", None)]:
            if m is not None and hasattr(m, "enable_lora_hotswap"):
                # before the load: the new adapter's ranks padded, its scalings made tensors
                m.enable_lora_hotswap(target_rank=rank, check_compiled="ignore")
        try:
            pipe.load_lora_weights(str(lora.path), adapter_name=name, use_safetensors=True)
        except Exception as exc:  # what the checks did not foresee: the adapter is taken out again
            self._forget(pipe, _Slot(name, lora.key, layers, rank))
            raise _unusable(source, f"{type(exc).__name__}: {exc}"[:300]).naming(model=model) from exc
        finally:
            for m in self._models(pipe):
                m._prepare_lora_hotswap_kwargs = None
        slot = _Slot(name, lora.key, layers, rank)
        self._record_base(pipe, slot)
        self.slots.append(slot)
        return slot

    def _forget(self, pipe: Any, slot: _Slot) -> None:
        """Take ``slot``'s adapter out of the model (it may be half loaded, or gone already)."""
        self.slots = [s for s in self.slots if s.name != slot.name]
        for m in self._models(pipe):
            try:
                if slot.name in m.peft_config:
                    m.delete_adapters([slot.name])
            except Exception:  # nothing of it left to delete
                log.debug("deleting adapter %s", slot.name, exc_info=True)
