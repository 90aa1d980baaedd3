"""Texts of bot/cogs/bridge.py, /bridge: a transition that joins two clips into one (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    "cmd.bridge": {EN: "bridge", DE: "brücke"},
    "cmd.bridge.desc": {
        EN: "Join two clips into one with a transition between them",
        DE: "Zwei Clips mit einem Übergang zu einem verbinden",
    },
    "opt.from": {EN: "from", DE: "von"},
    "opt.from.desc": {
        EN: "The clip it starts with: its number, or a link to its message",
        DE: "Der Clip, mit dem es beginnt: seine Nummer oder ein Link zu seiner Nachricht",
    },
    "opt.to": {EN: "to", DE: "nach"},
    "opt.to.desc": {
        EN: "The clip it ends with: its number, or a link to its message",
        DE: "Der Clip, mit dem es endet: seine Nummer oder ein Link zu seiner Nachricht",
    },
    "opt.bridge_prompt.desc": {
        EN: "What happens in between (without it: the second clip's prompt)",
        DE: "Was dazwischen passiert (ohne Angabe: die Beschreibung des zweiten Clips)",
    },
    "opt.bridge_seconds.desc": {EN: "Length of the transition", DE: "Länge des Übergangs"},
    # refusals, each private: nothing is queued
    "bridge.not_a_clip": {
        EN: "“{text}” names no clip: give its number (like 12) or a link to its message.",
        DE: "„{text}“ nennt keinen Clip: gib seine Nummer (etwa 12) oder einen Link zu seiner Nachricht an.",
    },
    "bridge.link_elsewhere": {
        EN: "That link is to a message on another server: a bridge joins clips of this server.",
        DE: "Dieser Link führt zu einer Nachricht auf einem anderen Server: "
        "eine Brücke verbindet Clips dieses Servers.",
    },
    "bridge.not_a_clip_message": {
        EN: "That link is not to one of my clips (or I cannot read its message).",
        DE: "Dieser Link führt zu keinem meiner Clips (oder ich kann seine Nachricht nicht lesen).",
    },
    "bridge.same_clip": {
        EN: "A bridge joins two different clips. "
        "To make clip #{job} play seamlessly on repeat, press ♾️ under it.",
        DE: "Eine Brücke verbindet zwei verschiedene Clips. "
        "Damit Clip #{job} nahtlos in Schleife läuft, drück ♾️ darunter.",
    },
    "bridge.not_posted": {
        EN: "Clip #{job} is not finished yet: bridge it once it is posted.",
        DE: "Clip #{job} ist noch nicht fertig: verbinde ihn, sobald er gepostet ist.",
    },
    "bridge.age_restricted": {
        EN: "Clip #{job} was made in an age-restricted channel, "
        "so it can be bridged only in an age-restricted channel.",
        DE: "Clip #{job} wurde in einem altersbeschränkten Kanal erstellt "
        "und kann deshalb nur in einem altersbeschränkten Kanal verbunden werden.",
    },
    "retention.bridge_gone": {
        EN: "Clip #{job} is older than {days} days: its video is no longer stored, so it cannot be bridged.",
        DE: "Clip #{job} ist älter als {days} Tage: sein Video ist nicht mehr gespeichert, "
        "deshalb kann er nicht verbunden werden.",
    },
    # in the second clip's thread once the bridge is posted (the author is shown, never pinged)
    "bridge.posted": {
        EN: "🌉 #{job} by {author} joins #{start} to this clip: {link}",
        DE: "🌉 #{job} von {author} verbindet #{start} mit diesem Clip: {link}",
    },
    # a bridge's status line and card (job kind "bridge")
    "kind.bridge": {EN: "🌉 Bridge from #{parent} to #{to}: ", DE: "🌉 Brücke von #{parent} nach #{to}: "},
    "credit.bridge": {EN: "🌉 #{job} by {author}", DE: "🌉 #{job} von {author}"},
}

__all__ = ["DE", "EN", "TEXTS"]
