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
    "opt.gallery_name": {EN: "gallery-name", DE: "galerie-name"},
    "opt.gallery_name.desc": {
        EN: "Name you with your clips in the web gallery and in their content credentials (or not)",
        DE: "Deinen Namen bei deinen Clips in der Web-Galerie und ihren Herkunftsnachweisen zeigen",
    },
    "me.gallery": {EN: "Web gallery", DE: "Web-Galerie"},
    "me.gallery.named": {
        EN: "Your clips show your name, {name}. `/me gallery-name:False` hides it.",
        DE: "Deine Clips zeigen deinen Namen, {name}. `/ich galerie-name:False` blendet ihn aus.",
    },
    "me.gallery.anonymous": {
        EN: "Your clips show “a member of {server}”, not your name. `/me gallery-name:True` shows it.",
        DE: "Deine Clips zeigen „a member of {server}“ (ein Mitglied von {server}), nicht deinen Namen. "
        "`/ich galerie-name:True` zeigt ihn.",
    },
    "me.gallery.not_public": {
        EN: "(This server does not share its gallery on the web at the moment.)",
        DE: "(Dieser Server teilt seine Galerie zurzeit nicht im Web.)",
    },
    "me.gallery_name.on": {
        EN: "Done: the web gallery now names you {name} with your clips. Clips you make from now on "
        "carry that name in their content credentials too, wherever the file goes.",
        DE: "Erledigt: Die Web-Galerie nennt dich bei deinen Clips jetzt {name}. Clips, die du von jetzt "
        "an machst, tragen den Namen auch in ihren Herkunftsnachweisen, wohin die Datei auch geht.",
    },
    "me.gallery_name.off": {
        EN: "Done: the web gallery shows “a member of {server}” with your clips, and the name it kept "
        "is deleted. New clips' content credentials say the same; clips signed while you agreed keep "
        "your name (a signed file cannot be changed).",
        DE: "Erledigt: Die Web-Galerie zeigt bei deinen Clips „a member of {server}“ (ein Mitglied von "
        "{server}), und der gespeicherte Name ist gelöscht. Die Herkunftsnachweise neuer Clips sagen "
        "dasselbe; Clips, die signiert wurden, während du zugestimmt hattest, behalten deinen Namen "
        "(eine signierte Datei lässt sich nicht ändern).",
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
