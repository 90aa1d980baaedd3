"""Rebuild the fonts in this folder (a maintainer's tool; the bot only reads the results).

    apt-get install fonts-noto-cjk fonts-noto-core   # Noto Sans CJK 2.004, Noto Sans 2020; OFL-1.1
    npm pack @expo-google-fonts/noto-emoji@0.4.7     # Noto Emoji 3.006 (monochrome), OFL-1.1
    tar xzf expo-google-fonts-noto-emoji-0.4.7.tgz
    python bot/fonts/make_fonts.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \\
        /usr/share/fonts/truetype/noto package/400Regular/NotoEmoji_400Regular.ttf

Three fonts come out, each with a family name of its own (so a Noto installed on the host can never
stand in for them with other coverage), none hinted:
- Videobot CJK: Noto Sans CJK JP cut down to the characters of the national standards that names are
  written with (GB 2312, JIS X 0208, Big5 level 1, KS X 1001 without Hanja: ~10,300 ideographs, kana,
  2,350 Hangul syllables), no layout features: 2.7 MB instead of 19 MB.
- Videobot Scripts: Noto Sans Devanagari, Bengali, Tamil and Thai merged into one file, with their
  shaping rules (matplotlib shapes text with libraqm since 3.11).
- Videobot Emoji: Noto Emoji, the monochrome one (matplotlib cannot draw colour glyphs).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib import TTCollection, TTFont

HERE = Path(__file__).parent
CJK_FILE = "VideobotCJK-Regular.otf"
CJK_FAMILY = "Videobot CJK"
SCRIPTS_FILE = "VideobotScripts-Regular.ttf"
SCRIPTS_FAMILY = "Videobot Scripts"
SCRIPTS = ["Devanagari", "Bengali", "Tamil", "Thai"]  # big scripts that DejaVu Sans lacks; small files
EMOJI_FILE = "VideobotEmoji-Regular.ttf"
EMOJI_FAMILY = "Videobot Emoji"
JAPANESE_FACE = 0  # the .ttc's faces: JP, KR, SC, TC, HK; one shape per ideograph is enough for a name

# (codec, lead bytes, trail bytes) of the double-byte standards whose characters the subset keeps
STANDARDS: list[tuple[str, range, list[int]]] = [
    ("gb2312", range(0xA1, 0xF8), list(range(0xA1, 0xFF))),
    ("euc_jp", range(0xA1, 0xF5), list(range(0xA1, 0xFF))),  # JIS X 0208
    ("big5", range(0xA1, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]),  # level 1 only
    ("euc_kr", range(0xA1, 0xC9), list(range(0xA1, 0xFF))),  # KS X 1001: symbols, Hangul; no Hanja
]
# CJK punctuation, kana, Hangul compatibility jamo, full- and halfwidth forms
BLOCKS = [range(0x3000, 0x3100), range(0x3130, 0x3190), range(0xFF00, 0xFFF0)]


def double_byte(codec: str, leads: Iterable[int], trails: Iterable[int]) -> set[int]:
    """Every code point that a two-byte sequence of ``codec`` decodes to."""
    found: set[int] = set()
    for lead in leads:
        for trail in trails:
            try:
                found.update(ord(c) for c in bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return found


def cjk_code_points() -> set[int]:
    points = set().union(*(double_byte(codec, leads, trails) for codec, leads, trails in STANDARDS))
    return points.union(*(set(block) for block in BLOCKS))


def rename(font: TTFont, family: str) -> None:
    """Give ``font`` a family name of its own (a modified font must not pose as the original)."""
    postscript = family.replace(" ", "") + "-Regular"
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (4,):
            record.string = f"{family} Regular"
        elif record.nameID in (3, 6):
            record.string = postscript
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        cff[postscript].FamilyName = family
        cff[postscript].FullName = f"{family} Regular"


def save(font: TTFont, out: Path) -> None:
    font.recalcTimestamp = False  # the same sources give the same bytes
    font.save(str(out))


def unhinted(font: TTFont, code_points: Iterable[int], layout_features: list[str]) -> None:
    """Cut ``font`` down to ``code_points`` and their glyphs, without hinting, in place."""
    options = subset.Options()
    options.hinting = False
    options.layout_features = layout_features
    options.name_IDs = ["*"]
    options.notdef_outline = True
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=code_points)
    cutter.subset(font)


def make_cjk(collection: Path, out: Path) -> None:
    font = TTCollection(str(collection)).fonts[JAPANESE_FACE]
    unhinted(font, cjk_code_points(), layout_features=[])
    rename(font, CJK_FAMILY)
    save(font, out)


def make_scripts(noto_dir: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        parts = []
        dates = []
        for script in SCRIPTS:
            font = TTFont(str(noto_dir / f"NotoSans{script}-Regular.ttf"))
            dates.append(font["head"].modified)
            unhinted(font, font.getBestCmap(), layout_features=["*"])
            parts.append(str(Path(scratch) / f"{script}.ttf"))
            save(font, Path(parts[-1]))
        merged = Merger().merge(parts)
    merged["head"].created = merged["head"].modified = max(dates)  # the merger would say "now"
    rename(merged, SCRIPTS_FAMILY)
    save(merged, out)


def make_emoji(source: Path, out: Path) -> None:
    font = TTFont(str(source))
    rename(font, EMOJI_FAMILY)
    save(font, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("cjk_collection", type=Path, help="NotoSansCJK-Regular.ttc")
    parser.add_argument("noto_dir", type=Path, help="the folder with NotoSansThai-Regular.ttf and others")
    parser.add_argument("emoji_font", type=Path, help="NotoEmoji_400Regular.ttf")
    args = parser.parse_args()
    make_cjk(args.cjk_collection, HERE / CJK_FILE)
    make_scripts(args.noto_dir, HERE / SCRIPTS_FILE)
    make_emoji(args.emoji_font, HERE / EMOJI_FILE)
    for name in (CJK_FILE, SCRIPTS_FILE, EMOJI_FILE):
        print(f"{name}: {(HERE / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
