"""A picture whose data ends early (cut, or ended early and then closed off as if whole) is refused with
the same short private reason as any unreadable picture, before anything is stored or queued; a
whole picture of every kind a phone or an editor writes is still taken."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from bot.app import VideoBot
from bot.pictures import PictureRefused, check_picture
from db.store import Store
from tests.discord_fake import DiscordFake

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
EOI = b"\xff\xd9"


def scene(width: int = 240, height: int = 160) -> Image.Image:
    """A picture with detail in every row, so rows that are missing would show."""
    fractal = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 64)
    noise = Image.effect_noise((width, height), 48)
    return Image.merge("RGB", (fractal, noise, fractal.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_from_rows(width: int, height: int, raw: bytes, *, interlaced: bool = False) -> bytes:
    """An 8-bit RGB PNG around ``raw`` (filter byte + pixels per row), every chunk and CRC whole."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1 if interlaced else 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def rows_of(image: Image.Image) -> list[bytes]:
    data, width = image.tobytes(), image.width * 3
    return [b"\0" + data[y * width : (y + 1) * width] for y in range(image.height)]


def interlaced_rows(image: Image.Image) -> list[bytes]:
    """Adam7's seven passes, row by row, as an interlaced PNG holds them."""
    pixels, rows = image.load(), []
    assert pixels is not None
    for x0, y0, dx, dy in ADAM7:
        for y in range(y0, image.height, dy):
            row = b"".join(bytes(pixels[x, y]) for x in range(x0, image.width, dx))  # type: ignore[arg-type]
            rows.append(b"\0" + row)
    return rows


def png_missing_rows() -> bytes:
    """The rows' data stops half-way, yet the zlib stream, every chunk and the file end properly."""
    image = scene()
    return png_from_rows(image.width, image.height, b"".join(rows_of(image)[: image.height // 2]))


def interlaced_png_missing_a_pass() -> bytes:
    image = scene()
    rows = interlaced_rows(image)
    return png_from_rows(image.width, image.height, b"".join(rows[: -image.height // 2]), interlaced=True)


def png_cut() -> bytes:
    whole = saved(scene(), "PNG")
    return whole[: len(whole) // 2]


def jpeg_cut() -> bytes:
    whole = saved(scene(), "JPEG")
    return whole[: len(whole) // 2]


def jpeg_cut_then_closed() -> bytes:
    """Cut half-way and given its end marker back, as a repair tool (or Pillow's own
    LOAD_TRUNCATED_IMAGES) closes a cut JPEG: the decoder greys out what is missing and only warns."""
    whole = saved(scene(), "JPEG")
    return whole[: len(whole) // 2] + EOI


def progressive_jpeg_cut_then_closed() -> bytes:
    whole = saved(scene(), "JPEG", progressive=True)
    return whole[: len(whole) * 2 // 3] + EOI


TRUNCATED: dict[str, Callable[[], bytes]] = {
    "png-rows-missing": png_missing_rows,
    "interlaced-png-pass-missing": interlaced_png_missing_a_pass,
    "png-cut": png_cut,
    "jpeg-cut": jpeg_cut,
    "jpeg-cut-then-closed": jpeg_cut_then_closed,
    "progressive-jpeg-cut-then-closed": progressive_jpeg_cut_then_closed,
}


def stored_files(db_path: Path) -> list[Path]:
    media = db_path.parent / "media"
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


@pytest.mark.parametrize("name", list(TRUNCATED))
async def test_a_truncated_picture_is_refused_privately_before_anything_is_stored_or_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path, name: str
) -> None:
    data = TRUNCATED[name]()
    suffix = "png" if name.startswith(("png", "interlaced")) else "jpg"
    handle = await discord_fake.slash_command(
        "video", {"prompt": "make it move", "model": "tiny-ltx", "image": (f"{name}.{suffix}", data)}
    )
    reply = await handle.wait_reply()
    assert handle.ephemeral and "not a picture I can read" in reply["content"], reply["content"]
    assert await store.jobs.active_jobs() == []
    assert stored_files(db_path) == []
    assert discord_fake.messages_in("general") == []


def whole_pictures() -> dict[str, tuple[bytes, str]]:
    """Whole pictures of the kinds members upload, each with the extension it is stored under."""
    image = scene()
    exif_thumbnail = image.getexif()
    exif_thumbnail[0x010E] = "a picture with its own little JPEG inside the header"
    with_thumbnail = saved(image, "JPEG", exif=exif_thumbnail)
    interlaced = png_from_rows(image.width, image.height, b"".join(interlaced_rows(image)), interlaced=True)
    return {
        "png": (saved(image, "PNG"), "png"),
        "png-interlaced": (interlaced, "png"),
        "png-palette-4-bit": (saved(image.quantize(16), "PNG", bits=4), "png"),
        "png-1-bit": (saved(image.convert("1"), "PNG"), "png"),
        "png-16-bit-grey": (saved(image.convert("I").point(lambda v: v * 256).convert("I;16"), "PNG"), "png"),
        "png-rgba": (saved(image.convert("RGBA"), "PNG"), "png"),
        "jpeg": (saved(image, "JPEG"), "jpg"),
        "jpeg-progressive": (saved(image, "JPEG", progressive=True, optimize=True), "jpg"),
        "jpeg-4-4-4-restart-markers": (saved(image, "JPEG", subsampling=0, restart_marker_blocks=3), "jpg"),
        "jpeg-grey": (saved(image.convert("L"), "JPEG"), "jpg"),
        "jpeg-cmyk": (saved(image.convert("CMYK"), "JPEG"), "jpg"),
        "jpeg-exif": (with_thumbnail, "jpg"),
        "jpeg-bytes-after-its-end": (saved(image, "JPEG") + b"\0\0 a trailer some cameras add", "jpg"),
        "webp": (saved(image, "WEBP"), "webp"),
    }


@pytest.mark.parametrize("name", list(whole_pictures()))
def test_every_kind_of_whole_picture_is_still_taken(name: str) -> None:
    data, extension = whole_pictures()[name]
    assert check_picture(data) == extension


async def test_a_whole_picture_is_queued_and_stored_as_it_came(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path
) -> None:
    data = saved(scene(), "JPEG", progressive=True)
    handle = await discord_fake.slash_command(
        "video", {"prompt": "make it move", "model": "tiny-ltx", "image": ("whole.jpg", data)}
    )
    reply = await handle.wait_reply()
    assert "Queued as #" in reply["content"], reply["content"]
    [job] = await store.jobs.active_jobs()
    assert job.spec.image_ref is not None and await store.jobs.get_input(job.spec.image_ref) == data


def test_a_picture_that_ends_early_is_the_same_refusal_as_any_unreadable_one() -> None:
    for make in TRUNCATED.values():
        with pytest.raises(PictureRefused) as refused:
            check_picture(make())
        assert (refused.value.code, refused.value.params) == ("not_a_picture", {})


@pytest.mark.parametrize("name", list(TRUNCATED))
def test_a_truncated_picture_is_refused_even_if_a_library_lets_pillow_load_truncated_files(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # a process-wide switch any import may flip
    with pytest.raises(PictureRefused):
        check_picture(TRUNCATED[name]())
