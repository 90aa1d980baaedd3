"""A member's picture for "animate a picture": checked before anything is queued. Pure functions over
the bytes (Pillow reads only the header before the size check, so a decompression bomb is refused
before it is decoded)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 64
MAX_SIDE = 4096
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}  # what Pillow calls them -> stored extension


class PictureRefused(Exception):
    """Why a picture cannot be used: ``code`` and ``params`` for the member's language."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def check_size(size: int) -> None:
    """Refuse a file that is too big before downloading it."""
    if size > MAX_BYTES:
        raise PictureRefused("too_big", size_mib=f"{size / 1024**2:.1f}", limit_mib=MAX_BYTES // 1024**2)


def check_picture(data: bytes) -> str:
    """The stored extension (png, jpg, webp) of a usable picture; raises :class:`PictureRefused`."""
    check_size(len(data))
    try:
        with Image.open(io.BytesIO(data)) as image:
            extension = FORMATS.get(image.format or "")
            if extension is None:
                raise PictureRefused("not_a_picture")
            width, height = image.size
            if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
                raise PictureRefused("bad_size", width=width, height=height, low=MIN_SIDE, high=MAX_SIDE)
            image.load()  # the whole file decodes: a truncated or corrupt picture is refused here
    except PictureRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PictureRefused("not_a_picture") from exc
    return extension
