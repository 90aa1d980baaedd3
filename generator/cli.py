"""``videobot generate``, ``extend``, ``bridge``, ``hd`` and ``models``: clips with no Discord at all."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from db.presets import Preset, PresetCatalog, PresetError
from db.spec import JobSpec, SpecError, resolve_spec

if TYPE_CHECKING:
    import numpy as np

    from db.credentials import Ingredient, Keys
    from db.spec import RenderPlan
    from generator.clipio import ClipInfo
    from generator.encode import EncodedClip
    from generator.loader import PipelineCache

T = TypeVar("T")

# the picture a clip may start from (--image)
PICTURE_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})

SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


class UsageError(Exception):
    """Bad input on the command line: one line on stderr, exit status 2."""


def parse_size(text: str) -> int:
    """'10MiB', '8M', '500k', '1048576' -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in SIZE_UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (examples: 10MiB, 8MB, 500k)")
    value = int(float(match.group(1)) * SIZE_UNITS[unit])
    if value <= 0:
        raise argparse.ArgumentTypeError("the size limit must be more than 0 bytes")
    return value


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", help="what the clip shows")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the mp4 to write")
    parser.add_argument(
        "--model",
        help="a preset name (see `videobot models`) or a pipeline folder (default: the default preset)",
    )
    parser.add_argument("--negative", default="", help="what the clip should not show")
    parser.add_argument("--seconds", type=float, help="length of the clip (default: the preset's, about 5 s)")
    parser.add_argument("--aspect", help="aspect ratio, e.g. 16:9, 9:16, 1:1, 3:2 (default: the preset's)")
    parser.add_argument("--seed", type=int, help="the same seed gives the same clip (default: a random one)")
    parser.add_argument(
        "--steps", type=int, help="denoising steps, more: slower, finer (default: the preset's)"
    )
    parser.add_argument(
        "--guidance", type=float, help="how closely to follow the prompt (default: the preset's)"
    )
    parser.add_argument("--fps", type=int, help="frames per second (default: the preset's)")
    parser.add_argument(
        "--max-bytes", type=parse_size, default="10MiB", help="the file never exceeds this (default 10MiB)"
    )
    parser.add_argument("--poster", type=Path, help="also write the middle frame as a PNG here")
    parser.add_argument("--image", type=Path, help="a PNG, JPEG or WebP picture: the clip's first frame")
    parser.add_argument(
        "--end-image",
        type=Path,
        help="a PNG, JPEG or WebP picture: the clip's last frame (with --image: first to last)",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="the clip ends on its own first frame (the --image picture, if given): it plays on repeat",
    )
    parser.add_argument("--no-audio", action="store_true", help="no sound, even from a model that makes it")
    parser.add_argument(
        "--mark", action="store_true", help='a small "AI" mark in the bottom-right corner of every frame'
    )
    parser.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="FILE[:SCALE]",
        help="a style: a LoRA .safetensors file or a Hugging Face id (Org/Repo or "
        "Org/Repo/FILE.safetensors), with its scale (-2 to 2, default 1); repeatable, at most 4",
    )
    parser.add_argument("--device", help="cuda, cuda:1 or cpu (default: the first GPU, else the CPU)")


def parse_lora(text: str) -> tuple[str, float]:
    """``FILE[:SCALE]`` as (source, scale): the scale is what follows the last colon when it is a number."""
    source, colon, tail = text.rpartition(":")
    if colon and source:
        try:
            return source, float(tail)
        except ValueError:
            pass
    return text, 1.0


def check_loras(loras: Sequence[tuple[str, float]], model: str) -> None:
    """Each style's file fetched (a hub id) and checked before any model loads: UsageError otherwise."""
    from generator.styles import StyleError, check_source

    for source, _ in loras:
        try:
            check_source(source)
        except StyleError as exc:
            raise UsageError(str(exc.naming(model=model))) from exc


def add_extend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clip", type=Path, help="the clip to continue: any mp4, mov or webm (H.264, H.265…)")
    parser.add_argument("prompt", help="what happens next")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the mp4 to write: clip, then more")
    _add_rendered_part_options(
        parser,
        "continuation",
        can="continue a clip",
        seconds="length of the continuation: the clip grows by it",
        sound="the clip's own sound is kept",
    )


def add_bridge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", type=Path, help="the clip the bridge starts from: any mp4, mov or webm")
    parser.add_argument("second", type=Path, help="the clip the bridge leads to (it ends on its first frame)")
    parser.add_argument("prompt", help="what happens between them")
    parser.add_argument(
        "-o", "--output", required=True, type=Path, help="the mp4 to write: first clip, bridge, second clip"
    )
    _add_rendered_part_options(
        parser,
        "bridge",
        can="bridge two clips",
        seconds="length of the bridge, from the first clip's last frame to the second's first",
        sound="the clips' own sound is kept",
    )


def _add_rendered_part_options(
    parser: argparse.ArgumentParser, part: str, *, can: str, seconds: str, sound: str
) -> None:
    """The options of a command that renders a ``part`` of a clip made from clips (extend, bridge)."""
    parser.add_argument(
        "--model",
        help=f"a preset that can {can}, or a pipeline folder (default: the default preset)",
    )
    parser.add_argument("--negative", default="", help=f"what the {part} should not show")
    parser.add_argument("--seconds", type=float, help=f"{seconds} (default: the preset's)")
    parser.add_argument(
        "--seed", type=int, help=f"the same seed gives the same {part} (default: a random one)"
    )
    parser.add_argument(
        "--steps", type=int, help="denoising steps, more: slower, finer (default: the preset's)"
    )
    parser.add_argument(
        "--guidance", type=float, help="how closely to follow the prompt (default: the preset's)"
    )
    parser.add_argument(
        "--max-bytes", type=parse_size, default="10MiB", help="the whole never exceeds this (default 10MiB)"
    )
    parser.add_argument("--no-audio", action="store_true", help=f"no sound from the model ({sound})")
    parser.add_argument("--device", help="cuda, cuda:1 or cpu (default: the first GPU, else the CPU)")


def add_hd_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clip", type=Path, help="the clip to finish in HD: any mp4, mov or webm")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the mp4 to write")
    parser.add_argument(
        "--model",
        help="a preset with a latent upsampler, or a pipeline folder (default: the first such preset)",
    )
    parser.add_argument("--prompt", default=CLI_HD_PROMPT, help="what the clip shows: guides the refining")
    parser.add_argument("--seed", type=int, help="the same seed gives the same HD clip (default: random)")
    parser.add_argument(
        "--max-bytes", type=parse_size, default="10MiB", help="the file never exceeds this (default 10MiB)"
    )
    parser.add_argument("--no-audio", action="store_true", help="drop the clip's sound")
    parser.add_argument("--device", help="cuda, cuda:1 or cpu (default: the first GPU, else the CPU)")


CLI_HD_PROMPT = "a sharp, detailed, high-quality video"


def hd_model(catalog: PresetCatalog, asked: str | None) -> str | None:
    """The model ``videobot hd`` uses: the one asked for, else the default preset when it makes HD
    versions, else the first preset that does (None: asked for nothing and none does)."""
    if asked is not None:
        return asked
    default = catalog.get(catalog.default)
    if default is not None and default.has_hd:
        return default.name
    return next((p.name for p in catalog if p.has_hd), None)


def run_hd(args: argparse.Namespace) -> int:
    """Validate the clip and the model, upsample and refine, encode. The exit status."""
    from generator.hd import check_length, plan_hd

    catalog = load_catalog()
    draft = read_clip(args.clip)
    model = hd_model(catalog, args.model)
    if model is None:
        raise UsageError("no model preset has a latent upsampler; give --model")
    spec = JobSpec(prompt=args.prompt, model=model, seed=args.seed, audio=not args.no_audio)
    try:
        plan = plan_hd(spec, draft, catalog)
        if not plan.preset.has_hd:
            able = ", ".join(p.name for p in catalog if p.has_hd) or "none"
            raise UsageError(f"{plan.preset.title} makes no HD versions; models that do: {able}")
        check_length(draft, plan)
    except SpecError as exc:
        raise UsageError(str(exc)) from exc
    _check_output(args.output)
    _check_device(args.device)

    from db.credentials import Ingredient
    from generator.hd import hd_clip

    keys = signing_keys()
    # the HD version of the same clip: its parent, opened and edited by the model
    ingredients = [Ingredient(args.clip, "parentOf")]
    result = rendering(
        plan,
        args.device,
        lambda cache, on_progress: within_reserve(
            args.max_bytes,
            [args.clip],
            keys,
            lambda budget: hd_clip(
                args.clip, plan, args.output, budget, cache=cache, on_progress=on_progress
            ),
        ),
    )
    if isinstance(result, int):
        return result
    clip = sign_output("hd", result.clip, plan, ingredients, keys, args.max_bytes)
    if clip is None:
        return 1
    length = f"{draft.width}x{draft.height} → HD, {clip.duration:.1f} s"
    print(wrote(clip, plan.spec, length, result.render_seconds))
    return 0


def read_picture(path: Path) -> np.ndarray:
    """The picture at ``path`` as uint8 RGB (height, width, 3), turned as its EXIF says. Raises UsageError
    for a missing file or anything but a PNG, JPEG or WebP picture."""
    import numpy as np
    from PIL import Image, ImageOps

    if not path.is_file():
        raise UsageError(f"the picture {path} does not exist" if not path.exists() else f"{path} is no file")
    try:
        with Image.open(path) as image:
            if image.format not in PICTURE_FORMATS:
                raise UsageError(f"{path.name} is a {image.format} file; give a PNG, JPEG or WebP picture")
            image.load()
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UsageError(f"{path.name} is not a picture that can be read (PNG, JPEG or WebP)") from exc
    return np.asarray(rgb)


def _check_output(path: Path) -> None:
    try:
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give a file name such as {path / 'clip.mp4'}")
        if not path.parent.exists():
            raise UsageError(f"the folder {path.parent} does not exist")
        if not path.parent.is_dir():
            raise UsageError(f"{path.parent} is a file, not a folder")
    except OSError as exc:  # a name the file system does not take (too long, say)
        raise UsageError(f"{_shortened(str(path))} cannot be a file name: {exc.strerror}") from exc
    if path.suffix.lower() != ".mp4":
        raise UsageError(f"the output must be an .mp4 file, not {_shortened(path.name)}")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"the folder {path.parent} cannot be written to")


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


DEVICE_NAMES = re.compile(r"cpu|cuda(:\d+)?|mps")


def _check_device(requested: str | None) -> None:
    """Refuse a device this machine does not have before anything loads: a name torch does not know,
    a GPU that is not there. ``None`` (and no VIDEOBOT_DEVICE) is the first GPU, else the CPU."""
    name = requested or os.environ.get("VIDEOBOT_DEVICE") or ""
    if not name:
        return
    if not DEVICE_NAMES.fullmatch(name):
        raise UsageError(f"--device {_shortened(name, 30)!r} is no device: give cpu, cuda, cuda:N or mps")
    if name == "cpu":
        return
    import torch  # only once the name is one torch knows

    if name == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError("--device mps: this machine has no Apple GPU (try --device cpu)")
        return
    if not torch.cuda.is_available():
        raise UsageError(f"--device {name}: this machine has no CUDA GPU (try --device cpu)")
    index = torch.device(name).index or 0
    count = torch.cuda.device_count()
    if index >= count:
        raise UsageError(f"--device {name}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")


def _progress(plan: RenderPlan) -> tuple[Callable[[], None], Callable[[int, int], None]]:
    """A progress bar on stderr for ``plan``'s steps: (close, on_progress)."""
    from tqdm import tqdm

    bar = tqdm(total=plan.spec.steps, desc=plan.preset.title, unit="step", file=sys.stderr)

    def on_progress(step: int, total: int) -> None:
        if step == 0:
            bar.reset(total)  # the clock starts after loading
        bar.update(step - bar.n)

    return bar.close, on_progress


def rendering(
    plan: RenderPlan, device: str | None, work: Callable[[PipelineCache, Callable[[int, int], None]], T]
) -> T | int:
    """``work(cache, on_progress)`` on ``device`` with a progress bar on stderr: what it returned, or
    the exit status when it failed (1, the reason on stderr) or was cancelled (130)."""
    from generator.clipio import ClipError
    from generator.encode import EncodeError
    from generator.loader import PipelineCache
    from generator.render import RenderCancelled, RenderFailed
    from generator.styles import StyleError

    cache = PipelineCache(device=device)
    print(f"Loading {plan.preset.title} on {cache.device}…", file=sys.stderr)
    close_bar, on_progress = _progress(plan)
    try:
        return work(cache, on_progress)
    except StyleError as exc:  # a style for another model: bad input, as a file that is no LoRA is
        print(f"videobot: {exc}", file=sys.stderr)
        return 2
    except (RenderFailed, EncodeError, ClipError) as exc:
        print(f"videobot: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, RenderCancelled):
        print("videobot: cancelled", file=sys.stderr)
        return 130
    finally:
        close_bar()


def load_catalog() -> PresetCatalog:
    """The presets, or a UsageError naming what is wrong with the operator's presets file."""
    try:
        return PresetCatalog.load()
    except PresetError as exc:
        raise UsageError(str(exc)) from exc


def wrote(clip: EncodedClip, spec: JobSpec, length: str, render_seconds: float) -> str:
    """The one line on stdout that says what was written."""
    sound = "" if clip.audio_bitrate is None else f" with sound ({clip.audio_bitrate // 1000} kb/s)"
    return (
        f"{clip.path}: {clip.width}x{clip.height}, {clip.frames} frames at {clip.fps:g} fps "
        f"({length}){sound}, {clip.bytes / 1024 / 1024:.2f} MiB, model {spec.model}, seed {spec.seed}, "
        f"{spec.steps} steps, rendered in {render_seconds:.1f} s"
    )


R = TypeVar("R")


def signing_keys() -> Keys:
    """The installation's C2PA keys (made on first use); a key problem is a UsageError."""
    from db.credentials import CredentialsError, ensure_keys

    try:
        return ensure_keys()
    except CredentialsError as exc:
        raise UsageError(str(exc)) from exc


def within_reserve(
    max_bytes: int,
    ingredients: Sequence[Path],
    keys: Keys,
    encode: Callable[[int], R],
    *,
    cheap_retry: bool = False,
) -> R:
    """``encode(budget)``: the encoder aims below ``max_bytes`` by the room the clip's content credentials
    take (db.credentials.signing_reserve: about 5 KB, plus each parent clip's own manifest), so the signed
    file still fits; its EncodeError names the limit asked for, not the budget.

    ``cheap_retry`` (``encode`` only encodes, it renders nothing): a budget the encoder cannot plan for
    (its floor for a long clip under a tiny limit) is tried once more at the limit itself, which it
    usually undershoots by far more than a manifest; signing then refuses a clip that would not fit."""
    from db.credentials import signing_reserve
    from generator.encode import EncodeError

    reserve = signing_reserve(ingredients, keys)
    budget = max_bytes - reserve
    try:
        if budget <= 0:
            raise EncodeError(
                f"a clip cannot be made smaller than {max_bytes} bytes: its content credentials alone "
                f"take about {reserve}"
            )
        return encode(budget)
    except EncodeError as exc:
        if cheap_retry:
            return encode(max_bytes)
        raise EncodeError(str(exc).replace(f"{budget} bytes", f"{max_bytes} bytes")) from exc


def sign_output(
    command: str,
    clip: EncodedClip,
    plan: RenderPlan,
    ingredients: Sequence[Ingredient],
    keys: Keys,
    max_bytes: int,
) -> EncodedClip | None:
    """Sign the clip just written, in place: a manifest that says which model made it and from what. The
    clip with its new size, or None (the reason on stderr, the unsigned file removed: no clip leaves
    without its credentials)."""
    import dataclasses

    from db.credentials import ClipFacts, CredentialsError, sign_clip

    preset = plan.preset
    styles = ", ".join(Path(source).name for source, _ in plan.spec.loras) or None
    facts = ClipFacts(
        model=preset.name,
        model_title=preset.title,
        pipeline=preset.pipeline,
        source=preset.source,
        style=styles,
        ingredients=tuple(ingredients),
    )
    try:
        sign_clip(clip.path, clip.path, facts, keys, max_bytes=max_bytes)
    except CredentialsError as exc:
        clip.path.unlink(missing_ok=True)
        print(f"videobot {command}: error: {exc}", file=sys.stderr)
        return None
    return dataclasses.replace(clip, bytes=clip.path.stat().st_size)


def picture_ingredients(*paths: Path | None) -> list[Ingredient]:
    """The pictures a clip starts or ends on, as inputs to the model."""
    from db.credentials import Ingredient

    return [Ingredient(path, "inputTo") for path in paths if path is not None]


def run_generate(args: argparse.Namespace) -> int:
    """Validate, render with a progress bar on stderr, encode. Returns the exit status."""
    catalog = load_catalog()
    picture = None if args.image is None else read_picture(args.image)
    last = None if args.end_image is None else read_picture(args.end_image)
    spec = JobSpec(
        prompt=args.prompt,
        negative_prompt=args.negative,
        seconds=args.seconds,
        aspect=args.aspect,
        model=args.model,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        fps=args.fps,
        start_image=args.image is not None,
        end_image=args.end_image is not None,
        loop=args.loop,
        audio=not args.no_audio,
        loras=tuple(parse_lora(text) for text in args.lora),
        mark=args.mark,
    )
    try:
        plan = resolve_spec(spec, catalog)
    except SpecError as exc:
        raise UsageError(str(exc)) from exc
    _check_output(args.output)
    check_loras(plan.spec.loras, plan.preset.title)
    if args.poster is not None and not args.poster.parent.exists():
        raise UsageError(f"the folder {args.poster.parent} does not exist")
    _check_device(args.device)
    keys = signing_keys()
    ingredients = picture_ingredients(args.image, args.end_image)

    # torch and diffusers load only once the input is known to be good: bad input answers at once
    from generator.encode import encode_mp4, write_poster
    from generator.render import Conditioning, ProgressFn, RenderOutput, render

    def make(cache: PipelineCache, on_progress: ProgressFn) -> tuple[RenderOutput, EncodedClip]:
        condition = Conditioning(image=picture, end_image=last, loop=args.loop)
        output = render(plan, on_progress, cache=cache, condition=condition)
        audio = output.audio if plan.spec.audio else None
        clip = within_reserve(
            args.max_bytes,
            [i.path for i in ingredients],
            keys,
            lambda budget: encode_mp4(
                output.frames, plan.fps, args.output, budget, audio=audio, sample_rate=output.sample_rate
            ),
            cheap_retry=True,
        )
        if args.poster is not None:
            write_poster(output.frames, args.poster)
        return output, clip

    made = rendering(plan, args.device, make)
    if isinstance(made, int):
        return made
    output, clip = made
    signed = sign_output("generate", clip, plan, ingredients, keys, args.max_bytes)
    if signed is None:
        return 1
    print(wrote(signed, plan.spec, f"{signed.duration:.1f} s", output.seconds))
    return 0


def read_clip(path: Path) -> ClipInfo:
    """What the clip at ``path`` holds, or a UsageError: no readable video, or too long to hold."""
    from generator.clipio import ClipError, probe
    from generator.extend import check_parent

    try:
        info = probe(path)
        check_parent(info, path.name)
    except ClipError as exc:
        raise UsageError(str(exc)) from exc
    return info


def rendered_part_spec(args: argparse.Namespace, *, continues: int, bridges_to: int | None = None) -> JobSpec:
    """The spec of the part an extend or a bridge renders, from its options, made from the clips with
    the stand-in ids ``continues`` (and ``bridges_to``)."""
    return JobSpec(
        prompt=args.prompt,
        negative_prompt=args.negative,
        seconds=args.seconds,
        model=args.model,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        continues=continues,
        bridges_to=bridges_to,
        audio=not args.no_audio,
    )


def planned(args: argparse.Namespace, plan: Callable[[], RenderPlan]) -> RenderPlan:
    """``plan()``, its SpecError as a UsageError; then the output and the device are checked."""
    try:
        made = plan()
    except SpecError as exc:
        raise UsageError(str(exc)) from exc
    _check_output(args.output)
    _check_device(args.device)
    return made


def run_extend(args: argparse.Namespace) -> int:
    """Validate the clip and the settings, render the continuation, stitch, encode. The exit status."""
    from generator.extend import CLI_PARENT_ID, plan_continuation

    catalog = load_catalog()
    parent = read_clip(args.clip)
    spec = rendered_part_spec(args, continues=CLI_PARENT_ID)
    plan = planned(args, lambda: plan_continuation(spec, parent, catalog))

    from db.credentials import Ingredient
    from generator.extend import extend_clip

    keys = signing_keys()
    # the parent's frames are in the new clip: a component, placed, its own manifest carried along
    ingredients = [Ingredient(args.clip, "componentOf")]
    result = rendering(
        plan,
        args.device,
        lambda cache, on_progress: within_reserve(
            args.max_bytes,
            [args.clip],
            keys,
            lambda budget: extend_clip(
                args.clip, plan, args.output, budget, cache=cache, on_progress=on_progress
            ),
        ),
    )
    if isinstance(result, int):
        return result
    clip = sign_output("extend", result.clip, plan, ingredients, keys, args.max_bytes)
    if clip is None:
        return 1
    length = f"{result.parent_seconds:.1f} s + {result.new_seconds:.1f} s = {clip.duration:.1f} s"
    print(wrote(clip, plan.spec, length, result.render_seconds))
    return 0


def run_bridge(args: argparse.Namespace) -> int:
    """Validate both clips and the settings, render the bridge from the first to the second, join the
    three, encode. The exit status."""
    from generator.bridge import check_clips, plan_bridge
    from generator.clipio import ClipError
    from generator.extend import CLI_PARENT_ID

    catalog = load_catalog()
    first, second = read_clip(args.first), read_clip(args.second)
    try:
        check_clips(first, args.first.name, second, args.second.name)
    except ClipError as exc:
        raise UsageError(str(exc)) from exc
    spec = rendered_part_spec(args, continues=CLI_PARENT_ID, bridges_to=CLI_PARENT_ID)
    plan = planned(args, lambda: plan_bridge(spec, first, catalog))

    from db.credentials import Ingredient
    from generator.bridge import bridge_clips

    keys = signing_keys()
    ingredients = [Ingredient(args.first, "componentOf"), Ingredient(args.second, "componentOf")]
    result = rendering(
        plan,
        args.device,
        lambda cache, on_progress: within_reserve(
            args.max_bytes,
            [args.first, args.second],
            keys,
            lambda budget: bridge_clips(
                args.first, args.second, plan, args.output, budget, cache=cache, on_progress=on_progress
            ),
        ),
    )
    if isinstance(result, int):
        return result
    clip = sign_output("bridge", result.clip, plan, ingredients, keys, args.max_bytes)
    if clip is None:
        return 1
    length = (
        f"{result.first_seconds:.1f} s + {result.bridge_seconds:.1f} s + {result.second_seconds:.1f} s"
        f" = {clip.duration:.1f} s"
    )
    print(wrote(clip, plan.spec, length, result.render_seconds))
    return 0


STARTS_FROM = {
    "text": "text",
    "image": "picture",
    "continue": "clip",
    "end": "end picture",
    "loop": "loop",
    "bridge": "bridge",
}


def weights_here(preset: Preset) -> str:
    """'yes', 'no', 'downloading' (a fetch is writing) or 'partly' (a fetch stopped halfway)."""
    from generator.availability import find_weights

    weights = find_weights(preset)
    if weights.found:
        return "yes"
    if not weights.where.startswith("partly"):
        return (
            f"no ({preset.download_gb:g} GB to fetch)"
            if preset.download_gb and weights.downloadable
            else "no"
        )
    from generator.weights import fetching_now

    return "downloading" if fetching_now(preset) else "partly"


def models_table(catalog: PresetCatalog, here: Callable[[Preset], str]) -> list[tuple[str, ...]]:
    """The rows of `videobot models`: a header, then one row per preset (the default marked with *)."""
    rows: list[tuple[str, ...]] = [
        ("NAME", "MODEL", "STARTS FROM", "SOUND", "LONGEST", "DEFAULT CLIP", "GPU MEMORY", "WEIGHTS HERE")
    ]
    for p in catalog:
        width, height = p.draft_size(p.default_aspect)
        size = f"{width}×{height}"
        if p.has_hd:  # a draft, and its HD version on ⬆️ (`videobot hd`)
            size += " → HD {}×{}".format(*p.sizes[p.default_aspect])
        plain, offloaded = p.gpu_memory_gb, p.gpu_memory_offload_gb
        memory = (
            f"{plain:g} / {offloaded:g} GiB" if plain and offloaded else f"{plain:g} GiB" if plain else "?"
        )
        rows.append(
            (
                p.name + (" *" if p.name == catalog.default else "") + (" (gated)" if p.gated else ""),
                p.title,
                ", ".join(STARTS_FROM[mode] for mode in p.modes),
                "yes" if p.audio else "–",
                f"{p.max_seconds:.1f} s",
                f"{size}, {p.default_seconds:g} s at {p.fps} fps",
                memory,
                here(p),
            )
        )
    return rows


def run_models(_args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rows = models_table(catalog, weights_here)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        "\n* the default. GPU memory: all on the GPU / with offloading. `videobot download NAME` fetches a "
        "preset's weights;\na presets file named by VIDEOBOT_PRESETS points presets at local folders. "
        "A gated preset needs its license\naccepted on huggingface.co and HF_TOKEN set. "
        "→ HD: drafts, finished in HD on ⬆️ or with `videobot hd`."
    )
    return 0


def model_names(values: list[str] | None) -> list[str] | None:
    """``--models a,b c`` -> ['a', 'b', 'c']; None when not given."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "models", nargs="+", metavar="NAME", help="presets whose weights to fetch (see `videobot models`)"
    )


def run_download(args: argparse.Namespace) -> int:
    """Fetch presets' weights into the Hugging Face cache, as a worker does on its first start."""
    from generator.availability import find_weights, hub_offline
    from generator.weights import FetchError, fetch_weights

    catalog = load_catalog()
    names = model_names(args.models) or []
    unknown = [name for name in names if name not in catalog]
    if unknown:
        raise UsageError(f"unknown model preset(s): {', '.join(unknown)}; see `videobot models`")
    if hub_offline():
        raise UsageError("HF_HUB_OFFLINE=1 forbids fetching weights; unset it where the hub can be reached")
    for name in dict.fromkeys(names):
        preset = catalog.get(name)
        assert preset is not None
        weights = find_weights(preset)
        if not weights.downloadable:
            print(f"{name}: {weights.where}; nothing to fetch", file=sys.stderr)
            continue
        try:
            plan = fetch_weights(preset)
        except FetchError as exc:
            print(f"videobot download: {exc}", file=sys.stderr)
            return 1
        if plan.missing_bytes == 0:
            print(f"{name}: weights already here ({plan.total_bytes / 1e9:.1f} GB)", file=sys.stderr)
    return 0


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models",
        nargs="*",
        metavar="NAME",
        help="presets this worker renders, fetching missing weights first (NAME,NAME or NAME NAME; "
        "default: every preset whose weights are on this machine, or on a first start the default one)",
    )
    parser.add_argument("--device", help="cuda, cuda:1 or cpu (default: the first GPU, else the CPU)")
    parser.add_argument(
        "--database", help="job store URL (default: $VIDEOBOT_DATABASE_URL, else ./videobot.db)"
    )
    parser.add_argument(
        "--max-bytes",
        type=parse_size,
        help="a ceiling on a clip's size (default: the asking server's upload limit, 10 MiB unboosted)",
    )
    from videobot.metrics import add_metrics_arguments

    add_metrics_arguments(parser)


def cpu_line(catalog: PresetCatalog, served: Sequence[str]) -> str:
    """What a worker without a GPU says at start: clips take minutes, and which presets it serves."""
    drafts = [name for name in served if (p := catalog.get(name)) is not None and p.cpu]
    slow = [name for name in served if name not in drafts]
    line = "this worker renders on the CPU: a clip takes minutes, not seconds"
    if drafts:
        line += f"; a 2-second draft of {', '.join(drafts)} takes 1 to 4 minutes"
    if slow:
        line += f"; {', '.join(slow)} will take far longer (made for GPUs)"
    return line


WORKER_ID_FILE_ENV = "VIDEOBOT_WORKER_ID_FILE"  # `videobot run` learns its worker children's ids here
STORE_OPEN_TIMEOUT_S = 20.0


def run_worker(args: argparse.Namespace) -> int:
    """Serve the job store until SIGTERM or Ctrl-C. The worker registers as "starting" before torch
    loads, so the bot tells members one is on its way, and as "ready" when it claims. A store that
    cannot be opened (a corrupt file, a newer schema, nothing answering) is one line and exit status 1."""
    import asyncio
    import contextlib
    import os
    import signal
    import socket

    from db.store import open_store
    from generator.availability import check_presets, heartbeat_while_starting, hub_offline, renders_on_cpu
    from generator.processes import pid_space

    try:
        catalog = PresetCatalog.load()
        cpu = renders_on_cpu(args.device)
        availability = check_presets(catalog, model_names(args.models), offline=hub_offline(), cpu=cpu)
    except (PresetError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    models = availability.names()
    note = availability.summary()

    def load_pipelines() -> PipelineCache:
        # torch, diffusers and the device: seconds to minutes, in a thread while the row stays fresh
        import generator.worker  # noqa: F401 (imported here, off the event loop)
        from generator.loader import PipelineCache

        return PipelineCache(device=args.device)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        host = socket.gethostname()
        device = args.device or os.environ.get("VIDEOBOT_DEVICE") or "auto"  # torch resolves "auto" later
        # the id generator.worker.default_worker_id gives, known before torch is imported
        worker_id = f"{host}-{os.getpid()}-{device.replace(':', '')}"
        id_file = os.environ.get(WORKER_ID_FILE_ENV)

        def tell_supervisor(wid: str) -> None:
            if id_file:
                with contextlib.suppress(OSError):
                    Path(id_file).write_text(wid, encoding="utf-8")

        tell_supervisor(worker_id)
        try:
            store = await asyncio.wait_for(open_store(args.database), STORE_OPEN_TIMEOUT_S)
        except TimeoutError as exc:
            raise StoreUnavailable(f"no answer from the job store within {STORE_OPEN_TIMEOUT_S:g} s") from exc
        except Exception as exc:
            raise StoreUnavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        heartbeat: asyncio.Task[None] | None = None
        from generator.metrics import WorkerMetrics
        from videobot.metrics import MetricsServer, store_check

        metrics = WorkerMetrics() if getattr(args, "metrics_port", None) is not None else None
        metrics_server = (
            None if metrics is None else MetricsServer(metrics.registry, store_check(store.metrics))
        )

        async def fetch_first(names: tuple[str, ...], wid: str) -> bool:
            from generator.weights import FetchError, ensure_weights

            async def set_note(text: str) -> None:
                with contextlib.suppress(Exception):  # the registry note is a courtesy; the row stays
                    await store.workers.set_worker_state(wid, "starting", f"{text}; {note}")

            presets = [p for p in (catalog.get(name) for name in names) if p is not None]
            try:
                return await ensure_weights(presets, stop=stop, set_note=set_note)
            except FetchError as exc:  # gated, missing: waiting does not help, and restarting neither
                raise UsageError(str(exc)) from exc

        async def register(wid: str, on: str) -> None:
            await store.workers.register_worker(
                wid, host, on, models, state="starting", note=note, pid=os.getpid(), pid_space=pid_space()
            )

        try:
            if metrics_server is not None:  # /healthz answers while the pipelines load
                try:
                    await metrics_server.start(args.metrics_host, args.metrics_port)
                except OSError as exc:
                    raise UsageError(f"--metrics-port {args.metrics_port}: {exc.strerror or exc}") from exc
            await register(worker_id, device)
            if cpu:  # once the store is open: a worker that cannot start says only why
                print(cpu_line(catalog, models), file=sys.stderr)
            if device != "auto":
                print(f"worker {worker_id} on {device} {note}", file=sys.stderr)
            heartbeat = asyncio.create_task(heartbeat_while_starting(store, worker_id))
            # a first start, or presets named with --models: their weights first
            if availability.fetch and not await fetch_first(availability.fetch, worker_id):
                return  # stopped while fetching or waiting for weights
            cache = await asyncio.to_thread(load_pipelines)

            from generator.worker import Worker, WorkerConfig, default_worker_id

            resolved_id = default_worker_id(str(cache.device))
            if resolved_id != worker_id:  # "auto" became cuda or cpu: the row takes the real name
                await register(resolved_id, str(cache.device))
                await store.workers.unregister_worker(worker_id)
                worker_id = resolved_id
                tell_supervisor(worker_id)
                print(f"worker {worker_id} on {cache.device} {note}", file=sys.stderr)
            heartbeat.cancel()
            if stop.is_set():  # stopped while loading
                return
            config = WorkerConfig(worker_id=worker_id, models=models, max_bytes=args.max_bytes, note=note)
            worker = Worker(store, catalog, cache, config)
            worker.metrics = metrics
            await worker.run(stop)
        finally:
            if metrics_server is not None:
                await metrics_server.stop()
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            with contextlib.suppress(Exception):
                await store.workers.unregister_worker(worker_id)
            await store.close()

    try:
        asyncio.run(serve())
    except StoreUnavailable as exc:
        print(f"videobot worker: error: cannot open the job store: {exc}", file=sys.stderr)
        return 1
    return 0


class StoreUnavailable(Exception):
    """The job store cannot be opened: the worker says so in one line and exits with status 1."""
