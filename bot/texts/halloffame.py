"""Texts of bot/cogs/halloffame.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    "hof.count": {
        EN: "⭐ **{score}** · 👍 {up} 👎 {down} · in {channel}",
        DE: "⭐ **{score}** · 👍 {up} 👎 {down} · in {channel}",
    },
    "hof.author": {EN: "Author", DE: "Von"},
    "hof.jump": {EN: "Jump to clip", DE: "Zum Clip"},
    "hof.footer": {EN: "Hall of fame · #{job}", DE: "Ruhmeshalle · #{job}"},
}

__all__ = ["DE", "EN", "TEXTS"]
