"""The /stats picture: one PNG of a fixed size with two panels, drawn by matplotlib off-screen.

(1) each member's share of the GPU-seconds against their fair share (horizontal bars, the fair share a
marker on each), the top members and "everyone else"; (2) the queue's waits per day, p50 and p95.

Only the object-oriented API over the Agg canvas: no GUI, no global pyplot state, so it runs in a
worker thread (``asyncio.to_thread``) while the bot serves others. Titles come from the catalog in the
member's language; member labels are display names the caller resolved (never mentions), and are
drawn as plain text (a ``$`` in a name is not mathematics).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.i18n import t

WIDTH_PX = 1200
HEIGHT_PX = 800
DPI = 100
LABEL_CHARS = 24

# a display name in a script the bundled font lacks is drawn with boxes; that is no news for the log
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)

USED_COLOUR = "#5865F2"  # Discord's blurple
FAIR_COLOUR = "#ED4245"
P50_COLOUR = "#57F287"
P95_COLOUR = "#FEE75C"


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


def plain(label: str) -> str:
    """A label as matplotlib should draw it: one line, at most LABEL_CHARS characters, no mathtext."""
    one_line = " ".join(label.split()) or "?"
    if len(one_line) > LABEL_CHARS:
        one_line = one_line[: LABEL_CHARS - 1] + "…"
    return one_line.replace("$", r"\$")


def stats_png(shares: Sequence[ShareBar], waits: Sequence[WaitDay], locale: str) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX, with titles and labels in ``locale``."""
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(t(locale, "stats.chart.title"), fontsize=16, fontweight="bold")
    share_ax, wait_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})

    # (1) GPU-seconds used against the fair share, the biggest user on top
    labels = [plain(s.label) for s in shares]
    rows = list(range(len(shares)))
    share_ax.barh(
        rows, [s.used_s for s in shares], height=0.6, color=USED_COLOUR, label=t(locale, "stats.chart.used")
    )
    share_ax.scatter(
        [s.fair_s for s in shares],
        rows,
        marker="D",
        s=60,
        color=FAIR_COLOUR,
        zorder=3,
        label=t(locale, "stats.chart.fair"),
    )
    share_ax.set_yticks(rows, labels=labels)
    share_ax.invert_yaxis()
    share_ax.set_title(t(locale, "stats.chart.shares"))
    share_ax.set_xlabel(t(locale, "stats.chart.gpu_seconds"))
    share_ax.set_xlim(left=0)
    share_ax.grid(axis="x", alpha=0.3)
    share_ax.legend(loc="lower right")

    # (2) waits per day: p50 and p95 side by side (a day without jobs has no bars)
    days = list(range(len(waits)))
    half = 0.38
    p50 = [w.p50_s or 0.0 for w in waits]
    p95 = [w.p95_s or 0.0 for w in waits]
    wait_ax.bar([d - half / 2 for d in days], p50, half, color=P50_COLOUR, label="p50")
    wait_ax.bar([d + half / 2 for d in days], p95, half, color=P95_COLOUR, label="p95")
    for d, w in zip(days, waits, strict=True):
        if w.p50_s is None:
            wait_ax.annotate("–", (d, 0), ha="center", va="bottom", color="grey")
    wait_ax.set_xticks(days, labels=[plain(w.label) for w in waits])
    wait_ax.set_title(t(locale, "stats.chart.waits"))
    wait_ax.set_ylabel(t(locale, "stats.chart.wait_seconds"))
    wait_ax.set_ylim(bottom=0)
    wait_ax.grid(axis="y", alpha=0.3)
    wait_ax.legend(loc="upper left")

    fig.subplots_adjust(left=0.14, right=0.98, top=0.88, bottom=0.1, wspace=0.25)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()
