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
    "stats.alt": {
        EN: "Chart: GPU time per member against their fair share, and queue waits per day",
        DE: "Diagramm: GPU-Zeit pro Person gegen ihren fairen Anteil, und Wartezeiten pro Tag",
    },
}

__all__ = ["DE", "EN", "TEXTS"]
