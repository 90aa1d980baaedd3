"""The visible AI mark (issue 21, the EU AI Act's Article 50): a small "AI" ("KI" in German) in the
bottom-right corner of every frame a server that asks for it gets (``JobSpec.mark``).

The mark is drawn once per text and frame height with Pillow as an RGBA overlay (white letters on a
translucent dark rounded box, so it reads on light and dark video), then alpha-blended onto every frame
with numpy. Its sizes follow the frame's height (the letters about 1/18 of it, never under
:data:`MIN_TEXT_PX`), so a clip's mark sits at the same place, at the same scale, at any resolution.
Pixels outside the box are left exactly as they were.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TEXT_HEIGHT_SHARE = 1 / 18  # the letters' size, of the frame's height
MIN_TEXT_PX = 10  # smaller letters are hard to read
TEXT_ALPHA = 230  # white letters, nearly opaque
BOX_ALPHA = 140  # the dark box behind them: a little under half the picture shows through
SUPERSAMPLE = 4  # the box is drawn this many times larger and reduced: smooth rounded corners
# the words of the mark in each language that has its own (by a locale's first part); others: "AI"
MARK_TEXTS = {"de": "KI"}
DEFAULT_TEXT = "AI"


def mark_text(locale: str | None) -> str:
    """The mark's words in ``locale``'s language ("de", "de-DE", "de_AT" …): "KI" in German, else "AI"."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return MARK_TEXTS.get(language, DEFAULT_TEXT)


def text_size(frame_height: int) -> int:
    """The letters' size in pixels for frames ``frame_height`` high."""
    return max(MIN_TEXT_PX, round(frame_height * TEXT_HEIGHT_SHARE))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:  # Pillow >= 10.1 embeds a scalable font (Aileron): nothing to find on the host
        return ImageFont.load_default(size=size)
    except TypeError:  # an older Pillow: its fixed bitmap font, about 11 px
        return ImageFont.load_default()


@functools.lru_cache(maxsize=16)
def mark_overlay(text: str, frame_height: int) -> tuple[np.ndarray, int]:
    """The mark for frames ``frame_height`` high as uint8 RGBA (h, w, 4), straight alpha (0 where the
    frame shows as it is), and the margin in pixels it keeps from the frame's right and bottom edges."""
    size = text_size(frame_height)
    font = _font(size)
    stroke = size // 24  # a slightly bolder stroke reads better small and on busy video
    left, top, right, bottom = (round(v) for v in font.getbbox(text, stroke_width=stroke))
    pad_x, pad_y = round(size * 0.4), round(size * 0.25)
    width, height = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    margin = max(2, round(size * 0.6))

    # the box: drawn large and reduced, so its rounded corners are smooth
    big = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    radius = round(min(width, height) * 0.3) * SUPERSAMPLE
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * SUPERSAMPLE - 1, height * SUPERSAMPLE - 1), radius=radius, fill=255
    )
    box = np.asarray(big.reduce(SUPERSAMPLE), dtype=np.float32) / 255 * (BOX_ALPHA / 255)
    # the letters, centred on their ink (FreeType smooths their edges)
    letters = Image.new("L", (width, height), 0)
    ImageDraw.Draw(letters).text(
        (pad_x - left, pad_y - top), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    ink = np.asarray(letters, dtype=np.float32) / 255 * (TEXT_ALPHA / 255)

    # white letters over the black box ("over"): the colour is white's share of what covers the pixel
    alpha = ink + box * (1 - ink)
    grey = np.divide(ink, alpha, out=np.zeros_like(alpha), where=alpha > 0) * 255
    overlay = np.empty((height, width, 4), dtype=np.uint8)
    overlay[..., :3] = np.round(grey)[..., None]
    overlay[..., 3] = np.round(alpha * 255)
    overlay.setflags(write=False)  # shared by every call (cached)
    return overlay, margin


def mark_box(text: str, height: int, width: int) -> tuple[int, int, int, int]:
    """Where the mark goes on frames ``height`` x ``width``: (top, bottom, left, right) in pixels, ends
    exclusive; a frame smaller than the mark shows its bottom-right part."""
    overlay, margin = mark_overlay(text, height)
    bottom, right = max(0, height - margin), max(0, width - margin)
    return max(0, bottom - overlay.shape[0]), bottom, max(0, right - overlay.shape[1]), right


def mark_frames(frames: np.ndarray, text: str, *, in_place: bool = False) -> np.ndarray:
    """``frames`` (uint8, (n, height, width, 3)) with ``text`` as the mark in their bottom-right corner,
    as a new array; every pixel outside the mark's box is the same as in ``frames``. ``in_place``: drawn
    on ``frames`` themselves when they are writable (a render's own array: no copy of the whole clip)."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"frames must be uint8 (n, height, width, 3), not {frames.dtype} {frames.shape}")
    marked = frames if in_place and frames.flags.writeable else frames.copy()
    _, height, width, _ = frames.shape
    if not text or height == 0 or width == 0:
        return marked
    overlay, _ = mark_overlay(text, height)
    top, bottom, left, right = mark_box(text, height, width)
    overlay = overlay[overlay.shape[0] - (bottom - top) :, overlay.shape[1] - (right - left) :]
    alpha = overlay[..., 3:].astype(np.uint16)
    colour = overlay[..., :3].astype(np.uint16) * alpha
    corner = marked[:, top:bottom, left:right].astype(np.uint16)
    # integer "over": a pixel with alpha 0 keeps its value exactly ((v * 255 + 127) // 255 == v)
    marked[:, top:bottom, left:right] = (corner * (255 - alpha) + colour + 127) // 255
    return marked
