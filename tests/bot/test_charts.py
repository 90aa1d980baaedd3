"""The /stats chart is a real PNG of the promised size, drawn from the data it is given, in the
member's language; and the share arithmetic behind its bars."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from bot.charts import HEIGHT_PX, WIDTH_PX, ShareBar, WaitDay, plain, stats_png
from bot.cogs.me import fair_share
from bot.cogs.stats import ShareRow, chart_bars, share_rows
from db.store.halloffame import MemberGpu

SHARES = [ShareBar("Alice", 120.0, 80.0), ShareBar("Bob", 40.0, 80.0)]
WAITS = [WaitDay(f"11-{d:02d}", 10.0 + d, 30.0 + 2 * d) for d in range(24, 30)] + [
    WaitDay("11-30", None, None)
]


def picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()  # the whole file decodes, not just its header
    return image.convert("RGB")


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


def test_names_are_drawn_as_plain_text() -> None:
    assert plain("$x^2$ fan") == r"\$x^2\$ fan"  # no mathematics from a display name
    assert plain("line\nbreak   here") == "line break here"
    assert plain("a" * 40) == "a" * 23 + "…"
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

    bars = chart_bars(rows, {111: "Alice"}, "de")
    assert bars[0].label == "Alice"
    assert bars[1].label == "Mitglied 110"  # no name fetched: the id's last digits, never a mention
    assert bars[-1].label == "alle anderen (3)"
    assert share_rows([MemberGpu(1, 10.0, 1.0)]) == [ShareRow((1,), 10.0, 10.0)]  # alone: all of it
