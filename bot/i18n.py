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
from db.store import CapExceeded

EN = "en"
DE = "de"

CATALOG: dict[str, dict[str, str]] = {
    # commands and options (names: lowercase, no spaces, as Discord requires)
    "cmd.video": {EN: "video", DE: "video"},
    "cmd.video.desc": {
        EN: "Make a short video clip from text",
        DE: "Erzeuge einen kurzen Videoclip aus Text",
    },
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
    "cmd.queue.desc": {
        EN: "Your jobs and the queue ahead of you",
        DE: "Deine Aufträge und die Warteschlange",
    },
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
    # replies and status messages
    "error.generic": {
        EN: "Something went wrong on our side (error {ref}). Please try again; the admins can look it up.",
        DE: "Bei uns ist etwas schiefgegangen (Fehler {ref}). Bitte versuch es noch einmal; die Admins können nachsehen.",
    },
    "error.guild_only": {
        EN: "This command works in servers only.",
        DE: "Dieser Befehl funktioniert nur auf Servern.",
    },
    "error.channel": {
        EN: "/video is not used in this channel. Try {channels}.",
        DE: "/video ist in diesem Kanal nicht freigegeben. Versuch es in {channels}.",
    },
    "error.blocked_word": {
        EN: "Your prompt contains a word this server does not allow (“{word}”).",
        DE: "Deine Beschreibung enthält ein Wort, das dieser Server nicht erlaubt („{word}“).",
    },
    "error.model_offline": {
        EN: "No GPU worker serves {model} right now. Choose one of: {choices}.",
        DE: "Gerade rendert kein GPU-Worker {model}. Wähle eines von: {choices}.",
    },
    "queued.no_workers": {
        EN: "No GPU worker is online right now; your clip will wait until one starts.",
        DE: "Gerade ist kein GPU-Worker online; dein Clip wartet, bis einer startet.",
    },
    "error.unknown_job": {
        EN: "There is no clip #{job} on this server.",
        DE: "Auf diesem Server gibt es keinen Clip #{job}.",
    },
    "error.not_yours": {
        EN: "Only the author or a moderator can do that.",
        DE: "Das dürfen nur die Person, die den Clip erstellt hat, oder Moderatoren.",
    },
    "error.not_done": {EN: "Clip #{job} is not finished.", DE: "Clip #{job} ist nicht fertig."},
    "error.media_gone": {
        EN: "The video of clip #{job} is no longer stored.",
        DE: "Das Video von Clip #{job} ist nicht mehr gespeichert.",
    },
    "queued.ack": {EN: "Queued as #{job}: {where}.", DE: "Eingereiht als #{job}: {where}."},
    "queued.where": {
        EN: "position {position}, ready in about {eta}",
        DE: "Position {position}, fertig in etwa {eta}",
    },
    "queued.where_no_eta": {EN: "position {position}", DE: "Position {position}"},
    "status.queued": {EN: "⏳ Waiting — position {position}", DE: "⏳ Wartet — Position {position}"},
    "status.queued_eta": {
        EN: "⏳ Waiting — position {position}, ready in about {eta}",
        DE: "⏳ Wartet — Position {position}, fertig in etwa {eta}",
    },
    "status.running": {
        EN: "🎬 Rendering {bar} {step}/{total} steps",
        DE: "🎬 Rendert {bar} {step}/{total} Schritte",
    },
    "status.starting": {EN: "🎬 Starting…", DE: "🎬 Startet…"},
    "status.encoding": {EN: "📦 Encoding…", DE: "📦 Wird kodiert…"},
    "status.done": {EN: "✅ Done: {link}", DE: "✅ Fertig: {link}"},
    "status.failed": {EN: "❌ Failed: {reason}", DE: "❌ Fehlgeschlagen: {reason}"},
    "status.cancelled": {EN: "🚫 Cancelled.", DE: "🚫 Abgebrochen."},
    "status.header": {
        EN: "{kind}**{prompt}** — {author} · #{job}",
        DE: "{kind}**{prompt}** — {author} · #{job}",
    },
    "kind.reroll": {EN: "🔁 Reroll of #{parent}: ", DE: "🔁 Neuer Seed für #{parent}: "},
    "kind.remix": {EN: "✏️ Remix of #{parent}: ", DE: "✏️ Remix von #{parent}: "},
    "eta.seconds": {EN: "{n} s", DE: "{n} s"},
    "eta.minutes": {EN: "{n} min", DE: "{n} Min."},
    "eta.hours": {EN: "{n} h", DE: "{n} Std."},
    "embed.author": {EN: "Author", DE: "Von"},
    "embed.model": {EN: "Model", DE: "Modell"},
    "embed.seed": {EN: "Seed", DE: "Seed"},
    "embed.length": {EN: "Length", DE: "Länge"},
    "embed.render_time": {EN: "Render time", DE: "Renderzeit"},
    "embed.steps": {EN: "Steps", DE: "Schritte"},
    "embed.guidance": {EN: "Guidance", DE: "Guidance"},
    "embed.size": {EN: "Size", DE: "Größe"},
    "embed.negative": {EN: "Negative prompt", DE: "Ohne"},
    "embed.votes": {EN: "Votes", DE: "Stimmen"},
    "embed.parent": {EN: "Made from", DE: "Entstanden aus"},
    "thread.name": {EN: "#{job} {prompt}", DE: "#{job} {prompt}"},
    "vote.own": {
        EN: "You cannot vote on your own clip.",
        DE: "Du kannst nicht für deinen eigenen Clip abstimmen.",
    },
    "vote.done_only": {
        EN: "Only finished clips can be voted on.",
        DE: "Nur fertige Clips können bewertet werden.",
    },
    "remix.title": {EN: "Remix #{job}", DE: "Remix von #{job}"},
    "remix.prompt": {EN: "Prompt", DE: "Beschreibung"},
    "deleted": {EN: "Clip #{job} was deleted.", DE: "Clip #{job} wurde gelöscht."},
    "cancel.done": {EN: "Cancelled #{job}.", DE: "#{job} abgebrochen."},
    "cancel.none": {
        EN: "You have no clip waiting or rendering.",
        DE: "Du hast keinen wartenden oder laufenden Clip.",
    },
    "cancel.too_late": {EN: "#{job} has already finished.", DE: "#{job} ist schon fertig."},
    "queue.title": {EN: "Your clips", DE: "Deine Clips"},
    "queue.empty": {
        EN: "You have no clip waiting or rendering. {total} waiting on this server.",
        DE: "Du hast keinen wartenden oder laufenden Clip. Auf diesem Server warten {total}.",
    },
    "queue.line_running": {
        EN: "#{job} **{prompt}** — rendering, {percent}%",
        DE: "#{job} **{prompt}** — rendert, {percent} %",
    },
    "queue.line_queued": {
        EN: "#{job} **{prompt}** — position {position}, ready in about {eta}",
        DE: "#{job} **{prompt}** — Position {position}, fertig in etwa {eta}",
    },
    "queue.line_queued_no_eta": {
        EN: "#{job} **{prompt}** — position {position}",
        DE: "#{job} **{prompt}** — Position {position}",
    },
    "queue.footer": {
        EN: "{workers} GPU worker(s) online · {total} clip(s) waiting on this server",
        DE: "{workers} GPU-Worker online · {total} Clip(s) warten auf diesem Server",
    },
    "top.title": {EN: "Best clips — {period}", DE: "Beste Clips — {period}"},
    "top.empty": {
        EN: "No voted clips in this period yet.",
        DE: "In diesem Zeitraum gibt es noch keine bewerteten Clips.",
    },
    "settings.saved": {EN: "Saved. {summary}", DE: "Gespeichert. {summary}"},
    "settings.summary": {
        EN: "Channels: {channels} · waiting per member: {queued} · rendering per member: {running} · per day: {daily} · blocked words allowed in age-restricted channels: {nsfw} · role weights: {weights} · blocked words: {words}",
        DE: "Kanäle: {channels} · wartend pro Person: {queued} · rendernd pro Person: {running} · pro Tag: {daily} · gesperrte Wörter in altersbeschränkten Kanälen erlaubt: {nsfw} · Rollengewichte: {weights} · gesperrte Wörter: {words}",
    },
    "settings.all_channels": {EN: "all", DE: "alle"},
    "settings.none": {EN: "none", DE: "keine"},
    "yes": {EN: "yes", DE: "ja"},
    "no": {EN: "no", DE: "nein"},
}

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

# German for the job store's refusals; the English is db.store.CapExceeded.MESSAGES
CAP_ERRORS_DE: dict[str, str] = {
    "too_many_queued": "Du hast schon {count} wartende Clips (erlaubt sind {limit}); warte, bis einer startet, oder brich einen ab.",
    "daily_limit": "Du hast in den letzten 24 Stunden {limit} Clips erstellt, das Tageslimit; der nächste geht in {retry_after_min} Minuten.",
}
CATALOG.update(
    {f"cap.{code}": {EN: english, DE: CAP_ERRORS_DE[code]} for code, english in CapExceeded.MESSAGES.items()}
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
