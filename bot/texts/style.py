"""Texts of bot/cogs/style.py, /style: a server's library of styles (LoRAs), the /video style option and
the credit a styled clip's card gives (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN
from db.store.styles import StyleRefused

TEXTS: dict[str, dict[str, str]] = {
    "cmd.style": {EN: "style", DE: "stil"},
    "cmd.style.desc": {
        EN: "This server's styles (LoRAs) for /video",
        DE: "Die Stile (LoRAs) dieses Servers für /video",
    },
    "cmd.style.add": {EN: "add", DE: "hinzufügen"},
    "cmd.style.add.desc": {
        EN: "Add a style (a LoRA file) members can choose in /video",
        DE: "Einen Stil (eine LoRA-Datei) hinzufügen, den Mitglieder in /video wählen können",
    },
    "cmd.style.remove": {EN: "remove", DE: "entfernen"},
    "cmd.style.remove.desc": {
        EN: "Remove a style (its clips keep crediting it)",
        DE: "Einen Stil entfernen (seine Clips nennen ihn weiter)",
    },
    "cmd.style.list": {EN: "list", DE: "liste"},
    "cmd.style.list.desc": {EN: "The styles of this server", DE: "Die Stile dieses Servers"},
    "opt.style_name": {EN: "name", DE: "name"},
    "opt.style_name.desc": {
        EN: "What members choose it by (up to 50 characters)",
        DE: "Worunter Mitglieder ihn wählen (bis zu 50 Zeichen)",
    },
    "opt.style_remove.desc": {EN: "The style to remove", DE: "Der Stil, der entfernt wird"},
    "opt.source": {EN: "source", DE: "quelle"},
    "opt.source.desc": {
        EN: "Hugging Face id (Org/Repo or Org/Repo/file.safetensors) or a .safetensors path on the GPU hosts",
        DE: "Hugging-Face-Id (Org/Repo oder Org/Repo/datei.safetensors) oder ein .safetensors-Pfad",
    },
    "opt.scale": {EN: "scale", DE: "stärke"},
    "opt.scale.desc": {
        EN: "How strongly it applies: 1 as trained, 0 not at all (-2 to 2)",
        DE: "Wie stark er wirkt: 1 wie trainiert, 0 gar nicht (-2 bis 2)",
    },
    "opt.trigger": {EN: "trigger", DE: "auslöser"},
    "opt.trigger.desc": {
        EN: "Words put before every prompt, as the style's author says",
        DE: "Wörter vor jedem Prompt, wie es der Urheber des Stils angibt",
    },
    "opt.style_preset": {EN: "preset", DE: "modell"},
    "opt.style_preset.desc": {
        EN: "The model it was trained for (without it: the default model)",
        DE: "Das Modell, für das er trainiert wurde (ohne Angabe: das Standardmodell)",
    },
    "opt.author": {EN: "author", DE: "urheber"},
    "opt.author.desc": {
        EN: "Who made it: a name, or a member (@mention)",
        DE: "Wer ihn gemacht hat: ein Name oder ein Mitglied (@Erwähnung)",
    },
    "opt.license": {EN: "license", DE: "lizenz"},
    "opt.license.desc": {EN: "Its license, e.g. CC BY 4.0", DE: "Seine Lizenz, z. B. CC BY 4.0"},
    "opt.link": {EN: "link", DE: "link"},
    "opt.link.desc": {
        EN: "Where it comes from (an https:// link)",
        DE: "Woher er stammt (ein https://-Link)",
    },
    "opt.style": {EN: "style", DE: "stil"},
    "opt.style.desc": {
        EN: "One of this server's styles (see /style list)",
        DE: "Einer der Stile dieses Servers (siehe /style list)",
    },
    # /style add and remove: what the admin is told
    "style.not_admin": {
        EN: "Only members who may manage the server can add or remove styles.",
        DE: "Stile dürfen nur Mitglieder hinzufügen oder entfernen, die den Server verwalten dürfen.",
    },
    "style.added": {
        EN: "Added the style **{name}** for {model}. Members choose it with /video style:{name}.",
        DE: "Stil **{name}** für {model} hinzugefügt. Mitglieder wählen ihn mit /video stil:{name}.",
    },
    "style.removed": {
        EN: "Removed the style **{name}**; its clips keep crediting it.",
        DE: "Stil **{name}** entfernt; seine Clips nennen ihn weiter.",
    },
    "style.bad_name": {
        EN: "A style's name is one line of 1 to {limit} characters.",
        DE: "Der Name eines Stils ist eine Zeile mit 1 bis {limit} Zeichen.",
    },
    "style.bad_source": {
        EN: "“{source}” is no LoRA: give a Hugging Face id (Org/Repo or Org/Repo/file.safetensors) "
        "or the path of a .safetensors file on the GPU hosts.",
        DE: "„{source}“ ist keine LoRA: gib eine Hugging-Face-Id (Org/Repo oder Org/Repo/datei.safetensors) "
        "oder den Pfad einer .safetensors-Datei auf den GPU-Rechnern an.",
    },
    "style.bad_scale": {
        EN: "A style's scale is between {low} and {high}; you gave {value}.",
        DE: "Die Stärke eines Stils liegt zwischen {low} und {high}; du hast {value} angegeben.",
    },
    "style.bad_author": {
        EN: "The author is a name or one member's @mention, not both (up to {limit} characters).",
        DE: "Der Urheber ist ein Name oder die @Erwähnung eines Mitglieds, nicht beides "
        "(bis zu {limit} Zeichen).",
    },
    "style.bad_link": {
        EN: "The link must be an https:// address (up to {limit} characters).",
        DE: "Der Link muss eine https://-Adresse sein (bis zu {limit} Zeichen).",
    },
    "style.bad_text": {
        EN: "{field} is one line of up to {limit} characters.",
        DE: "{field} ist eine Zeile mit bis zu {limit} Zeichen.",
    },
    "style.unknown_preset": {
        EN: "There is no model called “{preset}”. Choose one of: {choices}.",
        DE: "Es gibt kein Modell namens „{preset}“. Wähle eines von: {choices}.",
    },
    # /style list
    "style.list_title": {EN: "Styles of this server", DE: "Stile dieses Servers"},
    "style.list_empty": {
        EN: "This server has no styles yet. Admins add them with /style add.",
        DE: "Dieser Server hat noch keine Stile. Admins fügen sie mit /style add hinzu.",
    },
    "style.line": {
        EN: "• {credit} · {model} · scale {scale}",
        DE: "• {credit} · {model} · Stärke {scale}",
    },
    "style.line_trigger": {EN: "trigger words: {trigger}", DE: "Auslösewörter: {trigger}"},
    "style.line_broken": {
        EN: "⚠️ broken, members cannot choose it: {reason}",
        DE: "⚠️ defekt, Mitglieder können ihn nicht wählen: {reason}",
    },
    # the credit on a clip's card, its details and /show (a member is shown, never pinged)
    "embed.style": {EN: "Style", DE: "Stil"},
    "embed.trigger": {EN: "Style's trigger words", DE: "Auslösewörter des Stils"},
    "embed.style_link": {EN: "Where the style comes from", DE: "Woher der Stil stammt"},
    "style.credit_by": {EN: "{name} by {author}", DE: "{name} von {author}"},
    # /video style: refusals, each private: nothing is queued
    "style.unknown": {
        EN: "This server has no style called “{name}”: /style list shows its styles.",
        DE: "Dieser Server hat keinen Stil namens „{name}“: /style list zeigt seine Stile.",
    },
    "style.gone": {
        EN: "The style of clip #{job} has been removed from this server, so it cannot be made with it again.",
        DE: "Der Stil von Clip #{job} wurde von diesem Server entfernt, "
        "deshalb lässt er sich damit nicht noch einmal machen.",
    },
    "style.gone_new": {
        EN: "The style “{name}” has been removed from this server.",
        DE: "Der Stil „{name}“ wurde von diesem Server entfernt.",
    },
    "style.broken": {
        EN: "The style “{name}” does not work at the moment; the server's admins see why in /style list.",
        DE: "Der Stil „{name}“ funktioniert gerade nicht; "
        "die Admins des Servers sehen in /style list, warum.",
    },
    "style.wrong_model": {
        EN: "The style “{name}” fits {fits}, not {model}: choose one of those with model:.",
        DE: "Der Stil „{name}“ passt zu {fits}, nicht zu {model}: wähle eines davon mit modell:.",
    },
}

# German for the style library's refusals; the English is db.store.StyleRefused.MESSAGES
STYLE_ERRORS_DE: dict[str, str] = {
    "exists": "Dieser Server hat schon einen Stil namens „{name}“; "
    "entferne ihn zuerst oder wähle einen anderen Namen.",
    "too_many": "Dieser Server hat {limit} Stile, mehr geht nicht; entferne zuerst einen.",
    "unknown": "Dieser Server hat keinen Stil namens „{name}“.",
}
TEXTS.update(
    {
        f"style_error.{code}": {EN: english, DE: STYLE_ERRORS_DE[code]}
        for code, english in StyleRefused.MESSAGES.items()
    }
)

__all__ = ["DE", "EN", "TEXTS"]
