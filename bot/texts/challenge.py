"""Texts of bot/cogs/challenge.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    # the command group, its subcommands and options
    "cmd.challenge": {EN: "challenge", DE: "wettbewerb"},
    "cmd.challenge.desc": {
        EN: "Clip challenges: a theme, a deadline, votes",
        DE: "Clip-Wettbewerbe: ein Thema, eine Frist, Stimmen",
    },
    "cmd.challenge.start": {EN: "start", DE: "starten"},
    "cmd.challenge.start.desc": {
        EN: "Start a challenge in this channel (moderators)",
        DE: "Einen Wettbewerb in diesem Kanal starten (Moderation)",
    },
    "cmd.challenge.end": {EN: "end", DE: "beenden"},
    "cmd.challenge.end.desc": {
        EN: "End a challenge now (moderators)",
        DE: "Einen Wettbewerb jetzt beenden (Moderation)",
    },
    "cmd.challenge.results": {EN: "results", DE: "ergebnisse"},
    "cmd.challenge.results.desc": {
        EN: "The results of a finished challenge",
        DE: "Die Ergebnisse eines beendeten Wettbewerbs",
    },
    "cmd.challenge.list": {EN: "list", DE: "liste"},
    "cmd.challenge.list.desc": {
        EN: "Open and recent challenges",
        DE: "Laufende und letzte Wettbewerbe",
    },
    "opt.challenge.theme": {EN: "theme", DE: "thema"},
    "opt.challenge.theme.desc": {EN: "What the clips should show", DE: "Was die Clips zeigen sollen"},
    "opt.challenge.duration": {EN: "duration", DE: "dauer"},
    "opt.challenge.duration.desc": {
        EN: "How long it runs: 30m, 2h, 3d, 1w",
        DE: "Wie lange er läuft: 30m, 2 Std, 3 Tage, 1 Woche",
    },
    "opt.challenge.id": {EN: "challenge", DE: "wettbewerb"},
    "opt.challenge.id.desc": {EN: "Challenge number", DE: "Nummer des Wettbewerbs"},
    # refusals
    "challenge.not_moderator": {
        EN: "Only moderators can start or end challenges.",
        DE: "Nur die Moderation kann Wettbewerbe starten oder beenden.",
    },
    "challenge.duration.bad": {
        EN: "I can't read “{text}” as a duration. Write it like 30m, 2h, 3d or 1w.",
        DE: "„{text}“ verstehe ich nicht als Dauer. Schreib sie etwa so: 30m, 2 Std, 3 Tage, 1 Woche.",
    },
    "challenge.duration.too_short": {
        EN: "A challenge runs at least a minute.",
        DE: "Ein Wettbewerb läuft mindestens eine Minute.",
    },
    "challenge.duration.too_long": {
        EN: "A challenge runs at most {days} days.",
        DE: "Ein Wettbewerb läuft höchstens {days} Tage.",
    },
    "challenge.theme.bad": {
        EN: "A theme has 1 to {limit} characters.",
        DE: "Ein Thema hat 1 bis {limit} Zeichen.",
    },
    "challenge.not_here": {
        EN: "Start a challenge in a text channel, not in a thread.",
        DE: "Starte einen Wettbewerb in einem Textkanal, nicht in einem Thread.",
    },
    "challenge.unknown": {
        EN: "There is no challenge #{challenge} on this server.",
        DE: "Auf diesem Server gibt es keinen Wettbewerb #{challenge}.",
    },
    "challenge.none_open": {
        EN: "No challenge is open here. Name one by its number.",
        DE: "Hier läuft kein Wettbewerb. Nenne einen mit seiner Nummer.",
    },
    "challenge.already_ended": {
        EN: "Challenge #{challenge} has already ended.",
        DE: "Wettbewerb #{challenge} ist schon beendet.",
    },
    "challenge.not_ended": {
        EN: "Challenge #{challenge} is still running: it ends {ends}.",
        DE: "Wettbewerb #{challenge} läuft noch: er endet {ends}.",
    },
    "challenge.none_finished": {
        EN: "No challenge has finished on this server yet.",
        DE: "Auf diesem Server ist noch kein Wettbewerb beendet.",
    },
    "challenge.none": {
        EN: "No challenges on this server yet.",
        DE: "Auf diesem Server gab es noch keine Wettbewerbe.",
    },
    "challenge.vote.too_new": {
        EN: "Members who joined less than {hours} hours ago can't vote in challenges yet.",
        DE: "Wer vor weniger als {hours} Stunden beigetreten ist, kann bei Wettbewerben noch nicht "
        "abstimmen.",
    },
    "challenge.vote.closed": {
        EN: "Challenge #{challenge} is over: its results are final.",
        DE: "Wettbewerb #{challenge} ist vorbei: die Ergebnisse stehen fest.",
    },
    # announcements and answers
    "challenge.thread": {EN: "Challenge #{challenge}: {theme}", DE: "Wettbewerb #{challenge}: {theme}"},
    "challenge.announcement": {
        EN: "🏆 **Challenge #{challenge}: {theme}**\n"
        "Ends {end} ({relative}). Make your entry with /video in the thread below: one entry per "
        "member, your latest clip there counts. Vote with 👍 and 👎 under the clips.",
        DE: "🏆 **Wettbewerb #{challenge}: {theme}**\n"
        "Endet {end} ({relative}). Reiche deinen Beitrag mit /video im Thread unten ein: ein Beitrag "
        "pro Person, dein letzter Clip dort zählt. Abgestimmt wird mit 👍 und 👎 unter den Clips.",
    },
    "challenge.started": {
        EN: "Challenge #{challenge} has started: {thread}",
        DE: "Wettbewerb #{challenge} hat begonnen: {thread}",
    },
    "challenge.ending": {EN: "Challenge #{challenge} has ended.", DE: "Wettbewerb #{challenge} ist beendet."},
    "challenge.results.title": {
        EN: "🏁 **Challenge #{challenge} is over: {theme}**",
        DE: "🏁 **Wettbewerb #{challenge} ist vorbei: {theme}**",
    },
    "challenge.results.place": {
        EN: "{medal} <@{user}> with {clip}: 👍 {up} · 👎 {down} (net {score})",
        DE: "{medal} <@{user}> mit {clip}: 👍 {up} · 👎 {down} (netto {score})",
    },
    "challenge.results.entries": {
        EN: "{count} entries, {votes} votes (kept for audit).",
        DE: "{count} Beiträge, {votes} Stimmen (für die Nachprüfung gespeichert).",
    },
    "challenge.results.empty": {
        EN: "Nobody entered, so nobody won.",
        DE: "Niemand hat teilgenommen, also hat niemand gewonnen.",
    },
    "challenge.results.role_given": {
        EN: "🎖️ <@{user}> gets the role <@&{role}>. Congratulations!",
        DE: "🎖️ <@{user}> bekommt die Rolle <@&{role}>. Herzlichen Glückwunsch!",
    },
    "challenge.results.role_forbidden": {
        EN: "⚠️ I could not give <@&{role}> to the winner: I lack the permission (Manage Roles, "
        "with my role above it). A moderator can give it by hand.",
        DE: "⚠️ Ich konnte die Rolle <@&{role}> nicht vergeben: mir fehlt die Berechtigung (Rollen "
        "verwalten, meine Rolle darüber). Die Moderation kann sie von Hand vergeben.",
    },
    "challenge.results.role_failed": {
        EN: "⚠️ I could not give <@&{role}> to the winner (does the role still exist?).",
        DE: "⚠️ Ich konnte die Rolle <@&{role}> nicht vergeben (gibt es sie noch?).",
    },
    "challenge.list.open": {
        EN: "#{challenge} {theme}: open, ends {ends} in {thread}",
        DE: "#{challenge} {theme}: läuft, endet {ends} in {thread}",
    },
    "challenge.list.ended": {
        EN: "#{challenge} {theme}: ended {ended}",
        DE: "#{challenge} {theme}: beendet {ended}",
    },
    "challenge.clip": {EN: "clip #{job}", DE: "Clip #{job}"},
}

__all__ = ["DE", "EN", "TEXTS"]
