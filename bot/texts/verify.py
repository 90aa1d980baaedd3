"""Texts of bot/cogs/verify.py, /verify: what a clip's content credentials say (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN

TEXTS: dict[str, dict[str, str]] = {
    "cmd.verify": {EN: "verify", DE: "prüfen"},
    "cmd.verify.desc": {
        EN: "Check a video's content credentials: who or what made it, and whether it changed since",
        DE: "Herkunftsnachweise eines Videos prüfen: wer oder was es machte, und ob es verändert wurde",
    },
    "opt.verify_file": {EN: "file", DE: "datei"},
    "opt.verify_file.desc": {
        EN: "A video file (MP4 or MOV) to check",
        DE: "Eine Videodatei (MP4 oder MOV) zum Prüfen",
    },
    "opt.verify_clip": {EN: "clip", DE: "clip"},
    "opt.verify_clip.desc": {
        EN: "A clip of this server: its number, or a link to its message",
        DE: "Ein Clip dieses Servers: seine Nummer oder ein Link zu seiner Nachricht",
    },
    # refusals, each private
    "verify.neither": {
        EN: "Attach a video file or name a clip (its number or a link to its message) to check.",
        DE: "Hänge eine Videodatei an oder nenne einen Clip (seine Nummer oder einen Link zu seiner "
        "Nachricht), den ich prüfen soll.",
    },
    "verify.both": {
        EN: "One at a time, please: attach a video file or name a clip, not both.",
        DE: "Bitte eins nach dem anderen: hänge eine Videodatei an oder nenne einen Clip, nicht beides.",
    },
    "verify.too_big": {
        EN: "“{name}” is {size_mib} MiB: I check files of up to {limit_mib} MiB "
        "(every clip a Discord server can post is smaller).",
        DE: "„{name}“ hat {size_mib} MiB: Ich prüfe Dateien bis {limit_mib} MiB "
        "(jeder Clip, den ein Discord-Server posten kann, ist kleiner).",
    },
    "verify.not_video": {
        EN: "“{name}” is not a video file: I check MP4 and MOV videos.",
        DE: "„{name}“ ist keine Videodatei: Ich prüfe MP4- und MOV-Videos.",
    },
    "verify.unreadable": {
        EN: "“{name}” is no video file whose credentials can be read.",
        DE: "„{name}“ ist keine Videodatei, deren Herkunftsnachweise sich lesen lassen.",
    },
    "verify.download_failed": {
        EN: "I could not download “{name}” from Discord. Try again in a moment.",
        DE: "Ich konnte „{name}“ nicht von Discord herunterladen. Versuch es gleich noch einmal.",
    },
    "verify.link_elsewhere": {
        EN: "That link is to a message on another server: here I check this server's clips "
        "(or a video file you attach).",
        DE: "Dieser Link führt zu einer Nachricht auf einem anderen Server: Hier prüfe ich die Clips "
        "dieses Servers (oder eine Videodatei, die du anhängst).",
    },
    "verify.ended": {
        EN: "Clip #{job} ended without a video: there is nothing to check.",
        DE: "Clip #{job} endete ohne Video: Es gibt nichts zu prüfen.",
    },
    "verify.not_posted": {
        EN: "Clip #{job} is not finished yet: check it once it is posted.",
        DE: "Clip #{job} ist noch nicht fertig: Prüfe ihn, sobald er gepostet ist.",
    },
    "verify.age_restricted": {
        EN: "Clip #{job} was made in an age-restricted channel, "
        "so it can be checked only in an age-restricted channel.",
        DE: "Clip #{job} wurde in einem altersbeschränkten Kanal erstellt "
        "und kann deshalb nur in einem altersbeschränkten Kanal geprüft werden.",
    },
    "verify.media_gone": {
        EN: "The video of clip #{job} is no longer stored. Save it from its message and attach it "
        "(`/verify file`) to check it.",
        DE: "Das Video von Clip #{job} ist nicht mehr gespeichert. Speichere es aus seiner Nachricht "
        "und hänge es an (`/prüfen datei`), um es zu prüfen.",
    },
    # the answer (an embed, private)
    "verify.title.clip": {EN: "Content credentials of clip #{job}", DE: "Herkunftsnachweise von Clip #{job}"},
    "verify.title.file": {EN: "Content credentials of “{name}”", DE: "Herkunftsnachweise von „{name}“"},
    "verify.status.none": {
        EN: "**No content credentials**: nothing in this file says who or what made it.",
        DE: "**Keine Herkunftsnachweise**: Nichts in dieser Datei sagt, wer oder was sie gemacht hat.",
    },
    "verify.status.valid": {
        EN: "✅ **Signed, valid**: unchanged since it was signed.",
        DE: "✅ **Signiert, gültig**: unverändert, seit es signiert wurde.",
    },
    "verify.status.untrusted": {
        EN: "☑️ **Signed, intact**: unchanged since it was signed, by a signer this bot does not know.",
        DE: "☑️ **Signiert, intakt**: unverändert, seit es signiert wurde, von einem Unterzeichner, "
        "den dieser Bot nicht kennt.",
    },
    "verify.status.altered": {
        EN: "⚠️ **ALTERED**: this file was changed after it was signed.",
        DE: "⚠️ **VERÄNDERT**: Diese Datei wurde geändert, nachdem sie signiert wurde.",
    },
    "verify.status.invalid": {
        EN: "❌ **INVALID**: its content credentials do not check out.",
        DE: "❌ **UNGÜLTIG**: Die Herkunftsnachweise halten der Prüfung nicht stand.",
    },
    "verify.failures": {EN: "Failed checks: {codes}", DE: "Fehlgeschlagene Prüfungen: {codes}"},
    "verify.not_to_trust": {
        EN: "What the credentials say below can no longer be trusted.",
        DE: "Was die Herkunftsnachweise unten sagen, ist nicht mehr verlässlich.",
    },
    "verify.by.this_server": {
        EN: "Signed by **this server's bot**.",
        DE: "Signiert vom **Bot dieses Servers**.",
    },
    "verify.by.other_server": {
        EN: "Signed by **this videobot installation, on another server** ({server}).",
        DE: "Signiert von **dieser videobot-Installation, auf einem anderen Server** ({server}).",
    },
    "verify.by.installation": {
        EN: "Signed by **this videobot installation**, outside Discord.",
        DE: "Signiert von **dieser videobot-Installation**, außerhalb von Discord.",
    },
    "verify.by.other_videobot": {
        EN: "Signed by **another videobot**: {signer}.",
        DE: "Signiert von **einem anderen videobot**: {signer}.",
    },
    "verify.by.other_signer": {
        EN: "Signed by **another signer**: {signer}.",
        DE: "Signiert von **einem anderen Unterzeichner**: {signer}.",
    },
    "verify.claimed_signer": {
        EN: "They name as the signer: {signer}.",
        DE: "Als Unterzeichner nennen sie: {signer}.",
    },
    "verify.issued_by": {EN: "{signer} (issued by {issuer})", DE: "{signer} (ausgestellt von {issuer})"},
    "verify.unknown_signer": {EN: "unknown", DE: "unbekannt"},
    "verify.ai": {EN: "🤖 **AI-generated** by {model}.", DE: "🤖 **KI-erzeugt** von {model}."},
    "verify.ai_unnamed": {EN: "🤖 **AI-generated** by a model.", DE: "🤖 **KI-erzeugt** von einem Modell."},
    "verify.model": {EN: "Model: {model}", DE: "Modell: {model}"},
    "verify.made": {EN: "Made on {when}", DE: "Erstellt am {when}"},
    "verify.made_with": {EN: "Made on {when} with {software}", DE: "Erstellt am {when} mit {software}"},
    "verify.style": {EN: "Style: {style}", DE: "Stil: {style}"},
    "verify.authors": {EN: "By: {authors}", DE: "Von: {authors}"},
    "verify.made_from": {EN: "Made from:", DE: "Gemacht aus:"},
    "verify.kind.parentOf": {EN: "edited from", DE: "bearbeitet aus"},
    "verify.kind.componentOf": {EN: "contains", DE: "enthält"},
    "verify.kind.inputTo": {EN: "made from", DE: "gemacht aus"},
    "verify.unsigned_ingredient": {EN: "no credentials of its own", DE: "ohne eigene Herkunftsnachweise"},
    "verify.more": {EN: "…and {count} more", DE: "…und {count} weitere"},
}

__all__ = ["DE", "EN", "TEXTS"]
