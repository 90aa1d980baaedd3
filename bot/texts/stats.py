"""Texts of bot/cogs/stats.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {}

__all__ = ["DE", "EN", "TEXTS"]
