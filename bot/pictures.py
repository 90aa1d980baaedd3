"""A member's picture for "animate a picture": checked before anything is queued. Pure functions over
the bytes (Pillow reads only the header before the size check, so a decompression bomb is refused
before it is decoded).

A picture whose data ends early is refused, not shown with its missing part filled in. Pillow refuses
a file that is cut while ``ImageFile.LOAD_TRUNCATED_IMAGES`` is False (its default; nothing here sets
it), but two kinds of early end decode without an error: a PNG whose compressed rows stop early while
the zlib stream and the chunks end properly (Pillow leaves the missing rows black), and a JPEG cut and
closed again with its end marker (libjpeg greys out the rest and only warns; Pillow ignores warnings).
So a PNG's rows are counted, and a JPEG is decoded a second time with filler bytes before its end
marker: a whole scan has ended by then and skips them, a cut one reads them as picture data, so the
two pictures differ. Neither check leans on LOAD_TRUNCATED_IMAGES, which any library may set."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 64
MAX_SIDE = 4096
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}  # what Pillow calls them -> stored extension

PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
JPEG_FILLER = bytes(range(1, 255))  # no 0xFF: never a marker, and bits that decode to something


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
            image.load()  # the whole file decodes: a cut or corrupt picture is refused here
            if not ends_where_it_should(data, extension, image):
                raise PictureRefused("not_a_picture")
    except PictureRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PictureRefused("not_a_picture") from exc
    return extension


def ends_where_it_should(data: bytes, extension: str, image: Image.Image) -> bool:
    """Whether a picture that decoded holds all of its data, not an early end filled in (a cut WebP
    never decodes)."""
    if extension == "png":
        return png_rows_whole(data)
    if extension == "jpg":
        return jpeg_scans_whole(data, image.tobytes())
    return True


def png_rows_whole(data: bytes) -> bool:
    """Whether a PNG's image data holds every row its header promises (every pass when interlaced).
    The data is inflated a piece at a time and thrown away: no more memory than the decode took."""
    header, compressed = None, []
    at = 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"IHDR":
            header = data[at + 8 : at + 8 + length]
        elif kind == b"IDAT":
            compressed.append(data[at + 8 : at + 8 + length])
        elif kind == b"IEND":
            break
        at += 12 + length
    if header is None or len(header) < 13:
        return False
    width, height, depth, colour, _, _, interlaced = struct.unpack(">IIBBBBB", header[:13])
    bits = depth * PNG_CHANNELS.get(colour, 0)
    expected = 0
    for x0, y0, dx, dy in ADAM7 if interlaced else ((0, 0, 1, 1),):
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            expected += rows * (1 + (columns * bits + 7) // 8)  # a filter byte, then the row's samples
    inflate, inflated = zlib.decompressobj(), 0
    for piece in compressed:
        while piece and inflated < expected:
            inflated += len(inflate.decompress(piece, 1 << 20))
            piece = inflate.unconsumed_tail
    return inflated >= expected


def jpeg_scans_whole(data: bytes, decoded: bytes) -> bool:
    """Whether a JPEG's last scan ended before its end marker (``decoded``: the picture Pillow made)."""
    end = jpeg_end_marker(data)
    if end is None:
        return False
    with Image.open(io.BytesIO(data[:end] + JPEG_FILLER + data[end:])) as again:
        again.load()
        return again.tobytes() == decoded


def jpeg_end_marker(data: bytes) -> int | None:
    """Where the first picture's end marker (EOI) is: past every header segment by its length (an
    EXIF thumbnail holds an EOI of its own) and every scan to the first marker that is not a restart."""
    at = 2  # after SOI
    while at + 1 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return at
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if marker != 0xDA:  # a header segment; SOS is followed by the scan's entropy-coded data
            continue
        while True:
            at = data.find(b"\xff", at)
            if at < 0 or at + 1 >= len(data):
                return None
            following = data[at + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:  # a stuffed 0xFF, a restart marker
                at += 2
            elif following == 0xFF:
                at += 1
            else:
                break
    return None
