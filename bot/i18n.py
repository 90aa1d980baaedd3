"""English and German: command names, descriptions, choices and every reply.

Strings are looked up by key. Slash-command text goes through discord.py's ``Translator`` (Discord shows
each member the names in their client's language); replies use :func:`t` with the interaction's locale.
A key missing in German falls back to English, never to the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.texts import DE, EN
from bot.texts import bridge as _bridge_texts
from bot.texts import challenge as _challenge_texts
from bot.texts import halloffame as _halloffame_texts
from bot.texts import me as _me_texts
from bot.texts import stats as _stats_texts
from bot.texts import story as _story_texts
from bot.texts import style as _style_texts
from bot.texts import verify as _verify_texts
from db.failures import FAILURE_MESSAGES
from db.spec import SpecError
from db.store import CapExceeded, SettingsError, VoteRefused

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
    # /settings: its subcommands and options
    "cmd.settings.show": {EN: "show", DE: "anzeigen"},
    "cmd.settings.show.desc": {EN: "Show the current settings", DE: "Die aktuellen Einstellungen zeigen"},
    "cmd.settings.channel": {EN: "channel", DE: "kanal"},
    "cmd.settings.channel.desc": {
        EN: "Allow or disallow /video in a channel",
        DE: "/video in einem Kanal erlauben oder verbieten",
    },
    "opt.channel": {EN: "channel", DE: "kanal"},
    "opt.channel.desc": {EN: "The channel", DE: "Der Kanal"},
    "opt.allowed": {EN: "allowed", DE: "erlaubt"},
    "opt.allowed.desc": {EN: "May members use /video there?", DE: "Dürfen Mitglieder dort /video nutzen?"},
    "cmd.settings.limits": {EN: "limits", DE: "limits"},
    "cmd.settings.limits.desc": {
        EN: "Clips per member: waiting, rendering at once, per day",
        DE: "Clips pro Person: wartend, gleichzeitig rendernd, pro Tag",
    },
    "opt.waiting": {EN: "waiting", DE: "wartend"},
    "opt.waiting.desc": {EN: "Clips a member may have waiting", DE: "Wartende Clips pro Person"},
    "opt.rendering": {EN: "rendering", DE: "rendernd"},
    "opt.rendering.desc": {
        EN: "Clips a member may have rendering at once",
        DE: "Gleichzeitig rendernde Clips pro Person",
    },
    "opt.per_day": {EN: "per_day", DE: "pro_tag"},
    "opt.per_day.desc": {EN: "Clips a member may make per day", DE: "Clips pro Person und Tag"},
    "cmd.settings.role_weight": {EN: "role-weight", DE: "rollengewicht"},
    "cmd.settings.role_weight.desc": {
        EN: "Give a role a bigger (or smaller) share of the GPUs",
        DE: "Einer Rolle einen größeren (oder kleineren) Anteil an den GPUs geben",
    },
    "opt.role": {EN: "role", DE: "rolle"},
    "opt.role.desc": {EN: "The role", DE: "Die Rolle"},
    "opt.weight": {EN: "weight", DE: "gewicht"},
    "opt.weight.desc": {
        EN: "1 is normal, 2 is twice the share; 0 removes the role's weight",
        DE: "1 ist normal, 2 der doppelte Anteil; 0 entfernt das Gewicht der Rolle",
    },
    "cmd.settings.blocked_word": {EN: "blocked-word", DE: "gesperrtes-wort"},
    "cmd.settings.blocked_word.desc": {
        EN: "Refuse prompts with a word (or allow it again)",
        DE: "Beschreibungen mit einem Wort ablehnen (oder es wieder erlauben)",
    },
    "opt.word": {EN: "word", DE: "wort"},
    "opt.word.desc": {EN: "The word", DE: "Das Wort"},
    "opt.blocked": {EN: "blocked", DE: "gesperrt"},
    "opt.blocked.desc": {EN: "Block it (or allow it again)", DE: "Sperren (oder wieder erlauben)"},
    "cmd.settings.age_restricted": {EN: "age-restricted", DE: "altersbeschränkt"},
    "cmd.settings.age_restricted.desc": {
        EN: "Allow blocked words in age-restricted channels",
        DE: "Gesperrte Wörter in altersbeschränkten Kanälen erlauben",
    },
    "opt.age_allowed.desc": {
        EN: "Allow blocked words in age-restricted channels?",
        DE: "Gesperrte Wörter in altersbeschränkten Kanälen erlauben?",
    },
    "aspect.16x9": {EN: "16:9 landscape", DE: "16:9 Querformat"},
    "aspect.9x16": {EN: "9:16 portrait (phones)", DE: "9:16 Hochformat (Handys)"},
    "aspect.1x1": {EN: "1:1 square", DE: "1:1 quadratisch"},
    "aspect.3x2": {EN: "3:2 landscape", DE: "3:2 Querformat"},
    "aspect.2x3": {EN: "2:3 portrait", DE: "2:3 Hochformat"},
    "cmd.settings.extends": {EN: "extends", DE: "verlängerungen"},
    "cmd.settings.extends.desc": {
        EN: "How many times a clip may be extended",
        DE: "Wie oft ein Clip verlängert werden darf",
    },
    "opt.times": {EN: "times", DE: "anzahl"},
    "opt.times.desc": {EN: "0 turns Extend off", DE: "0 schaltet das Verlängern ab"},
    "cmd.settings.sound": {EN: "sound", DE: "ton"},
    "cmd.settings.sound.desc": {
        EN: "Keep the sound of models that make it",
        DE: "Den Ton von Modellen behalten, die einen erzeugen",
    },
    "opt.enabled": {EN: "enabled", DE: "an"},
    "opt.enabled.desc": {EN: "Sound on (or muted)", DE: "Ton an (oder stumm)"},
    "period.day": {EN: "Today", DE: "Heute"},
    "period.week": {EN: "This week", DE: "Diese Woche"},
    "period.month": {EN: "This month", DE: "Diesen Monat"},
    "period.all": {EN: "All time", DE: "Insgesamt"},
    # replies and status messages
    "error.generic": {
        EN: "Something went wrong on our side (error {ref}). Please try again; the admins can look it up.",
        DE: "Bei uns ist etwas schiefgegangen (Fehler {ref}). Bitte versuch es noch einmal; die Admins können nachsehen.",
    },
    # the job store is away (down, restarting, full): nothing was done, and it is nobody's fault here
    "error.store_unavailable": {
        EN: "The queue is unavailable right now. Please try again in a minute.",
        DE: "Die Warteschlange ist gerade nicht erreichbar. Bitte versuch es in einer Minute noch einmal.",
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
    "error.not_admin": {
        EN: "Only members who may manage the server can change these settings.",
        DE: "Diese Einstellungen dürfen nur Mitglieder ändern, die den Server verwalten dürfen.",
    },
    "queued.worker_reconnecting": {
        EN: "A GPU worker lost touch with the queue a moment ago; your clip begins as soon as it is back.",
        DE: "Ein GPU-Worker hat gerade die Verbindung zur Warteschlange verloren; dein Clip beginnt, sobald er zurück ist.",
    },
    "queued.worker_starting": {
        EN: "A GPU worker is starting; your clip begins as soon as it is ready.",
        DE: "Ein GPU-Worker startet gerade; dein Clip beginnt, sobald er bereit ist.",
    },
    "picture.too_big": {
        EN: "Your picture is {size_mib} MiB; pictures may have at most {limit_mib} MiB.",
        DE: "Dein Bild hat {size_mib} MiB; erlaubt sind höchstens {limit_mib} MiB.",
    },
    "picture.not_a_picture": {
        EN: "That file is not a picture I can read: attach a PNG, JPEG or WebP.",
        DE: "Diese Datei ist kein Bild, das ich lesen kann: hänge ein PNG, JPEG oder WebP an.",
    },
    "picture.bad_size": {
        EN: "Your picture is {width}×{height} pixels; each side must be {low}–{high} pixels.",
        DE: "Dein Bild hat {width}×{height} Pixel; jede Seite muss {low}–{high} Pixel haben.",
    },
    "extend.limit": {
        EN: "This clip cannot be extended again: this server allows {limit} extends per chain.",
        DE: "Dieser Clip kann nicht weiter verlängert werden: dieser Server erlaubt {limit} Verlängerungen pro Kette.",
    },
    "extend.off": {
        EN: "Extend is turned off on this server.",
        DE: "Verlängern ist auf diesem Server abgeschaltet.",
    },
    "extend.title": {EN: "Extend #{job}", DE: "#{job} verlängern"},
    "extend.prompt": {EN: "What happens next", DE: "Wie es weitergeht"},
    # the Extend form's second field: the clip's style is kept unless another is named (empty: none)
    "extend.style": {EN: "Style (empty: none)", DE: "Stil (leer: keiner)"},
    "kind.extend": {EN: "➕ Extend of #{parent}: ", DE: "➕ Verlängerung von #{parent}: "},
    "embed.credits": {EN: "Credits", DE: "Mitwirkende"},
    "credit.new": {EN: "#{job} by {author}", DE: "#{job} von {author}"},
    "credit.reroll": {EN: "🔁 #{job} by {author}", DE: "🔁 #{job} von {author}"},
    "credit.remix": {EN: "✏️ #{job} by {author}", DE: "✏️ #{job} von {author}"},
    "credit.extend": {EN: "➕ #{job} by {author}", DE: "➕ #{job} von {author}"},
    "credit.hd": {EN: "⬆️ HD #{job} by {author}", DE: "⬆️ HD #{job} von {author}"},
    "kind.hd": {EN: "⬆️ HD of #{parent}: ", DE: "⬆️ HD-Fassung von #{parent}: "},
    "hd.unavailable": {
        EN: "{model} makes no HD versions: only clips of a model with an upsampler have one.",
        DE: "{model} macht keine HD-Fassungen: nur Clips eines Modells mit Upsampler haben eine.",
    },
    "hd.exists_done": {
        EN: "Clip #{parent} already has its HD version: {link}",
        DE: "Clip #{parent} hat schon seine HD-Fassung: {link}",
    },
    "hd.exists_queued": {
        EN: "The HD version of #{parent} is already queued as #{job}: {where}.",
        DE: "Die HD-Fassung von #{parent} wartet schon als #{job}: {where}.",
    },
    "hd.exists_running": {
        EN: "The HD version of #{parent} is being rendered now as #{job}.",
        DE: "Die HD-Fassung von #{parent} wird gerade als #{job} gerendert.",
    },
    "hd.exists_unposted": {
        EN: "The HD version of #{parent} is done as #{job} and about to be posted in its thread.",
        DE: "Die HD-Fassung von #{parent} ist als #{job} fertig und wird gleich im Thread gepostet.",
    },
    "retention.hd_gone": {
        EN: "Clip #{job} is older than {days} days: its video is no longer stored, so it has no HD version.",
        DE: "Clip #{job} ist älter als {days} Tage: sein Video ist nicht mehr gespeichert, also gibt es keine HD-Fassung.",
    },
    "opt.image": {EN: "image", DE: "bild"},
    "opt.image.desc": {
        EN: "A picture to animate (PNG, JPEG or WebP): the clip starts from it",
        DE: "Ein Bild zum Animieren (PNG, JPEG oder WebP): der Clip beginnt damit",
    },
    "error.not_this_clip": {
        EN: "Clip #{job}'s buttons work only under clip #{job}.",
        DE: "Die Knöpfe von Clip #{job} funktionieren nur unter Clip #{job}.",
    },
    "error.not_done": {EN: "Clip #{job} is not finished.", DE: "Clip #{job} ist nicht fertig."},
    "show.age_restricted": {
        EN: "Clip #{job} was made in an age-restricted channel, so it can be shown only in an age-restricted channel.",
        DE: "Clip #{job} wurde in einem altersbeschränkten Kanal erstellt und kann deshalb nur in einem altersbeschränkten Kanal gezeigt werden.",
    },
    "error.media_gone": {
        EN: "The video of clip #{job} is no longer stored.",
        DE: "Das Video von Clip #{job} ist nicht mehr gespeichert.",
    },
    # media retention (bot/cogs/retention.py): clips and pictures are kept {days} days after posting
    "retention.original_gone": {
        EN: "Clip #{job} is older than {days} days, so its video is no longer stored here, and its original message in Discord is gone too.",
        DE: "Clip #{job} ist älter als {days} Tage, deshalb ist sein Video hier nicht mehr gespeichert, und seine ursprüngliche Nachricht in Discord gibt es auch nicht mehr.",
    },
    "retention.extend_gone": {
        EN: "Clip #{job} is older than {days} days: its video is no longer stored, so it cannot be extended.",
        DE: "Clip #{job} ist älter als {days} Tage: sein Video ist nicht mehr gespeichert, deshalb kann er nicht verlängert werden.",
    },
    "retention.picture_gone": {
        EN: "The picture clip #{job} started from is kept only {days} days and is no longer stored. Start a new clip with /video and the picture.",
        DE: "Das Bild, mit dem Clip #{job} beginnt, wird nur {days} Tage aufbewahrt und ist nicht mehr gespeichert. Starte einen neuen Clip mit /video und dem Bild.",
    },
    "queued.ack": {EN: "Queued as #{job}: {where}.", DE: "Eingereiht als #{job}: {where}."},
    "queued.where": {
        EN: "position {position}, ready in about {eta}",
        DE: "Position {position}, fertig in etwa {eta}",
    },
    "queued.where_no_eta": {EN: "position {position}", DE: "Position {position}"},
    "status.queued": {EN: "⏳ Waiting — position {position}", DE: "⏳ Wartet — Position {position}"},
    "status.store_away": {
        EN: "⏸️ The queue is unreachable for a moment. Your clip is safe; this message moves on once it is back.",
        DE: "⏸️ Die Warteschlange ist gerade nicht erreichbar. Dein Clip ist sicher; diese Nachricht geht weiter, sobald sie zurück ist.",
    },
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
    "embed.ai_made": {EN: "🤖 AI-generated video · {model}", DE: "🤖 KI-generiertes Video · {model}"},
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
        EN: "Channels: {channels} · waiting per member: {queued} · rendering per member: {running} · per day: {daily} · blocked words allowed in age-restricted channels: {nsfw} · role weights: {weights} · blocked words: {words} · extends per clip: {extends} · sound: {sound}",
        DE: "Kanäle: {channels} · wartend pro Person: {queued} · rendernd pro Person: {running} · pro Tag: {daily} · gesperrte Wörter in altersbeschränkten Kanälen erlaubt: {nsfw} · Rollengewichte: {weights} · gesperrte Wörter: {words} · Verlängerungen pro Clip: {extends} · Ton: {sound}",
    },
    "settings.community": {
        EN: "Hall of fame: {hall} · challenge votes from members who joined {hours} h ago or earlier · challenge winner's role: {role} · story rounds: {minutes} min · in the web gallery: {gallery}",
        DE: "Ruhmeshalle: {hall} · in Challenges stimmen ab, wer seit mindestens {hours} Std. auf dem Server ist · Rolle für Challenge-Gewinner: {role} · Story-Runden: {minutes} Min. · in der Web-Galerie: {gallery}",
    },
    "settings.hall": {EN: "{channel} from {threshold} net 👍", DE: "{channel} ab {threshold} 👍 (netto)"},
    "settings.off": {EN: "off", DE: "aus"},
    "cmd.settings.hall_of_fame": {EN: "hall-of-fame", DE: "ruhmeshalle"},
    "cmd.settings.hall_of_fame.desc": {
        EN: "Where the best clips are posted, and how many net 👍 put them there",
        DE: "Wo die besten Clips gezeigt werden, und ab wie vielen 👍 (netto)",
    },
    "opt.hall_channel.desc": {EN: "The hall-of-fame channel", DE: "Der Kanal der Ruhmeshalle"},
    "opt.threshold": {EN: "threshold", DE: "schwelle"},
    "opt.threshold.desc": {
        EN: "Net 👍 (up less down) a clip needs",
        DE: "👍 (dafür weniger dagegen), die ein Clip braucht",
    },
    "opt.off": {EN: "off", DE: "aus"},
    "opt.hall_off.desc": {EN: "Turn the hall of fame off", DE: "Die Ruhmeshalle abschalten"},
    "cmd.settings.challenges": {EN: "challenges", DE: "challenges"},
    "cmd.settings.challenges.desc": {
        EN: "Who may vote in challenges, and the winner's role",
        DE: "Wer in Challenges abstimmen darf, und die Rolle des Gewinners",
    },
    "opt.member_hours": {EN: "member-hours", DE: "mitglied-stunden"},
    "opt.member_hours.desc": {
        EN: "Hours a member must have been on the server to vote in challenges",
        DE: "Stunden, die jemand auf dem Server sein muss, um in Challenges abzustimmen",
    },
    "opt.winner_role": {EN: "winner-role", DE: "gewinner-rolle"},
    "opt.winner_role.desc": {
        EN: "The role a challenge's winner gets",
        DE: "Die Rolle, die ein Challenge-Gewinner bekommt",
    },
    "opt.no_role.desc": {EN: "Give winners no role", DE: "Gewinnern keine Rolle geben"},
    "opt.no_role": {EN: "no-role", DE: "keine-rolle"},
    "cmd.settings.gallery": {EN: "gallery", DE: "galerie"},
    "cmd.settings.gallery.desc": {
        EN: "Show this server's best clips in the public web gallery",
        DE: "Die besten Clips dieses Servers in der öffentlichen Web-Galerie zeigen",
    },
    "opt.public": {EN: "public", DE: "öffentlich"},
    "opt.public.desc": {EN: "In the gallery (or not)", DE: "In der Galerie (oder nicht)"},
    "cmd.settings.stories": {EN: "stories", DE: "geschichten"},
    "cmd.settings.stories.desc": {
        EN: "How long a story's round of proposals stays open",
        DE: "Wie lange eine Vorschlagsrunde einer Geschichte offen bleibt",
    },
    "opt.round_minutes": {EN: "round-minutes", DE: "runden-minuten"},
    "opt.round_minutes.desc": {EN: "Minutes a round stays open", DE: "Minuten, die eine Runde offen bleibt"},
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
    "no_image": "{model} kann nicht von einem Bild ausgehen. Diese Modelle können es: {choices}.",
    "no_continue": "{model} kann keinen Clip fortsetzen. Diese Modelle können es: {choices}.",
    "image_and_continue": "Ein Clip beginnt entweder mit einem Bild oder setzt einen Clip fort, nicht beides.",
    "no_hd": "{model} macht keine HD-Fassungen. Diese Modelle können es: {choices}.",
    "no_end": "{model} kann nicht auf einem Bild enden. Diese Modelle können es: {choices}.",
    "no_loop": "{model} kann keine Schleife machen. Diese Modelle können es: {choices}.",
    "loop_and_end": "Eine Schleife endet auf ihrem eigenen ersten Bild: sie nimmt kein Endbild.",
    "no_bridge": "{model} kann keine zwei Clips verbinden. Diese Modelle können es: {choices}.",
    "bridge_and_pictures": "Eine Brücke beginnt auf einem Clip und endet auf einem anderen: sie nimmt keine Bilder.",
    "prompt_not_utf8": "Die Beschreibung ist kein gültiger UTF-8-Text; tippe sie neu oder prüfe die Kodierung.",
    "negative_not_utf8": "„ohne“ ist kein gültiger UTF-8-Text; tippe es neu oder prüfe es.",
    "not_text": "{field} muss Text sein; du hast {value} angegeben.",
    "not_whole_number": "{field} muss eine ganze Zahl sein; du hast {value} angegeben.",
    "not_a_number": "{field} muss eine Zahl sein; du hast {value} angegeben.",
    "bad_lora": "Ein Stil ist eine LoRA-Datei mit ihrer Stärke; {value} ist keins von beidem.",
    "too_many_loras": "Ein Clip nimmt höchstens {limit} Stile; du hast {count} angegeben.",
    "lora_scale_out_of_range": "Die Stärke eines Stils muss zwischen {low} und {high} liegen; du hast {value} angegeben.",
}
CATALOG.update(
    {f"spec.{code}": {EN: english, DE: SPEC_ERRORS_DE[code]} for code, english in SpecError.MESSAGES.items()}
)

# German for the job store's refusals; the English is db.store.CapExceeded.MESSAGES
CAP_ERRORS_DE: dict[str, str] = {
    "too_many_queued": "Du hast schon {count} wartende Clips (erlaubt sind {limit}); warte, bis einer startet, oder brich einen ab.",
    "daily_limit": "Du hast in den letzten 24 Stunden {limit} Clips erstellt, das Tageslimit; der nächste geht in {retry_after_min} Minuten.",
    "hd_exists": "Clip #{parent} hat schon seine HD-Fassung: #{job}.",
}
CATALOG.update(
    {f"cap.{code}": {EN: english, DE: CAP_ERRORS_DE[code]} for code, english in CapExceeded.MESSAGES.items()}
)


# German for the failure codes; the English is db.failures.FAILURE_MESSAGES
FAILURES_DE: dict[str, str] = {
    "out_of_memory": "Der GPU ist für diesen Clip der Speicher ausgegangen. Versuch weniger Sekunden oder ein anderes Modell.",
    "model_unavailable": "Das Modell {model} ist auf diesem Rechner nicht verfügbar.",
    "pipeline_error": "Das Modell ist beim Rendern gescheitert ({error}).",
    "worker_error": "Auf dem GPU-Worker ist etwas schiefgegangen; die Admins sehen den Grund in seinem Log.",
    "encode_failed": "Der Clip ließ sich nicht innerhalb von Discords Upload-Grenze ({limit_mib} MiB) kodieren.",
    "store_failed": "Der fertige Clip konnte nicht gespeichert werden.",
    "gave_up": "Der GPU-Worker, der diesen Clip renderte, hat {attempts}-mal nicht mehr geantwortet; wir geben auf.",
    "media_unreadable": "Der fertige Clip ließ sich zum Posten nicht lesen.",
    "too_large_to_post": "Der Clip ({size}) ist zu groß für diesen Server: Discord hat den Upload abgelehnt.",
    "input_missing": "Das Bild, mit dem dieser Clip beginnt, ist nicht mehr gespeichert.",
    "end_input_missing": "Das Bild, auf dem dieser Clip endet, ist nicht mehr gespeichert.",
    "parent_missing": "Clip #{job}, den dieser fortsetzt, ist nicht mehr gespeichert.",
    "bridge_end_missing": "Clip #{job}, zu dem diese Brücke führt, ist nicht mehr gespeichert.",
    "lora_unusable": "Der Stil {style} passt nicht zu {model}: {reason}.",
    "lora_unavailable": "Der Stil {style} ließ sich nicht laden: {reason}.",
    "parent_unreadable": "Der Clip, der fortgesetzt werden soll, lässt sich nicht lesen.",
    "source_deleted": "Clip #{job}, aus dem dieser gemacht wird, wurde gelöscht.",
    "channel_gone": "Der Kanal oder Thread, in dem dieser Clip erscheinen sollte, wurde gelöscht, oder der Bot hat den Server verlassen.",
    "cannot_post_here": "Der Bot darf in diesem Kanal nicht posten (ein Admin hat ihm die Berechtigung entzogen).",
    "cancelled_by_author": "Von der Person abgebrochen, die ihn erstellt hat.",
    "cancelled_by_moderator": "Von einem Moderator abgebrochen.",
    "no_image_support": "{model} kann nicht von einem Bild ausgehen.",
    "no_continue_support": "{model} kann keinen Clip fortsetzen.",
    "unusable_input": "Das Bild oder der Clip, von dem aus es weitergehen soll, lässt sich nicht verwenden: {reason}.",
}
CATALOG.update(
    {f"failure.{code}": {EN: english, DE: FAILURES_DE[code]} for code, english in FAILURE_MESSAGES.items()}
)

# German for the refusals of votes and settings; the English is in db.store
VOTE_ERRORS_DE: dict[str, str] = {
    "own_clip": "Du kannst nicht für deinen eigenen Clip abstimmen.",
    "not_a_clip": "Nur fertige Clips können bewertet werden.",
    "bad_value": "Eine Stimme ist dafür (+1), dagegen (-1) oder zurückgezogen (0); {value} ist nichts davon.",
}
CATALOG.update(
    {
        f"vote.{code}": {EN: english, DE: VOTE_ERRORS_DE[code]}
        for code, english in VoteRefused.MESSAGES.items()
    }
)
SETTINGS_ERRORS_DE: dict[str, str] = {
    "unknown_setting": "Unbekannte Einstellung(en): {names}.",
    "bad_count": "{name} muss eine ganze Zahl von {lowest} bis {highest} sein.",
    "bad_id": "{name} muss einen Kanal oder eine Rolle nennen.",
    "bad_weight": "Rollengewichte müssen zwischen 0,1 und 100 liegen.",
    "bad_words": "Gesperrte Wörter müssen eine Liste von Wörtern sein.",
}
CATALOG.update(
    {
        f"settings_error.{code}": {EN: english, DE: SETTINGS_ERRORS_DE[code]}
        for code, english in SettingsError.MESSAGES.items()
    }
)

# prompt enhancement (the model rewrites a prompt in more detail): /settings enhance-prompts, the details
CATALOG.update(
    {
        "cmd.settings.enhance": {EN: "enhance-prompts", DE: "prompts-verbessern"},
        "cmd.settings.enhance.desc": {
            EN: "Let the model rewrite prompts in more detail",
            DE: "Das Modell Prompts ausführlicher umschreiben lassen",
        },
        "opt.enhance_enabled.desc": {
            EN: "Rewrite prompts before rendering (models that can)",
            DE: "Prompts vor dem Rendern umschreiben (Modelle, die das können)",
        },
        "settings.enhance": {
            EN: "Prompts enhanced by the model: {enabled}",
            DE: "Prompts vom Modell verbessert: {enabled}",
        },
        "embed.enhanced": {EN: "Enhanced prompt", DE: "Verbesserter Prompt"},
    }
)

# the visible AI mark (issue 21, the EU AI Act's Article 50): /settings ai-mark
CATALOG.update(
    {
        "cmd.settings.ai_mark": {EN: "ai-mark", DE: "ki-kennzeichen"},
        "cmd.settings.ai_mark.desc": {
            EN: "Mark every new clip as made by AI, in a corner",
            DE: "Jeden neuen Clip in einer Ecke als KI-erzeugt kennzeichnen",
        },
        "opt.ai_mark_enabled.desc": {
            EN: 'A small "AI" in the corner of every frame (or none)',
            DE: "Ein kleines „KI“ in der Ecke jedes Bildes (oder keines)",
        },
        "settings.ai_mark": {
            EN: "AI mark on new clips: {enabled}",
            DE: "KI-Kennzeichen auf neuen Clips: {enabled}",
        },
    }
)

# keyframes (issue 19): /video end_image and loop, the ♾️ Loop button under a clip
CATALOG.update(
    {
        "opt.end_image": {EN: "end_image", DE: "endbild"},
        "opt.end_image.desc": {
            EN: "A picture the clip ends on (PNG, JPEG or WebP)",
            DE: "Ein Bild, auf dem der Clip endet (PNG, JPEG oder WebP)",
        },
        "opt.loop": {EN: "loop", DE: "schleife"},
        "opt.loop.desc": {
            EN: "End on the first frame, so the clip plays seamlessly on repeat",
            DE: "Auf dem ersten Bild enden, damit der Clip nahtlos in Schleife läuft",
        },
        "loop.unavailable": {
            EN: "{model} makes no loops: only clips of a model that can loop have a Loop button.",
            DE: "{model} macht keine Schleifen: nur Clips eines Modells, das Schleifen kann, haben einen Schleifen-Knopf.",
        },
        "loop.no_frame": {
            EN: "The first frame of clip #{job} could not be read, so it cannot be looped.",
            DE: "Das erste Bild von Clip #{job} ließ sich nicht lesen, deshalb kann er nicht zur Schleife werden.",
        },
        "retention.loop_gone": {
            EN: "Clip #{job} is older than {days} days: its video is no longer stored, so it cannot be looped.",
            DE: "Clip #{job} ist älter als {days} Tage: sein Video ist nicht mehr gespeichert, deshalb kann er nicht zur Schleife werden.",
        },
        "retention.end_picture_gone": {
            EN: "The picture clip #{job} ends on is kept only {days} days and is no longer stored. Start a new clip with /video and the picture.",
            DE: "Das Bild, auf dem Clip #{job} endet, wird nur {days} Tage aufbewahrt und ist nicht mehr gespeichert. Starte einen neuen Clip mit /video und dem Bild.",
        },
        # for a job kind "loop" (db.store.JobKind), once the store has one
        "kind.loop": {EN: "♾️ Loop of #{parent}: ", DE: "♾️ Schleife aus #{parent}: "},
        "credit.loop": {EN: "♾️ #{job} by {author}", DE: "♾️ #{job} von {author}"},
    }
)

# the bot's own permissions where a clip would be posted (bot.submit.check_may_post), named as Discord's
# channel settings name them, so an admin finds them; and the /settings summary's shortened lists
CATALOG.update(
    {
        "error.bot_permissions": {
            EN: "videobot cannot post clips in this channel: it lacks {missing} here. Ask an admin to allow it in the channel's settings (Permissions), or use another channel. Nothing was queued.",
            DE: "videobot kann in diesem Kanal keine Clips posten: Dazu fehlt ihm hier {missing}. Bitte die Admins, das in den Kanaleinstellungen (Berechtigungen) zu erlauben, oder nimm einen anderen Kanal. Es wurde nichts eingereiht.",
        },
        "perm.view_channel": {EN: "“View Channel”", DE: "„Kanal ansehen“"},
        "perm.send_messages": {EN: "“Send Messages”", DE: "„Nachrichten senden“"},
        "perm.send_messages_in_threads": {
            EN: "“Send Messages in Threads”",
            DE: "„Nachrichten in Threads senden“",
        },
        "perm.attach_files": {EN: "“Attach Files”", DE: "„Dateien anhängen“"},
        "perm.embed_links": {EN: "“Embed Links”", DE: "„Links einbetten“"},
        "settings.more": {EN: "… and {count} more", DE: "… und {count} weitere"},
    }
)

for _part in (
    _halloffame_texts,
    _challenge_texts,
    _story_texts,
    _me_texts,
    _stats_texts,
    _bridge_texts,
    _style_texts,
    _verify_texts,
):
    _twice = set(_part.TEXTS) & set(CATALOG)
    assert not _twice, f"catalog keys defined twice: {sorted(_twice)}"
    CATALOG.update(_part.TEXTS)


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


def coded(
    locale: discord.Locale | str | None, prefix: str, code: str, params: Mapping[str, Any]
) -> str | None:
    """The text for an error code of the store, spec or generator (``prefix.code``); None if unknown."""
    key = f"{prefix}.{code}"
    if key not in CATALOG:
        return None
    try:
        return t(locale, key, **params)
    except (KeyError, IndexError, ValueError):  # a row from an older version with other parameters
        return None


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
