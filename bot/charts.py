"""The /stats picture: one PNG of a fixed size with two panels, drawn by matplotlib off-screen.

(1) each member's share of the GPU-seconds against their fair share (horizontal bars, the fair share a
marker on each), the top members and "everyone else"; (2) the queue's waits per day, the median and
the wait that 95 % of jobs stayed under, in seconds or minutes. Legends sit below the panels, and a
sentence under everything says what a fair share is.

Only the object-oriented API over the Agg canvas: no GUI, no pyplot state, no rcParams, so it runs in a
worker thread (``asyncio.to_thread``) while the bot serves others. Titles come from the catalog in the
member's language; member labels are display names the caller resolved (never mentions), drawn as plain
text (a ``$`` in a name is not mathematics).

Names can be in any script and hold emoji. The fonts in ``bot/fonts`` (see ``make_fonts.py`` there)
are added to matplotlib's font list once, at import, and every text is drawn with the chain
FONT_FAMILIES: matplotlib takes each character from the first font of the chain that has it, and shapes
the text (Arabic, Devanagari, emoji sequences) with libraqm. A character that no font of the chain has
would come out as matplotlib's "last resort" box; :func:`drawable_name` replaces it with something
readable first.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import ScaledTranslation

from bot.i18n import t

log = logging.getLogger(__name__)

WIDTH_PX = 1200
HEIGHT_PX = 800
DPI = 100
LABEL_CHARS = 40  # a display name has at most 32; a longer label is cut with "…"
LABEL_WIDTH_PX = 320  # and so is one wider than this (a name of 40 wide characters would take 560)
LABEL_PT = 10
TITLE_PT = 12
EDGE_PX = 10  # kept free around the picture's edge
LEGEND_DROP_PT = 44  # legends this far below a panel: under its tick labels and axis label
MINUTES_FROM_S = 120.0  # waits are told in minutes once the longest is this long

FONT_DIR = Path(__file__).parent / "fonts"
SHIPPED_FONTS = ("VideobotCJK-Regular.otf", "VideobotScripts-Regular.ttf", "VideobotEmoji-Regular.ttf")
# DejaVu Sans (Latin, Greek, Cyrillic, Hebrew, Arabic, …) and STIX (𝓜𝓪𝓽𝓱 letters) come with matplotlib
FONT_FAMILIES = ["DejaVu Sans", "Videobot CJK", "Videobot Scripts", "Videobot Emoji", "STIXGeneral"]

USED_COLOUR = "#5865F2"  # Discord's blurple
FAIR_COLOUR = "#ED4245"
MEDIAN_COLOUR = "#57F287"
P95_COLOUR = "#FEE75C"
FOOTNOTE_COLOUR = "#444444"

ZWJ = "\u200d"
MAX_MARKS = 3  # combining marks kept on one letter: enough for any script, not for a "Zalgo" tower


@dataclass(frozen=True)
class ShareBar:
    """One bar of panel 1: a member (or "everyone else") and GPU-seconds used and fairly theirs."""

    label: str
    used_s: float
    fair_s: float


@dataclass(frozen=True)
class WaitDay:
    """One day of panel 2: its label (a date) and the waits' p50 and p95 in seconds (None: no job)."""

    label: str
    p50_s: float | None
    p95_s: float | None


@dataclass(frozen=True)
class WaitScale:
    """How panel 2 tells waits: seconds are divided by ``per_s``; ``label`` is the axis' catalog key."""

    per_s: float
    label: str


def add_shipped_fonts() -> frozenset[int]:
    """Make the fonts in bot/fonts known to matplotlib; the code points the chain FONT_FAMILIES draws.

    A font missing from the install is logged, not fatal: names then lose the characters it had.
    """
    for name in SHIPPED_FONTS:
        try:
            font_manager.fontManager.addfont(FONT_DIR / name)
        except (OSError, RuntimeError):
            log.warning("The font %s is missing or broken: /stats draws fewer scripts", FONT_DIR / name)
    glyphs: set[int] = set()
    for family in FONT_FAMILIES:
        try:
            path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue  # matplotlib skips a family it does not know
        glyphs.update(font_manager.get_font(path).get_charmap())
    return frozenset(glyphs)


GLYPHS = add_shipped_fonts()


def is_mark(char: str) -> bool:
    """A character drawn onto the one before it: a combining mark, a variation selector, a skin tone."""
    return unicodedata.category(char).startswith("M") or 0x1F3FB <= ord(char) <= 0x1F3FF


def stand_in(char: str, glyphs: Container[int]) -> str | None:
    """Readable text for a character no font has: its compatibility form (𝔄 → A, ﬁ → fi) if that can
    be drawn, an emoji's name in brackets, or None."""
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and all(ord(c) in glyphs for c in compatible):
        return compatible
    name = unicodedata.name(char, "")
    if name and unicodedata.category(char) == "So":
        return f"[{name.lower()}]"
    return None


def drawable_name(name: str, glyphs: Container[int] = GLYPHS) -> str:
    """``name`` on one line as the fonts can draw it, never as boxes; "" if nothing of it can be.

    A character no font has is replaced by :func:`stand_in`, else (a run of them) by "?"; invisible
    controls are dropped, and so are the marks on a replaced character and any past MAX_MARKS.
    """
    out: list[str] = []
    drew_any = False
    marks = 0
    replaced = False  # the last letter was replaced: its marks go with it
    for char in " ".join(name.split()):
        if unicodedata.category(char) in ("Cc", "Cf") and not (char == ZWJ and ord(char) in glyphs):
            continue  # invisible: a control, a direction mark, a tag; a joiner the fonts do not join
        if is_mark(char):
            marks += 1
            if not replaced and marks <= MAX_MARKS and ord(char) in glyphs:
                out.append(char)
            continue
        marks = 0
        if ord(char) in glyphs:
            out.append(char)
            drew_any = drew_any or not char.isspace()
            replaced = False
            continue
        replaced = True
        readable = stand_in(char, glyphs)
        if readable is not None:
            out.append(readable)
            drew_any = True
        elif not out or out[-1] != "?":
            out.append("?")
    return "".join(out).strip() if drew_any else ""


def can_cut_before(label: str, index: int) -> bool:
    """Whether ``label[:index]`` ends between two characters as drawn (not inside an emoji sequence
    or before a mark)."""
    return index == len(label) or not (is_mark(label[index]) or ZWJ in label[index - 1 : index + 1])


def shorten(label: str, fits: Callable[[str], bool], limit: int = LABEL_CHARS) -> str:
    """``label`` whole if it has at most ``limit`` characters and ``fits``; else its longest start that
    does with "…" after it."""
    if len(label) <= limit and fits(label):
        return label
    cuts = [i for i in range(1, min(len(label), limit - 1) + 1) if can_cut_before(label, i)]
    best = "…"
    low, high = 0, len(cuts) - 1
    while low <= high:  # the longer the start, the wider: find the longest that fits
        middle = (low + high) // 2
        candidate = label[: cuts[middle]].rstrip() + "…"
        if fits(candidate):
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def plain(label: str) -> str:
    """A label as matplotlib should draw it: drawable, one line, at most LABEL_CHARS characters, no
    mathtext."""
    return no_math(shorten(drawable_name(label) or "?", lambda _: True))


def no_math(label: str) -> str:
    return label.replace("$", r"\$")


def wait_scale(waits: Sequence[WaitDay]) -> WaitScale:
    """Seconds while the longest wait is under two minutes, minutes from there on."""
    longest = max((w for day in waits for w in (day.p50_s, day.p95_s) if w is not None), default=0.0)
    if longest >= MINUTES_FROM_S:
        return WaitScale(60.0, "stats.chart.wait_minutes")
    return WaitScale(1.0, "stats.chart.wait_seconds")


def wrap(text: str, fits: Callable[[str], bool]) -> str:
    """``text`` broken into lines at spaces, as many words on each as ``fits`` (a word alone always does)."""
    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def font(size: float = LABEL_PT) -> FontProperties:
    """The font chain in regular weight (the fonts from bot/fonts have no bold)."""
    return FontProperties(family=FONT_FAMILIES, size=size)


def narrower_than(room_px: float, renderer: RendererAgg, prop: FontProperties) -> Callable[[str], bool]:
    """Whether a text drawn in ``prop`` (as plain text, with the font chain) takes at most ``room_px``."""

    def fits(text: str) -> bool:
        width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
        return bool(width <= room_px)

    return fits


def legend_below(ax: Axes, **kwargs: Any) -> None:
    """The axes' legend under its tick labels and axis label, in one row: it never covers data."""
    below = ax.transAxes + ScaledTranslation(0, -LEGEND_DROP_PT / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below, ncols=2, prop=font(), **kwargs
    )


def draw_shares(ax: Axes, shares: Sequence[ShareBar], locale: str, fits: Callable[[str], bool]) -> None:
    """Panel 1: GPU-seconds used against the fair share, the biggest user on top."""
    labels = [no_math(shorten(drawable_name(s.label) or "?", fits)) for s in shares]
    rows = list(range(len(shares)))
    bars = ax.barh(
        rows, [s.used_s for s in shares], height=0.6, color=USED_COLOUR, label=t(locale, "stats.chart.used")
    )
    markers = ax.scatter(
        [s.fair_s for s in shares],
        rows,
        marker="D",
        s=60,
        color=FAIR_COLOUR,
        zorder=3,
        label=t(locale, "stats.chart.fair"),
    )
    ax.set_yticks(rows, labels=labels, fontproperties=font())
    ax.invert_yaxis()
    ax.set_title(t(locale, "stats.chart.shares"), fontproperties=font(TITLE_PT))
    ax.set_xlabel(t(locale, "stats.chart.gpu_seconds"), fontproperties=font())
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    legend_below(ax, handles=[bars, markers])


def draw_waits(ax: Axes, waits: Sequence[WaitDay], locale: str) -> None:
    """Panel 2: the waits per day, median and 95th percentile side by side (a day without jobs: "–")."""
    scale = wait_scale(waits)
    days = list(range(len(waits)))
    half = 0.38
    median = [(w.p50_s or 0.0) / scale.per_s for w in waits]
    p95 = [(w.p95_s or 0.0) / scale.per_s for w in waits]
    ax.bar(
        [d - half / 2 for d in days], median, half, color=MEDIAN_COLOUR, label=t(locale, "stats.chart.median")
    )
    ax.bar([d + half / 2 for d in days], p95, half, color=P95_COLOUR, label=t(locale, "stats.chart.p95"))
    for d, w in zip(days, waits, strict=True):
        if w.p50_s is None:
            ax.annotate("–", (d, 0), ha="center", va="bottom", color="grey")
    ax.set_xticks(days, labels=[plain(w.label) for w in waits], fontproperties=font())
    ax.set_title(t(locale, "stats.chart.waits"), fontproperties=font(TITLE_PT))
    ax.set_ylabel(t(locale, scale.label), fontproperties=font())
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    legend_below(ax)


def stats_figure(shares: Sequence[ShareBar], waits: Sequence[WaitDay], locale: str) -> Figure:
    """The chart, laid out: WIDTH_PX × HEIGHT_PX, in ``locale``, the fair share explained under it."""
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.suptitle(t(locale, "stats.chart.title"), fontproperties=font(16))
    explained = wrap(
        t(locale, "stats.chart.fair_explained"),
        narrower_than(WIDTH_PX - 2 * EDGE_PX, renderer, font()),
    )
    footnote = fig.text(
        0.5,
        EDGE_PX / HEIGHT_PX,
        explained,
        ha="center",
        va="bottom",
        color=FOOTNOTE_COLOUR,
        fontproperties=font(),
    )
    footnote_top = (footnote.get_window_extent(renderer).y1 + EDGE_PX) / HEIGHT_PX
    layout = fig.get_layout_engine()
    assert isinstance(layout, ConstrainedLayoutEngine)
    layout.set(rect=(0, footnote_top, 1, 1 - footnote_top), w_pad=EDGE_PX / DPI)

    share_ax, wait_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    draw_shares(share_ax, shares, locale, narrower_than(LABEL_WIDTH_PX, renderer, font()))
    draw_waits(wait_ax, waits, locale)

    # the layout makes room for a title's height, not its width: wrap one wider than its panel
    fig.draw_without_rendering()
    for ax in (share_ax, wait_ax):
        fits = narrower_than(ax.get_window_extent(renderer).width, renderer, font(TITLE_PT))
        ax.title.set_text(wrap(ax.title.get_text(), fits))
    return fig


def stats_png(shares: Sequence[ShareBar], waits: Sequence[WaitDay], locale: str) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX, with titles and labels in ``locale``."""
    out = io.BytesIO()
    stats_figure(shares, waits, locale).savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()
