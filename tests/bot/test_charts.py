"""The /stats chart is a real PNG of the promised size, drawn from the data it is given, in the
member's language; names in any script are drawn with glyphs (never boxes) inside the picture, the
legends cover no data, waits read in minutes once they are minutes long, and a sentence explains the
fair share; and the share arithmetic behind its bars."""

from __future__ import annotations

import fnmatch
import io
import tomllib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image, ImageChops

from bot.charts import (
    FONT_DIR,
    FONT_FAMILIES,
    HEIGHT_PX,
    LABEL_WIDTH_PX,
    SHIPPED_FONTS,
    WIDTH_PX,
    ShareBar,
    WaitDay,
    drawable_name,
    plain,
    shorten,
    stats_figure,
    stats_png,
    wait_scale,
    wrap,
)
from bot.cogs.me import fair_share
from bot.cogs.stats import ShareRow, chart_bars, share_rows
from db.store.halloffame import MemberGpu

SHARES = [ShareBar("Alice", 120.0, 80.0), ShareBar("Bob", 40.0, 80.0)]
WAITS = [WaitDay(f"11-{d:02d}", 10.0 + d, 30.0 + 2 * d) for d in range(24, 30)] + [
    WaitDay("11-30", None, None)
]
LONG_WAITS = [WaitDay(f"11-{d:02d}", 60.0 * (d - 20), 180.0 * (d - 20)) for d in range(24, 30)] + [
    WaitDay("11-30", None, None)
]
FORTY = "Maximilian Alexander von Hohenzollern II"  # 40 characters, longer than a Discord name
HOSTILE = [
    ShareBar("山田太郎", 1000.0, 260.0),
    ShareBar("猫好き🐱", 920.0, 270.0),
    ShareBar("Lena 😀✨", 840.0, 280.0),
    ShareBar(FORTY, 760.0, 290.0),
    ShareBar("W" * 40, 680.0, 300.0),
    ShareBar(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろ", 600.0, 310.0
    ),
    ShareBar("👨‍👩‍👧 김철수", 520.0, 320.0),
    ShareBar("नमस्ते ไทย", 440.0, 330.0),
    ShareBar("ሰላም Bob", 360.0, 340.0),  # Ethiopic: no font here has it
    ShareBar("z̷̛̜̙̗a̸͎̟͕l̴g̷o̶", 280.0, 350.0),
    ShareBar("$\\frac{1}{0}$", 200.0, 360.0),
    ShareBar("everyone else (14)", 150.0, 2500.0),  # the last fair share, far right: where a legend was
]


def picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()  # the whole file decodes, not just its header
    return image.convert("RGB")


@contextmanager
def no_boxes() -> Iterator[None]:
    """matplotlib warns whenever a character is drawn from its "last resort" font: as a box."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []


def drawn(shares: list[ShareBar], waits: list[WaitDay], locale: str) -> Figure:
    """The chart's figure after a real render to PNG (so its texts have their final places)."""
    fig = stats_figure(shares, waits, locale)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    assert picture(out.getvalue()).size == (WIDTH_PX, HEIGHT_PX)
    return fig


def drawn_texts(fig: Figure) -> list[Text]:
    """Every text the picture shows (not the labels of ticks outside an axis' view)."""
    unshown: set[Text] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if not low - 1e-6 <= tick.get_loc() <= high + 1e-6:
                    unshown.update((tick.label1, tick.label2))
    return [
        text
        for text in fig.findobj(Text)
        if isinstance(text, Text) and text.get_visible() and text.get_text().strip() and text not in unshown
    ]


def extent(artist: Text, fig: Figure) -> Bbox:
    return artist.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]


def overlap(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


def chain_cmap() -> set[int]:
    """The code points of the fonts the chart draws with, read from the files by fontTools."""
    points: set[int] = set()
    for family in FONT_FAMILIES:
        path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        points.update(TTFont(path, fontNumber=0).getBestCmap())
    return points


def test_the_chart_is_a_png_of_the_fixed_size() -> None:
    png = stats_png(SHARES, WAITS, "en-US")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = picture(png)
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50  # drawn on, not a blank canvas


def test_the_chart_changes_with_the_data_and_not_without() -> None:
    first = picture(stats_png(SHARES, WAITS, "en-US"))
    again = picture(stats_png(SHARES, WAITS, "en-US"))
    assert again.size == first.size and ImageChops.difference(first, again).getbbox() is None

    more_gpu = [ShareBar("Alice", 300.0, 80.0), ShareBar("Bob", 40.0, 80.0)]
    longer_waits = [*WAITS[:-1], WaitDay("11-30", 200.0, 400.0)]
    for shares, waits in ((more_gpu, WAITS), (SHARES, longer_waits)):
        other = picture(stats_png(shares, waits, "en-US"))
        assert other.size == first.size
        assert ImageChops.difference(first, other).getbbox() is not None


def test_the_chart_speaks_the_members_language() -> None:
    english = picture(stats_png(SHARES, WAITS, "en-US"))
    german = picture(stats_png(SHARES, WAITS, "de"))
    assert german.size == english.size
    assert ImageChops.difference(english, german).getbbox() is not None  # other titles and labels


def test_the_fonts_ship_inside_the_package() -> None:
    package_data = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]["package-data"]
    for name in (*SHIPPED_FONTS, "OFL.txt"):
        assert (FONT_DIR / name).is_file()
        assert any(fnmatch.fnmatch(f"fonts/{name}", pattern) for pattern in package_data["bot"])
    assert sum((FONT_DIR / name).stat().st_size for name in SHIPPED_FONTS) < 4_500_000
    # and matplotlib draws with these files, not with a font of the same name on the host
    shipped = {(FONT_DIR / name).resolve() for name in SHIPPED_FONTS}
    found = {Path(font_manager.findfont(FontProperties(family=f))).resolve() for f in FONT_FAMILIES}
    assert shipped <= found


def test_names_in_any_script_are_drawn_with_glyphs_inside_the_picture() -> None:
    assert len(FORTY) == 40
    cmap = chain_cmap()
    for locale in ("en-US", "de"):
        with no_boxes():
            fig = drawn(HOSTILE, LONG_WAITS, locale)
        names = [label.get_text() for label in fig.axes[0].get_yticklabels()]
        assert names[:3] == ["山田太郎", "猫好き🐱", "Lena 😀✨"]
        assert names[3] == FORTY  # 40 characters of a Latin name fit whole
        assert names[4].endswith("…") and names[5].endswith("…")  # wider ones are cut, with "…"
        assert names[6] == "👨\u200d👩\u200d👧 김철수" and names[7] == "नमस्ते ไทย"
        assert names[8] == "? Bob"  # a script no shipped font has: a readable stand-in, no box
        assert names[10] == r"\$\frac{1}{0}\$"  # shown as typed, not as mathematics
        picture_box = Bbox.from_extents(0, 0, WIDTH_PX, HEIGHT_PX)
        for text in drawn_texts(fig):
            missing = {c for c in text.get_text() if ord(c) not in cmap and c != "\n"}
            assert not missing, f"no glyph for {missing} in {text.get_text()!r}"
            box = extent(text, fig)
            assert picture_box.containsx(box.x0) and picture_box.containsx(box.x1), text.get_text()
            assert picture_box.containsy(box.y0) and picture_box.containsy(box.y1), text.get_text()
        for label in fig.axes[0].get_yticklabels():
            assert extent(label, fig).width <= LABEL_WIDTH_PX + 1
        whole = fig.get_tightbbox(fig.canvas.get_renderer())  # type: ignore[attr-defined]
        assert whole.x0 >= 0 and whole.y0 >= 0
        assert whole.x1 <= WIDTH_PX / fig.dpi and whole.y1 <= HEIGHT_PX / fig.dpi


def test_the_legends_sit_below_the_panels_and_cover_no_data_or_text() -> None:
    for locale in ("en-US", "de"):
        fig = drawn(HOSTILE, LONG_WAITS, locale)
        texts = drawn_texts(fig)
        for ax in fig.axes:
            assert extent(ax.title, fig).width <= ax.get_window_extent().width  # over its panel only
            legend = ax.get_legend()
            assert legend is not None
            box = extent(legend, fig)  # type: ignore[arg-type]
            assert box.y1 < ax.get_window_extent().y0  # under the plot area, not on it
            data = [extent(bar, fig) for bar in ax.patches]  # type: ignore[arg-type]
            for markers in ax.collections:
                assert isinstance(markers, PathCollection)
                size = (max(markers.get_sizes()) ** 0.5) * fig.dpi / 72
                for x, y in ax.transData.transform(markers.get_offsets()):
                    data.append(Bbox.from_bounds(x - size / 2, y - size / 2, size, size))
            assert len(data) >= len(HOSTILE)
            assert not any(overlap(box, d) for d in data)
            legend_texts = set(legend.get_texts())
            assert not [t.get_text() for t in texts if t not in legend_texts and overlap(box, extent(t, fig))]
        # and no two texts of the picture overlap each other
        boxes = [(t.get_text(), extent(t, fig)) for t in texts]
        clashes = [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if overlap(ba, bb)]
        assert clashes == []


def test_waits_read_in_minutes_once_they_are_minutes_long() -> None:
    assert wait_scale(WAITS).per_s == 1.0  # the longest wait is 88 s
    assert wait_scale(LONG_WAITS).per_s == 60.0
    assert wait_scale([WaitDay("11-30", None, None)]).per_s == 1.0
    assert wait_scale([WaitDay("11-30", 30.0, 119.0)]).per_s == 1.0
    assert wait_scale([WaitDay("11-30", 30.0, 120.0)]).per_s == 60.0
    expected = {
        ("en-US", 1.0): ("seconds waited", ["median", "95 % waited less than"]),
        ("en-US", 60.0): ("minutes waited", ["median", "95 % waited less than"]),
        ("de", 1.0): ("Sekunden gewartet", ["Median", "95 % warteten kürzer als"]),
        ("de", 60.0): ("Minuten gewartet", ["Median", "95 % warteten kürzer als"]),
    }
    for (locale, per_s), (axis_label, legend) in expected.items():
        fig = drawn(SHARES, LONG_WAITS if per_s == 60.0 else WAITS, locale)
        wait_ax = fig.axes[1]
        assert wait_ax.get_ylabel() == axis_label
        assert [t.get_text() for t in wait_ax.get_legend().get_texts()] == legend  # type: ignore[union-attr]
        tallest = max(bar.get_height() for bar in wait_ax.patches)  # type: ignore[attr-defined]
        assert tallest == (27.0 if per_s == 60.0 else 88.0)  # 1620 s drawn as 27 minutes


def test_a_sentence_under_the_chart_says_what_a_fair_share_is() -> None:
    sentences = {
        "en-US": ("Fair share: the GPU time of these 7 days split by role weight", "no cheating"),
        "de": ("Fairer Anteil: die GPU-Zeit dieser 7 Tage, nach Rollengewicht", "kein Schummeln"),
    }
    for locale, (start, point) in sentences.items():
        fig = drawn(SHARES, WAITS, locale)
        (footnote,) = [t for t in fig.texts if t.get_text() != fig.get_suptitle()]
        said = " ".join(footnote.get_text().split())
        assert said.startswith(start) and point in said
        lowest = min(extent(ax.get_legend(), fig).y0 for ax in fig.axes)  # type: ignore[arg-type]
        assert extent(footnote, fig).y0 >= 0 and extent(footnote, fig).y1 < lowest  # under everything


def test_a_name_is_drawn_as_the_fonts_can_or_replaced_readably() -> None:
    latin = {ord(c) for c in "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ?[]0123456789"}
    assert drawable_name("😀 Bob", latin) == "[grinning face] Bob"  # an emoji no font has: its name
    assert drawable_name("𝔄𝔩𝔦𝔠𝔢", latin) == "Alice"  # fancy letters: the letters they stand for
    assert drawable_name("ሰላም Bob", latin) == "? Bob"  # a run of letters no font has: one "?"
    assert drawable_name("ሰላም", latin) == ""  # nothing drawable: the caller says "member 1234"
    assert drawable_name("a\u0301\u0302\u0303\u0304\u0305b") == "a\u0301\u0302\u0303b"  # no Zalgo towers
    assert drawable_name("\u202eevil\x00 name\u200b") == "evil name"  # controls and marks unseen
    assert drawable_name("  line\nbreak  ") == "line break"
    assert drawable_name("猫好き🐱 👨‍👩‍👧") == "猫好き🐱 👨‍👩‍👧"  # the shipped fonts have all of these


def test_long_names_are_cut_where_they_stop_fitting() -> None:
    short_enough = lambda text: len(text) <= 10  # noqa: E731 - a stand-in for measuring the text
    assert shorten("Alice", short_enough) == "Alice"
    assert shorten("Alexandra Bergstrom", short_enough) == "Alexandra…"
    assert shorten("a" * 41, lambda _: True) == "a" * 39 + "…"  # at most 40 characters, however narrow
    assert shorten("ab👨‍👩‍👧 family", lambda t: len(t) <= 6) == "ab…"  # never inside an emoji sequence
    accents = "e\u0301e\u0301e\u0301"  # never cut between a letter and its accent
    assert shorten(accents, lambda t: len(t) <= 4) == "e\u0301…"
    assert wrap("one two three four", lambda line: len(line) <= 9) == "one two\nthree\nfour"


def test_names_are_drawn_as_plain_text() -> None:
    assert plain("$x^2$ fan") == r"\$x^2\$ fan"  # no mathematics from a display name
    assert plain("line\nbreak   here") == "line break here"
    assert plain("a" * 40) == "a" * 40
    assert plain("a" * 41) == "a" * 39 + "…"
    hostile = [
        ShareBar("$\\frac{1}{0}$", 10.0, 5.0),
        ShareBar("$unbalanced", 5.0, 10.0),
        ShareBar("名前 😀", 1.0, 1.0),
    ]
    assert picture(stats_png(hostile, WAITS, "en-US")).size == (WIDTH_PX, HEIGHT_PX)


def test_the_top_ten_get_a_bar_each_and_everyone_else_one() -> None:
    members = [MemberGpu(user_id=100 + i, gpu_seconds=float(i + 1), weight=1.0) for i in range(12)]
    members.append(MemberGpu(user_id=999, gpu_seconds=5.5, weight=2.0))
    rows = share_rows(members)
    total = sum(m.gpu_seconds for m in members)  # 83.5 s, shared by a total weight of 14
    assert len(rows) == 11
    assert rows[0].user_ids == (111,) and rows[0].used_s == 12.0
    assert rows[0].fair_s == pytest.approx(fair_share(total, 1.0, [1.0] * 11 + [2.0]))
    heavy = next(r for r in rows if r.user_ids == (999,))
    assert heavy.fair_s == pytest.approx(total * 2 / 14)  # twice the weight, twice the share
    rest = rows[-1]
    assert set(rest.user_ids) == {100, 101, 102} and rest.used_s == 6.0
    assert rest.fair_s == pytest.approx(total * 3 / 14)
    assert sum(r.fair_s for r in rows) == pytest.approx(total)  # the fair shares add up to the whole
    assert [r.used_s for r in rows[:-1]] == sorted((r.used_s for r in rows[:-1]), reverse=True)

    bars = chart_bars(rows, {111: "Alice", 109: "ሰላም"}, "de")
    assert bars[0].label == "Alice"
    assert bars[1].label == "Mitglied 110"  # no name fetched: the id's last digits, never a mention
    assert bars[2].label == "Mitglied 109"  # a name no font can draw: the same
    assert bars[-1].label == "alle anderen (3)"
    assert share_rows([MemberGpu(1, 10.0, 1.0)]) == [ShareRow((1,), 10.0, 10.0)]  # alone: all of it
