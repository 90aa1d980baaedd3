"""Fetching a preset's weights from the Hugging Face hub: only the files its pipeline loads.

A hub repository often holds far more than the diffusers pipeline reads (``Lightricks/LTX-Video`` keeps
every single-file checkpoint of each release at its root). :func:`pipeline_files` picks, from the
repository's file list and its ``model_index.json``, the files ``from_pretrained`` needs: each
component folder's configs, tokenizer files and safetensors weights (never pickled ``.bin`` files,
never a variant beside the plain weights), and the small files at the root. A preset's latent
upsampler is no pipeline component (``model_index.json`` does not name it) and may live in another
repository: :func:`upsampler_files` picks its ``config.json`` and safetensors.

:func:`fetch_weights` says the size first, shows one progress bar, and downloads into the Hugging Face
cache through ``huggingface_hub`` (an interrupted file resumes where it stopped). The file list of the
commit is cached by the first step, so :func:`missing_files` can tell a complete download from a
partial one without the network.

No torch and no diffusers here: a worker fetches before it loads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from db.presets import Preset
from generator.availability import INDEX_FILE, hub_cache_dir

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".msgpack", ".onnx", ".pb", ".gguf", ".h5")
# diffusers' variant names: "diffusion_pytorch_model.fp16.safetensors", "model.fp16-00001-of-00002…"
VARIANT = re.compile(r"\.[A-Za-z0-9_]+(-\d{5}-of-\d{5})?\.safetensors$")
PLAIN = re.compile(r"^[^.]+(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?$")
DEFAULT_ENDPOINT = "https://huggingface.co"
LICENSE_SITE = "https://huggingface.co"  # where a gated repository's license is accepted
PARALLEL_FILES = 4
T = TypeVar("T")
CHUNK_BYTES = 1024 * 1024
READ_TIMEOUT_S = 60.0
SHA256 = re.compile(r"[0-9a-f]{64}")


class FetchError(Exception):
    """The weights cannot be fetched; ``retry`` says whether trying again later may help (the network
    or the hub is away) or not (the repository is gated, missing, or holds no safetensors)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def hub_endpoint() -> str:
    """The hub to fetch from: ``HF_ENDPOINT`` as it is now (huggingface_hub reads it once, at import)."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def _components(model_index: Mapping[str, Any]) -> list[str]:
    """The folders a pipeline loads components from: entries of ``model_index.json`` that name a class."""
    return [
        name
        for name, value in model_index.items()
        if not name.startswith("_")
        and isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, str) for part in value)
    ]


def pipeline_files(
    model_index: Mapping[str, Any], repo_files: Iterable[str], replaced: Iterable[str] = ()
) -> list[str]:
    """The files of a diffusers repository that ``from_pretrained`` loads for its pipeline: the small
    files at the root (``model_index.json`` among them), and in each component folder its configs and
    tokenizer files and its plain safetensors weights; of a ``replaced`` component (one loaded from
    elsewhere) only the configs. Raises FetchError when a component has weights but none in
    safetensors (we never unpickle a download)."""
    files = sorted(set(repo_files))
    chosen = [f for f in files if "/" not in f and not f.endswith(WEIGHT_SUFFIXES)]
    for component in _components(model_index):
        inside = [f for f in files if f.startswith(component + "/")]
        if component in replaced:  # its weights come from elsewhere; its config is still read
            chosen += [f for f in inside if f.endswith(".json") and not f.endswith(".index.json")]
            continue
        weights = [f for f in inside if f.endswith(WEIGHT_SUFFIXES) or f.endswith(".index.json")]
        plain = [f for f in weights if PLAIN.match(f.rsplit("/", 1)[1])]
        if any(f.endswith(WEIGHT_SUFFIXES) for f in weights) and not any(
            f.endswith(".safetensors") for f in plain
        ):
            variants = [f for f in weights if VARIANT.search(f)]
            if not variants:
                raise FetchError(
                    f"{component}/ has no safetensors weights; only those are loaded", retry=False
                )
            plain = variants  # only variants: take them (diffusers would ask for the variant by name)
        chosen += [f for f in inside if f not in weights] + plain
    return sorted(set(chosen))


def upsampler_files(repo_files: Iterable[str], subfolder: str | None) -> list[str]:
    """The files of a repository that ``from_pretrained`` loads for a latent upsampler in ``subfolder``
    (None: the root): its ``config.json`` and its plain safetensors weights, nothing else (never a
    pickled file). Raises FetchError when either is missing."""
    prefix = f"{subfolder}/" if subfolder else ""
    inside = sorted(f for f in set(repo_files) if f.startswith(prefix) and "/" not in f[len(prefix) :])
    where = prefix or "the repository's root"
    config = prefix + "config.json"
    if config not in inside:
        raise FetchError(f"{where} has no config.json: no latent upsampler there", retry=False)
    weights = [f for f in inside if PLAIN.match(f[len(prefix) :])]
    if not any(f.endswith(".safetensors") for f in weights):
        raise FetchError(f"{where} has no safetensors weights; only those are loaded", retry=False)
    return [config, *weights]


def format_bytes(count: float) -> str:
    """'9.4 GB', '512 MB', '12 kB': decimal units, as download sizes are read."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}" if count < 100 * size else f"{count / size:.0f} {unit}"
    return f"{int(count)} bytes"


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class RepoFiles:
    """The files to fetch from one repository at one commit, their sizes, and those already here."""

    repo_id: str
    commit: str
    files: Mapping[str, int]  # path -> bytes
    repo_bytes: int  # the whole repository at that commit
    present: frozenset[str]  # files already complete in the cache
    # small files fetched to make the plan (a pipeline's model_index.json, an upsampler's config.json):
    # present, yet no sign of an earlier fetch
    planned: frozenset[str] = frozenset()

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())

    @property
    def missing_bytes(self) -> int:
        return sum(size for path, size in self.files.items() if path not in self.present)


@dataclass(frozen=True)
class FetchPlan:
    """What fetching a preset's weights means: the pipeline's repository (with its latent upsampler,
    when that is a folder of it), the repository of a single-file transformer that replaces the
    pipeline's own, and the repository of a latent upsampler kept elsewhere, where the preset names them."""

    parts: tuple[RepoFiles, ...]

    @property
    def total_bytes(self) -> int:
        return sum(part.total_bytes for part in self.parts)

    @property
    def missing_bytes(self) -> int:
        return sum(part.missing_bytes for part in self.parts)

    @property
    def repo_bytes(self) -> int:
        return sum(part.repo_bytes for part in self.parts)

    @property
    def file_count(self) -> int:
        return sum(len(part.files) for part in self.parts)

    @property
    def planned_bytes(self) -> int:
        """The bytes of the files fetched to make the plan."""
        return sum(part.files.get(path, 0) for part in self.parts for path in part.planned)

    def repos(self) -> str:
        """'A', 'A and B', 'A, B and C': each repository once."""
        names = list(dict.fromkeys(part.repo_id for part in self.parts))
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _snapshot(repo_id: str, commit: str) -> Path:
    return _repo_dir(repo_id) / "snapshots" / commit


def _replaced(preset: Preset) -> tuple[str, ...]:
    """The pipeline components a preset loads from elsewhere: the transformer of a transformer_file."""
    return ("transformer",) if preset.transformer_file else ()


def _hub_upsampler(preset: Preset) -> tuple[str, str | None] | None:
    """(repository, subfolder) of the preset's latent upsampler on the hub; None for none, or for one in
    a local folder (the subfolder of a local source included)."""
    location = preset.upsampler_location
    if location is None or Path(location[0]).is_dir():
        return None
    return location


def _other_repo_upsampler(preset: Preset) -> tuple[str, str | None] | None:
    """The hub upsampler of a preset when it is in another repository than its source."""
    hub = _hub_upsampler(preset)
    return None if hub is None or hub[0] == preset.source else hub


def gated_words(repo: str) -> str:
    """What to do about a gated repository, for a line to an operator."""
    return (
        f"{repo} is gated: accept its license at {LICENSE_SITE}/{repo} "
        "and set HF_TOKEN to a token of that account"
    )


@contextlib.contextmanager
def _said_as_fetch_error(preset: Preset, repo: str) -> Iterator[None]:
    """Any failure of huggingface_hub or the network inside, while it reads ``repo``, as the
    one-line FetchError it means."""
    try:
        yield
    except FetchError:
        raise
    except Exception as exc:
        raise _fetch_error(exc, preset, repo) from exc


def _fetch_error(exc: Exception, preset: Preset, repo: str) -> FetchError:
    """What an exception from huggingface_hub about ``repo`` means for the operator, in one line."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    refused = (
        isinstance(exc, HfHubHTTPError)
        and not isinstance(exc, RepositoryNotFoundError)
        and getattr(exc.response, "status_code", None) in (401, 403)
    )
    # a preset known to be gated: a refusal without the hub's gated code means the same
    if isinstance(exc, GatedRepoError) or (refused and preset.gated and repo == preset.source):
        return FetchError(f"{preset.name}: {gated_words(repo)}", retry=False)
    if isinstance(exc, RepositoryNotFoundError):
        return FetchError(
            f"{preset.name}: the hub has no repository {repo} (or it is private: set HF_TOKEN)", retry=False
        )
    if isinstance(exc, OfflineModeIsEnabled):
        return FetchError(f"{preset.name}: HF_HUB_OFFLINE=1 forbids fetching {repo}", retry=True)
    if isinstance(exc, LocalEntryNotFoundError | OSError):
        reason = str(exc).splitlines()[0].removeprefix("Got: ") if str(exc) else type(exc).__name__
        return FetchError(
            f"{preset.name}: cannot reach {hub_endpoint()} to fetch {repo} ({reason})", retry=True
        )
    return FetchError(f"{preset.name}: fetching {repo} failed: {type(exc).__name__}: {exc}", retry=True)


def plan_fetch(preset: Preset) -> FetchPlan:
    """Ask the hub for the preset's repositories: their commits and files (the file lists of the
    pipeline's and of an upsampler's repository are kept in the cache for :func:`missing_files`), the
    pipeline's ``model_index.json``, the upsampler's ``config.json``. Raises FetchError."""
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # huggingface_hub's own bars; fetch_weights draws one for the whole pipeline
    parts: list[RepoFiles] = []
    if not Path(preset.source).is_dir():  # a local pipeline folder: nothing of it comes from the hub
        with _said_as_fetch_error(preset, preset.source):
            parts.append(_pipeline_part(preset))
    hub_file = preset.transformer_hub_file
    if hub_file is not None:
        with _said_as_fetch_error(preset, hub_file[0]):
            parts.append(_single_file_part(preset, *hub_file))
    upsampler = _other_repo_upsampler(preset)
    if upsampler is not None:
        with _said_as_fetch_error(preset, upsampler[0]):
            parts.append(_upsampler_part(preset, *upsampler))
    return FetchPlan(tuple(parts))


def _listed(repo_id: str, first: str) -> tuple[Path, dict[str, int]]:
    """The snapshot folder of ``repo_id`` with ``first`` in it (when the repository has that file),
    and the repository's files and sizes; the file list stays cached for :func:`missing_files`."""
    from huggingface_hub import get_cached_repo_tree, snapshot_download

    cache = hub_cache_dir()
    folder = Path(
        str(snapshot_download(repo_id, allow_patterns=[first], cache_dir=cache, endpoint=hub_endpoint()))
    )
    tree = {f.path: int(f.size or 0) for f in get_cached_repo_tree(repo_id, cache_dir=cache)}
    return folder, tree


def _pipeline_part(preset: Preset) -> RepoFiles:
    """The files of the pipeline's repository to fetch, its upsampler's among them when that is a
    folder of the same repository."""
    repo_id = preset.source
    folder, tree = _listed(repo_id, INDEX_FILE)
    if INDEX_FILE not in tree:
        raise FetchError(f"{preset.name}: {repo_id} has no {INDEX_FILE}: no diffusers pipeline", retry=False)
    index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    wanted = pipeline_files(index, tree, replaced=_replaced(preset))
    hub = _hub_upsampler(preset)
    if hub is not None and hub[0] == repo_id:
        wanted = sorted({*wanted, *_upsampler_files_of(preset, repo_id, hub[1], tree)})
    present = frozenset(p for p in wanted if (folder / p).is_file())
    files = {p: tree[p] for p in wanted}
    return RepoFiles(repo_id, folder.name, files, sum(tree.values()), present, frozenset({INDEX_FILE}))


def _upsampler_files_of(
    preset: Preset, repo_id: str, subfolder: str | None, tree: Iterable[str]
) -> list[str]:
    try:
        return upsampler_files(tree, subfolder)
    except FetchError as exc:
        raise FetchError(f"{preset.name}: its upsampler in {repo_id}: {exc}", retry=False) from exc


def _upsampler_part(preset: Preset, repo_id: str, subfolder: str | None) -> RepoFiles:
    """The latent upsampler's files in a repository of its own: its config.json and safetensors."""
    config = f"{subfolder}/config.json" if subfolder else "config.json"
    folder, tree = _listed(repo_id, config)
    wanted = _upsampler_files_of(preset, repo_id, subfolder, tree)
    present = frozenset(p for p in wanted if (folder / p).is_file())
    files = {p: tree[p] for p in wanted}
    return RepoFiles(repo_id, folder.name, files, sum(tree.values()), present, frozenset({config}))


def _single_file_part(preset: Preset, repo_id: str, filename: str) -> RepoFiles:
    """The repository and file of the preset's single-file transformer on the hub; the commit is noted
    in the cache's refs/main, as huggingface_hub does, so the file is found later."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=hub_endpoint())
    commit = api.repo_info(repo_id).sha
    if not commit:
        raise OSError(f"the hub named no commit of {repo_id}")
    tree = {
        f.path: int(f.size or 0)
        for f in api.list_repo_tree(repo_id, recursive=True, revision=commit)
        if isinstance(f, RepoFile)
    }
    if filename not in tree:
        raise FetchError(f"{preset.name}: {repo_id} has no file {filename}", retry=False)
    refs = _repo_dir(repo_id) / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / "main").write_text(commit, encoding="utf-8")
    present = frozenset({filename} if (_snapshot(repo_id, commit) / filename).is_file() else ())
    return RepoFiles(repo_id, commit, {filename: tree[filename]}, sum(tree.values()), present)


def fetching_now(preset: Preset, within_s: float = 30.0) -> bool:
    """Whether a fetch of ``preset`` is writing now: a partial file changed in the last ``within_s``."""
    now = time.time()
    repos = [preset.source] + [
        hub[0] for hub in (preset.transformer_hub_file, _other_repo_upsampler(preset)) if hub is not None
    ]
    try:
        return any(
            now - f.stat().st_mtime < within_s
            for repo in repos
            for f in (_repo_dir(repo) / "blobs").glob("*.incomplete")
        )
    except OSError:
        return False


def missing_files(preset: Preset) -> list[str] | None:
    """The files of a hub preset that the cache still lacks (an interrupted fetch), from the file list
    cached when the fetch began; [] when complete; None when no file list is cached (weights put there
    by other means, which are taken as they are). A single-file transformer on the hub must be there; a
    latent upsampler in a folder of the repository is among its files (one kept in another repository:
    :func:`missing_upsampler`)."""
    from huggingface_hub import get_cached_repo_tree, try_to_load_from_cache
    from huggingface_hub.errors import CachedRepoTreeNotFoundError

    hub_file = preset.transformer_hub_file
    lacking = []
    if hub_file is not None and not isinstance(
        try_to_load_from_cache(hub_file[0], hub_file[1], cache_dir=hub_cache_dir()), str
    ):
        lacking.append(preset.transformer_file)
    try:
        tree = get_cached_repo_tree(preset.source, cache_dir=hub_cache_dir())
    except (CachedRepoTreeNotFoundError, OSError, ValueError):
        return lacking or None
    refs = _repo_dir(preset.source) / "refs" / "main"
    try:
        folder = _snapshot(preset.source, refs.read_text(encoding="utf-8").strip())
        index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
        paths = [f.path for f in tree]
        wanted = pipeline_files(index, paths, replaced=_replaced(preset))
    except (OSError, ValueError, FetchError):
        return lacking or None
    hub = _hub_upsampler(preset)
    if hub is not None and hub[0] == preset.source:
        with contextlib.suppress(FetchError):  # no upsampler in the repository: the fetch says so
            wanted += upsampler_files(paths, hub[1])
    return [p for p in wanted if not (folder / p).is_file()] + lacking


def missing_upsampler(preset: Preset) -> list[str]:
    """The files of a preset's latent upsampler kept in another hub repository than its source that
    the cache lacks ("Org/Repo/latent_upsampler/config.json"), from that repository's file list cached
    when it was fetched; without a cached list, its config.json alone says whether it is here. [] for
    no such upsampler."""
    from huggingface_hub import get_cached_repo_tree, try_to_load_from_cache
    from huggingface_hub.errors import CachedRepoTreeNotFoundError

    hub = _other_repo_upsampler(preset)
    if hub is None:
        return []
    repo_id, subfolder = hub
    try:
        tree = get_cached_repo_tree(repo_id, cache_dir=hub_cache_dir())
        folder = _snapshot(
            repo_id, (_repo_dir(repo_id) / "refs" / "main").read_text(encoding="utf-8").strip()
        )
        wanted = upsampler_files((f.path for f in tree), subfolder)
    except (CachedRepoTreeNotFoundError, OSError, ValueError, FetchError):
        config = f"{subfolder}/config.json" if subfolder else "config.json"
        here = isinstance(try_to_load_from_cache(repo_id, config, cache_dir=hub_cache_dir()), str)
        return [] if here else [f"{repo_id}/{config}"]
    return [f"{repo_id}/{p}" for p in wanted if not (folder / p).is_file()]


def _repo_dir(repo_id: str) -> Path:
    return hub_cache_dir() / f"models--{repo_id.replace('/', '--')}"


def _fetch_file(plan: RepoFiles, path: str, count: Callable[[int], None]) -> None:
    """One file of ``plan`` into the Hugging Face cache (``blobs/<etag>``, and the snapshot's link to
    it), resumable: the bytes go to ``blobs/<etag>.incomplete`` first, and a later call asks the hub
    (HTTP Range) for the rest only. An LFS file's SHA-256 is checked before it takes its place.
    ``count(n)`` hears every byte that is on disk, those of an earlier try included."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session

    url = hf_hub_url(plan.repo_id, path, revision=plan.commit, endpoint=hub_endpoint())
    meta = get_hf_file_metadata(url, endpoint=hub_endpoint())
    if not meta.etag:
        raise OSError(f"the hub gave no ETag for {path}")
    blob = _repo_dir(plan.repo_id) / "blobs" / meta.etag
    if not blob.is_file():
        blob.parent.mkdir(parents=True, exist_ok=True)
        _download_resumable(meta.location or url, blob, meta.size, count, build_hf_headers(), get_session())
    else:
        count(blob.stat().st_size)
    link = _snapshot(plan.repo_id, plan.commit) / path
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.unlink(missing_ok=True)  # a link left dangling
        link.symlink_to(os.path.relpath(blob, link.parent))


def _download_resumable(
    url: str,
    blob: Path,
    size: int | None,
    count: Callable[[int], None],
    headers: dict[str, str],
    session: Any,
) -> None:
    from huggingface_hub.utils import hf_raise_for_status

    partial = blob.with_name(blob.name + ".incomplete")
    lfs = SHA256.fullmatch(blob.name) is not None
    digest = hashlib.sha256()
    have = partial.stat().st_size if partial.is_file() else 0
    if size is not None and have > size:
        have = 0
    if have:
        with partial.open("rb") as earlier:
            for chunk in iter(lambda: earlier.read(CHUNK_BYTES), b""):
                digest.update(chunk)
        count(have)
        headers = {**headers, "Range": f"bytes={have}-"}
    with session.stream("GET", url, headers=headers, timeout=READ_TIMEOUT_S) as response:
        hf_raise_for_status(response)
        if have and response.status_code != 206:  # the server sent the whole file: start over
            count(-have)
            have = 0
            digest = hashlib.sha256()
        with partial.open("ab" if have else "wb") as file:
            for chunk in response.iter_bytes():  # as it comes, so a kill keeps what arrived
                file.write(chunk)
                digest.update(chunk)
                count(len(chunk))
    got = partial.stat().st_size
    if size is not None and got != size:
        raise OSError(f"{blob.name[:12]}…: got {got} of {size} bytes; the rest is fetched next time")
    if lfs and digest.hexdigest() != blob.name:
        partial.unlink(missing_ok=True)
        raise OSError(f"a file fetched from the hub does not match its SHA-256 ({blob.name[:12]}…)")
    os.replace(partial, blob)


def fetch_weights(
    preset: Preset,
    *,
    out: IO[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> FetchPlan:
    """Fetch ``preset``'s pipeline files into the Hugging Face cache: one line with the size before,
    a progress bar on ``out`` (stderr), one line when done. ``on_progress(done, total)`` hears the
    bytes as they come (for the worker's registry note). Returns the plan; raises FetchError."""
    from tqdm import tqdm

    stream = out if out is not None else sys.stderr
    plan = plan_fetch(preset)
    if not plan.missing_bytes:
        return plan
    have = plan.total_bytes - plan.missing_bytes
    # the pipeline's index and the upsampler's config came with the plan: "here already" is for files
    # an earlier fetch left
    earlier = have - plan.planned_bytes
    resumed = f", {format_bytes(earlier)} of it here already" if earlier > 0 else ""
    holds = "the repository holds" if len(plan.parts) == 1 else "the repositories hold"
    print(
        f"{preset.name}: fetching {format_bytes(plan.total_bytes)} of {plan.repos()} "
        f"({plan.file_count} files; {holds} {format_bytes(plan.repo_bytes)}{resumed}) into {hub_cache_dir()}",
        file=stream,
        flush=True,
    )
    lock = threading.Lock()
    done = have
    bar = tqdm(total=plan.total_bytes, initial=have, unit="B", unit_scale=True, desc=preset.name, file=stream)

    def count(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            bar.update(n)
            if on_progress is not None:
                on_progress(done, plan.total_bytes)

    def fetch(item: tuple[RepoFiles, str]) -> None:
        part, path = item
        with _said_as_fetch_error(preset, part.repo_id):
            _fetch_file(part, path, count)

    started = time.monotonic()
    todo = [(part, path) for part in plan.parts for path in part.files if path not in part.present]
    try:
        in_daemon_threads(fetch, todo, PARALLEL_FILES)
    finally:
        bar.close()
    print(
        f"{preset.name}: weights ready ({format_bytes(plan.missing_bytes)} fetched in "
        f"{format_seconds(time.monotonic() - started)})",
        file=stream,
        flush=True,
    )
    return plan


def in_daemon_threads(work: Callable[[T], None], items: Sequence[T], threads: int) -> None:
    """``work(item)`` for every item, ``threads`` at a time, in daemon threads: a process told to stop
    exits without waiting for a download (its partial file resumes next time), which a
    ThreadPoolExecutor would not allow. Raises the first error, after the running items end."""
    todo = queue.SimpleQueue[T]()
    for item in items:
        todo.put(item)
    errors: list[BaseException] = []

    def run() -> None:
        while not errors:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                work(item)
            except BaseException as exc:  # handed to the caller
                errors.append(exc)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(max(1, min(threads, len(items))))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]


def fetch_command(preset: Preset) -> str:
    """The command that fetches a preset's weights, for a line that tells an operator what to run."""
    return f"videobot download {preset.name}"


def missing_weights_line(preset: Preset, why: str) -> str:
    """One line for an operator whose worker cannot fetch ``preset``: why, the command, how big, and
    for a gated repository what to do first."""
    size = f"about {preset.download_gb:g} GB" if preset.download_gb else "size said once the hub answers"
    gated = f"; first, {gated_words(preset.source)}" if preset.gated else ""
    return (
        f"{preset.name} ({preset.title}) has no weights here and {why}: fetch them with "
        f"`{fetch_command(preset)}` ({size}, into {hub_cache_dir()}){gated}; this worker starts once "
        "they are there"
    )


NOTE_EVERY_S = 5.0
OFFLINE_POLL_S = 10.0
RETRY_DELAYS_S = (30.0, 60.0, 120.0, 300.0)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


async def _in_daemon_thread(work: Callable[[], FetchPlan]) -> FetchPlan:
    """``work()`` in a daemon thread: a worker stopped meanwhile exits without waiting for it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[FetchPlan] = loop.create_future()

    def settle(result: FetchPlan | None, error: BaseException | None) -> None:
        if done.done():  # the worker stopped waiting
            return
        if error is not None:
            done.set_exception(error)
        else:
            assert result is not None
            done.set_result(result)

    def run() -> None:
        result: FetchPlan | None = None
        error: BaseException | None = None
        try:
            result = work()
        except BaseException as exc:  # handed to the event loop
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: the worker has stopped
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="fetch-weights", daemon=True).start()
    return await done


async def ensure_weights(
    presets: Sequence[Preset],
    *,
    stop: asyncio.Event,
    set_note: Callable[[str], Awaitable[None]],
    out: IO[str] | None = None,
    poll_s: float = OFFLINE_POLL_S,
) -> bool:
    """Fetch each preset's weights unless they are here, for a worker that has registered as starting:
    its registry note says how far the fetch is. With ``HF_HUB_OFFLINE=1`` it says once what to run
    and waits for the weights to appear; when the hub cannot be reached it says so once and tries
    again after 30 s, 1, 2, then every 5 minutes. False when ``stop`` was set first; raises FetchError
    for what waiting cannot fix (a gated or missing repository)."""
    from generator.availability import find_weights, hub_offline

    stream = out if out is not None else sys.stderr
    for preset in presets:
        said = False
        failures = 0
        while not stop.is_set():
            if find_weights(preset).found:
                break
            if hub_offline():
                if not said:
                    print(missing_weights_line(preset, "HF_HUB_OFFLINE=1 forbids fetching them"), file=stream)
                    await set_note(f"waiting for the weights of {preset.name} (HF_HUB_OFFLINE=1)")
                    said = True
                await _pause(stop, poll_s)
                continue
            try:
                await _fetch_reporting(preset, stream, set_note)
                break
            except FetchError as exc:
                if not exc.retry:
                    raise
                delay = RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S) - 1)]
                failures += 1
                if not said:
                    line = missing_weights_line(preset, "the hub cannot be reached")
                    print(f"{exc}; trying again in {delay:g} s. {line}", file=stream)
                    said = True
                await set_note(f"waiting for the hub to fetch {preset.name}")
                await _pause(stop, delay)
        if stop.is_set():
            return False
    return True


async def _fetch_reporting(
    preset: Preset, out: IO[str], set_note: Callable[[str], Awaitable[None]]
) -> FetchPlan:
    """:func:`fetch_weights` in a daemon thread while the registry note says every few seconds how far
    it is: 'fetching the weights of ltx-video: 3.1 GB of 28 GB'."""
    progress: list[tuple[int, int]] = []

    async def report() -> None:
        while True:
            await asyncio.sleep(NOTE_EVERY_S)
            if progress:
                done, total = progress[-1]
                note = f"fetching the weights of {preset.name}: {format_bytes(done)} of {format_bytes(total)}"
                await set_note(note)

    await set_note(f"fetching the weights of {preset.name}")
    reporter = asyncio.create_task(report())
    try:
        return await _in_daemon_thread(
            lambda: fetch_weights(preset, out=out, on_progress=lambda d, t: progress.append((d, t)))
        )
    finally:
        reporter.cancel()
