"""Texts of bot/cogs/stats.py and bot/charts.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    "cmd.stats": {EN: "stats", DE: "statistik"},
    "cmd.stats.desc": {
        EN: "A chart of the last 7 days: GPU time per member against the fair share, queue waits",
        DE: "Ein Diagramm der letzten 7 Tage: GPU-Zeit pro Person gegen den fairen Anteil, Wartezeiten",
    },
    "stats.empty": {
        EN: "Nothing to chart yet: nobody on this server has made a clip in the last 7 days.",
        DE: "Noch nichts für ein Diagramm: auf diesem Server hat in den letzten 7 Tagen niemand "
        "einen Clip gemacht.",
    },
    "stats.posted": {
        EN: "The last 7 days on {server}: {total} s of GPU time for {members} members, {jobs} clips started.",
        DE: "Die letzten 7 Tage auf {server}: {total} s GPU-Zeit für {members} Mitglieder, "
        "{jobs} Clips gestartet.",
    },
    "stats.member": {EN: "member {id}", DE: "Mitglied {id}"},
    "stats.everyone_else": {EN: "everyone else ({count})", DE: "alle anderen ({count})"},
    "stats.chart.title": {EN: "The last 7 days", DE: "Die letzten 7 Tage"},
    "stats.chart.shares": {
        EN: "GPU time per member and their fair share",
        DE: "GPU-Zeit pro Person und ihr fairer Anteil",
    },
    "stats.chart.used": {EN: "used", DE: "genutzt"},
    "stats.chart.fair": {EN: "fair share", DE: "fairer Anteil"},
    "stats.chart.gpu_seconds": {EN: "GPU-seconds", DE: "GPU-Sekunden"},
    "stats.chart.waits": {
        EN: "Waiting in the queue, per day (UTC)",
        DE: "Wartezeit in der Warteschlange, pro Tag (UTC)",
    },
    "stats.chart.wait_seconds": {EN: "seconds waited", DE: "Sekunden gewartet"},
    "stats.chart.wait_minutes": {EN: "minutes waited", DE: "Minuten gewartet"},
    "stats.chart.median": {EN: "median", DE: "Median"},
    "stats.chart.p95": {EN: "95 % waited less than", DE: "95 % warteten kürzer als"},
    "stats.chart.fair_explained": {
        EN: "Fair share: the GPU time of these 7 days split by role weight among the members who asked "
        "for clips. Using more than that is no cheating: whoever has used less always goes first in the "
        "queue, so time beyond a fair share is time nobody else was waiting for.",
        DE: "Fairer Anteil: die GPU-Zeit dieser 7 Tage, nach Rollengewicht aufgeteilt unter den Mitgliedern, "
        "die Clips angefragt haben. Mehr zu nutzen ist kein Schummeln: wer weniger genutzt hat, kommt in "
        "der Warteschlange immer zuerst dran; Zeit über den fairen Anteil hinaus ist also Zeit, auf die "
        "sonst niemand gewartet hat.",
    },
    "stats.alt": {
        EN: "Chart: GPU time per member against their fair share, and queue waits per day",
        DE: "Diagramm: GPU-Zeit pro Person gegen ihren fairen Anteil, und Wartezeiten pro Tag",
    },
}

__all__ = ["DE", "EN", "TEXTS"]
