"""English and German: command names, descriptions, choices and every reply.

Strings are looked up by key. Slash-command text goes through discord.py's ``Translator`` (Discord shows
each member the names in their client's language); replies use :func:`t` with the interaction's locale.
A key missing in German falls back to English, never to the key.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from db.spec import SpecError

EN = "en"
DE = "de"

CATALOG: dict[str, dict[str, str]] = {
    # commands and options (names: lowercase, no spaces, as Discord requires)
    "cmd.video": {EN: "video", DE: "video"},
    "cmd.video.desc": {EN: "Make a short video clip from text", DE: "Erzeuge einen kurzen Videoclip aus Text"},
    "opt.prompt": {EN: "prompt", DE: "beschreibung"},
    "opt.prompt.desc": {EN: "What the clip shows", DE: "Was der Clip zeigt"},
    "opt.negative": {EN: "negative", DE: "ohne"},
    "opt.negative.desc": {EN: "What the clip should not show", DE: "Was der Clip nicht zeigen soll"},
    "opt.seconds": {EN: "seconds", DE: "sekunden"},
    "opt.seconds.desc": {EN: "Length of the clip", DE: "Länge des Clips"},
    "opt.aspect": {EN: "aspect", DE: "format"},
    "opt.aspect.desc": {EN: "Aspect ratio", DE: "Seitenverhältnis"},
    "opt.model": {EN: "model", DE: "modell"},
    "opt.model.desc": {EN: "Which model renders it", DE: "Welches Modell ihn rendert"},
    "opt.seed": {EN: "seed", DE: "seed"},
    "opt.seed.desc": {EN: "Same seed, same clip", DE: "Gleicher Seed, gleicher Clip"},
    "opt.job": {EN: "job", DE: "auftrag"},
    "opt.job.desc": {EN: "Job number", DE: "Auftragsnummer"},
    "opt.period": {EN: "period", DE: "zeitraum"},
    "opt.period.desc": {EN: "Which period", DE: "Welcher Zeitraum"},
    "cmd.queue": {EN: "queue", DE: "warteschlange"},
    "cmd.queue.desc": {EN: "Your jobs and the queue ahead of you", DE: "Deine Aufträge und die Warteschlange"},
    "cmd.cancel": {EN: "cancel", DE: "abbrechen"},
    "cmd.cancel.desc": {EN: "Cancel a job of yours", DE: "Einen deiner Aufträge abbrechen"},
    "cmd.top": {EN: "top", DE: "top"},
    "cmd.top.desc": {EN: "The best-voted clips", DE: "Die bestbewerteten Clips"},
    "cmd.show": {EN: "show", DE: "zeigen"},
    "cmd.show.desc": {EN: "Post a clip again, with working buttons", DE: "Einen Clip erneut posten"},
    "cmd.settings": {EN: "settings", DE: "einstellungen"},
    "cmd.settings.desc": {EN: "Server settings for videobot", DE: "Servereinstellungen für videobot"},
    "period.day": {EN: "Today", DE: "Heute"},
    "period.week": {EN: "This week", DE: "Diese Woche"},
    "period.month": {EN: "This month", DE: "Diesen Monat"},
    "period.all": {EN: "All time", DE: "Insgesamt"},
}  # fmt: skip

# German for the spec errors; the English is db.spec.SpecError.MESSAGES
SPEC_ERRORS_DE: dict[str, str] = {
    "prompt_empty": "Die Beschreibung ist leer: beschreibe den Clip, den du möchtest.",
    "prompt_too_long": "Die Beschreibung hat {length} Zeichen; erlaubt sind {limit}.",
    "negative_too_long": "„ohne“ hat {length} Zeichen; erlaubt sind {limit}.",
    "unknown_model": "Es gibt kein Modell „{model}“. Wähle eines von: {choices}.",
    "bad_model_folder": "Der Modellordner ist nicht nutzbar: {reason}",
    "unknown_aspect": "{model} rendert kein {aspect}. Wähle eines von: {choices}.",
    "seconds_out_of_range": "{model} macht Clips von {low}–{high} Sekunden; du wolltest {value}.",
    "steps_out_of_range": "{model} nimmt 1–{high} Schritte; du wolltest {value}.",
    "guidance_out_of_range": "Guidance muss zwischen {low} und {high} liegen; du wolltest {value}.",
    "fps_out_of_range": "Die Bildrate muss zwischen {low} und {high} fps liegen; du wolltest {value}.",
    "seed_out_of_range": "Der Seed muss eine ganze Zahl von 0 bis {high} sein; du hast {value} angegeben.",
}
CATALOG.update(
    {f"spec.{code}": {EN: english, DE: SPEC_ERRORS_DE[code]} for code, english in SpecError.MESSAGES.items()}
)


def language(locale: discord.Locale | str | None) -> str:
    """'de' for every German locale, 'en' for everything else."""
    value = locale.value if isinstance(locale, discord.Locale) else (locale or "")
    return DE if value.lower().startswith("de") else EN


def t(locale: discord.Locale | str | None, key: str, **params: Any) -> str:
    """The text for ``key`` in the member's language, with ``params`` filled in."""
    entry = CATALOG[key]
    text = entry.get(language(locale)) or entry[EN]
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in CATALOG


class CatalogTranslator(app_commands.Translator):
    """Gives Discord the German names and descriptions of commands, options and choices."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext,
    ) -> str | None:
        key = string.extras.get("key")
        if key is None or language(locale) == EN or key not in CATALOG:
            return None
        return CATALOG[key].get(DE)
