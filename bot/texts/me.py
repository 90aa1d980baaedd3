"""Texts of bot/cogs/me.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    "cmd.me": {EN: "me", DE: "ich"},
    "cmd.me.desc": {
        EN: "Your clips, votes, wins and GPU time this week",
        DE: "Deine Clips, Stimmen, Siege und GPU-Zeit diese Woche",
    },
    "me.title": {EN: "Your standing on {server}", DE: "Dein Stand auf {server}"},
    "me.clips": {EN: "Clips", DE: "Clips"},
    "me.clips.value": {
        EN: "{week} this week · {total} in all",
        DE: "{week} diese Woche · {total} insgesamt",
    },
    "me.votes": {EN: "Votes received", DE: "Erhaltene Stimmen"},
    "me.wins": {EN: "Challenge wins", DE: "Gewonnene Challenges"},
    "me.gpu": {EN: "GPU time this week", DE: "GPU-Zeit diese Woche"},
    "me.gpu.value": {
        EN: "{used} s of your fair share of {share} s ({percent} %)",
        DE: "{used} s von deinem fairen Anteil von {share} s ({percent} %)",
    },
    "me.gpu.idle": {
        EN: "{used} s (nobody used the GPUs this week)",
        DE: "{used} s (diese Woche hat niemand die GPUs genutzt)",
    },
    "me.gpu.explain": {
        EN: "Your fair share: the server's {total} s of GPU time this week × your weight {weight} ÷ the "
        "total weight {total_weight} of the {members} members who made clips this week (you included).",
        DE: "Dein fairer Anteil: die {total} s GPU-Zeit des Servers diese Woche × dein Gewicht {weight} ÷ "
        "das Gesamtgewicht {total_weight} der {members} Mitglieder, die diese Woche Clips gemacht haben "
        "(du eingeschlossen).",
    },
}

__all__ = ["DE", "EN", "TEXTS"]
