"""Texts of bot/cogs/story.py (see :mod:`bot.texts`)."""

from __future__ import annotations

from bot.texts import DE, EN
from db.store.stories import StoryRefused

STORY_REFUSED_DE = {
    "no_round": "Diese Geschichte nimmt gerade keine Vorschläge an: Szene {scene} wird gerade gemacht.",
    "finished": "Diese Geschichte ist fertig.",
    "already_proposed": "Du hast Szene {scene} schon vorgeschlagen; warte auf die nächste Runde.",
    "own_proposal": "Du kannst nicht für deinen eigenen Vorschlag stimmen.",
    "round_over": "Die Runde für Szene {scene} ist vorbei.",
    "unknown_proposal": "Diesen Vorschlag gibt es nicht mehr.",
    "too_many_scenes": "Diese Geschichte hat {limit} Szenen, so viele wie erlaubt; beende sie.",
    "closing": "Diese Geschichte wird abgeschlossen: ihre letzte Szene, zurück zum ersten Bild, "
    "wird gerade gemacht.",
    "posting": "Diese Geschichte ist fertig: ihr Film ist unterwegs und wird gepostet, sobald Discord ihn "
    "annimmt.",
}

TEXTS: dict[str, dict[str, str]] = {
    "cmd.story": {EN: "story", DE: "geschichte"},
    "cmd.story.desc": {
        EN: "A story told together, scene by scene",
        DE: "Eine gemeinsame Geschichte, Szene für Szene",
    },
    "cmd.story.start": {EN: "start", DE: "starten"},
    "cmd.story.start.desc": {
        EN: "Start a story: a thread with its first scene",
        DE: "Eine Geschichte beginnen: ein Thread mit ihrer ersten Szene",
    },
    "cmd.story.next": {EN: "next", DE: "weiter"},
    "cmd.story.next.desc": {
        EN: "Propose the story's next scene",
        DE: "Die nächste Szene der Geschichte vorschlagen",
    },
    "cmd.story.close": {EN: "close", DE: "schliessen"},
    "cmd.story.close.desc": {
        EN: "End the round now: the most voted proposal is made (moderators)",
        DE: "Die Runde jetzt beenden: der Vorschlag mit den meisten Stimmen wird gemacht (Moderation)",
    },
    "cmd.story.finish": {EN: "finish", DE: "beenden"},
    "cmd.story.finish.desc": {
        EN: "Finish the story and post the whole film",
        DE: "Die Geschichte beenden und den ganzen Film posten",
    },
    "opt.title": {EN: "title", DE: "titel"},
    "opt.title.desc": {EN: "The story's title", DE: "Der Titel der Geschichte"},
    "opt.story_prompt.desc": {EN: "What the first scene shows", DE: "Was die erste Szene zeigt"},
    "opt.next_prompt.desc": {EN: "What happens next", DE: "Was als Nächstes passiert"},
    "opt.scene_end_image.desc": {
        EN: "A picture the scene ends on (PNG, JPEG or WebP)",
        DE: "Ein Bild, auf dem die Szene endet (PNG, JPEG oder WebP)",
    },
    "opt.story_loop.desc": {
        EN: "First a last scene back to the first frame, so the film loops",
        DE: "Zuerst eine letzte Szene zurück zum ersten Bild, damit der Film in Schleife läuft",
    },
    "story.announce": {
        EN: "📖 **{title}**: a story told together, started by {author}. Follow it in the thread.",
        DE: "📖 **{title}**: eine gemeinsame Geschichte, begonnen von {author}. Verfolge sie im Thread.",
    },
    "story.started": {
        EN: "Your story has begun in {thread}: scene 1 is queued as #{job} ({where}).",
        DE: "Deine Geschichte hat in {thread} begonnen: Szene 1 ist als #{job} eingereiht ({where}).",
    },
    "story.not_started": {
        EN: "This story could not start: its first scene was not queued.",
        DE: "Diese Geschichte konnte nicht beginnen: ihre erste Szene wurde nicht eingereiht.",
    },
    "story.need_channel": {
        EN: "Start a story in a text channel of the server: it gets a thread of its own.",
        DE: "Beginne eine Geschichte in einem Textkanal des Servers: sie bekommt einen eigenen Thread.",
    },
    "story.empty": {EN: "Write a title and what happens.", DE: "Schreib einen Titel und was passiert."},
    "story.not_here": {
        EN: "This is not a story's thread. Use this command in the thread of a story.",
        DE: "Das ist nicht der Thread einer Geschichte. Nutze diesen Befehl im Thread einer Geschichte.",
    },
    "story.round_open": {
        EN: "🎬 Scene {scene} is here. Propose scene {next} with `/story next`, and vote with 👍; "
        "the round ends {ends}.",
        DE: "🎬 Szene {scene} ist da. Schlag Szene {next} mit `/geschichte weiter` vor und stimme mit 👍 ab; "
        "die Runde endet {ends}.",
    },
    "story.full": {
        EN: "🎬 Scene {scene} is here: the story has {limit} scenes, the most a story may have. "
        "Its starter can post the film with `/story finish`.",
        DE: "🎬 Szene {scene} ist da: die Geschichte hat {limit} Szenen, so viele wie erlaubt. "
        "Wer sie begonnen hat, kann den Film mit `/geschichte beenden` posten.",
    },
    "story.scene_failed": {
        EN: "Scene {scene} could not be made. The round is open again: propose and vote; it ends {ends}.",
        DE: "Szene {scene} konnte nicht gemacht werden. Die Runde ist wieder offen: "
        "schlag vor und stimme ab; sie endet {ends}.",
    },
    "story.scene_source_deleted": {
        EN: "Scene {scene} could not be made: the scene it went on from was deleted. The round is open "
        "again, and the story goes on from the last scene that is still there; it ends {ends}.",
        DE: "Szene {scene} konnte nicht gemacht werden: die Szene, an die sie anschloss, wurde gelöscht. "
        "Die Runde ist wieder offen, und die Geschichte geht von der letzten Szene weiter, die noch da "
        "ist; sie endet {ends}.",
    },
    "story.nothing_left": {
        EN: "Every scene of this story was deleted, so it ends without a film.",
        DE: "Jede Szene dieser Geschichte wurde gelöscht, also endet sie ohne Film.",
    },
    "story.film_coming": {
        EN: "The story is finished, but its film could not be posted just now. It is tried again until "
        "it is posted in {channel}; you need not do anything.",
        DE: "Die Geschichte ist fertig, aber ihr Film ließ sich gerade nicht posten. Es wird wieder "
        "versucht, bis er in {channel} gepostet ist; du musst nichts tun.",
    },
    "story.film_delayed": {
        EN: "🎞️ The film could not be posted in {channel} just now (Discord refused it, or I may not "
        "attach files there). It is tried again until it is posted.",
        DE: "🎞️ Der Film ließ sich gerade nicht in {channel} posten (Discord hat ihn abgelehnt, oder ich "
        "darf dort keine Dateien anhängen). Es wird wieder versucht, bis er gepostet ist.",
    },
    "story.film_given_up": {
        EN: "🎞️ The film could not be posted in {channel} (the channel is gone, I was not allowed to "
        "post there, or Discord kept refusing it), so I stopped trying: the story ends without it.",
        DE: "🎞️ Der Film ließ sich nicht in {channel} posten (der Kanal ist weg, ich durfte dort nicht "
        "posten, oder Discord hat ihn immer wieder abgelehnt), also versuche ich es nicht mehr: die "
        "Geschichte endet ohne ihn.",
    },
    "story.first_failed": {
        EN: "The first scene could not be made, so this story ends here. "
        "Start a new one with `/story start`.",
        DE: "Die erste Szene konnte nicht gemacht werden, also endet diese Geschichte hier. "
        "Beginne eine neue mit `/geschichte starten`.",
    },
    "story.no_proposals": {
        EN: "⏳ Nobody has proposed the next scene yet, so the round stays open: "
        "its time starts again with the first proposal.",
        DE: "⏳ Noch niemand hat die nächste Szene vorgeschlagen, also bleibt die Runde offen: "
        "ihre Zeit beginnt mit dem ersten Vorschlag von vorn.",
    },
    "story.proposal": {
        EN: "💡 Proposal for scene {scene} by {author}: **{prompt}**",
        DE: "💡 Vorschlag für Szene {scene} von {author}: **{prompt}**",
    },
    "story.proposal_picture": {
        EN: "💡 Proposal for scene {scene} by {author}: **{prompt}**, ending on this picture",
        DE: "💡 Vorschlag für Szene {scene} von {author}: **{prompt}**, endet auf diesem Bild",
    },
    "story.proposed": {
        EN: "Your proposal for scene {scene} is posted. Others can vote for it with 👍.",
        DE: "Dein Vorschlag für Szene {scene} ist gepostet. Andere können mit 👍 dafür stimmen.",
    },
    "story.winner": {
        EN: "🏆 Scene {scene}: the proposal of {author} wins with {votes} votes: **{prompt}**. "
        "It is queued now.",
        DE: "🏆 Szene {scene}: der Vorschlag von {author} gewinnt mit {votes} Stimmen: **{prompt}**. "
        "Er wird jetzt eingereiht.",
    },
    "story.author_busy": {
        EN: "{author} has too many clips waiting for scene {scene} to be queued; "
        "it is queued as soon as one starts.",
        DE: "{author} hat zu viele Clips in der Warteschlange, um Szene {scene} einzureihen; "
        "sie wird eingereiht, sobald einer startet.",
    },
    "story.moderators_only": {
        EN: "Only moderators can close a round early.",
        DE: "Nur die Moderation kann eine Runde früher schließen.",
    },
    "story.no_round_open": {
        EN: "No round is open in this story right now.",
        DE: "In dieser Geschichte ist gerade keine Runde offen.",
    },
    "story.nothing_proposed": {
        EN: "Nobody has proposed the next scene yet, so the round stays open.",
        DE: "Noch niemand hat die nächste Szene vorgeschlagen, also bleibt die Runde offen.",
    },
    "story.closed": {
        EN: "The round is closed: scene {scene} is queued.",
        DE: "Die Runde ist geschlossen: Szene {scene} wird eingereiht.",
    },
    "story.starter_only": {
        EN: "Only the story's starter or a moderator can finish it.",
        DE: "Nur wer die Geschichte begonnen hat oder die Moderation kann sie beenden.",
    },
    "story.still_rendering": {
        EN: "Scene {scene} is still being made; finish the story once it is posted.",
        DE: "Szene {scene} wird noch gemacht; beende die Geschichte, sobald sie gepostet ist.",
    },
    "story.film_failed": {
        EN: "The film could not be made to fit this server's upload limit.",
        DE: "Der Film ließ sich nicht an das Upload-Limit dieses Servers anpassen.",
    },
    "story.film_title": {EN: "🎞️ {title}", DE: "🎞️ {title}"},
    "story.film": {
        EN: "🎞️ **{title}**: the whole film, {scenes} scenes, by {authors}.",
        DE: "🎞️ **{title}**: der ganze Film, {scenes} Szenen, von {authors}.",
    },
    "story.film_loop": {
        EN: "🎞️ **{title}**: the whole film, {scenes} scenes and back to its first frame, "
        "so it plays on repeat; by {authors}.",
        DE: "🎞️ **{title}**: der ganze Film, {scenes} Szenen und zurück zu seinem ersten Bild, "
        "so läuft er in Schleife; von {authors}.",
    },
    "story.credit_loop": {
        EN: "**♾️ Back to the start** by {author}: {prompt}",
        DE: "**♾️ Zurück zum Anfang** von {author}: {prompt}",
    },
    "story.closing": {
        EN: "♾️ {author} closes the story into a loop: a last scene that returns to the first frame "
        "is queued. The film is posted once it is made.",
        DE: "♾️ {author} schließt die Geschichte zu einer Schleife: eine letzte Szene, die zum ersten "
        "Bild zurückkehrt, ist eingereiht. Der Film wird gepostet, sobald sie fertig ist.",
    },
    "story.closing_queued": {
        EN: "The scene back to the first frame is queued as #{job} ({where}); "
        "the film is posted once it is made.",
        DE: "Die Szene zurück zum ersten Bild ist als #{job} eingereiht ({where}); "
        "der Film wird gepostet, sobald sie fertig ist.",
    },
    "story.loop_failed": {
        EN: "♾️ The scene back to the first frame could not be made, so the film is posted without the loop.",
        DE: "♾️ Die Szene zurück zum ersten Bild konnte nicht gemacht werden, "
        "also wird der Film ohne die Schleife gepostet.",
    },
    "story.film_part": {EN: "Part {part} of {parts}", DE: "Teil {part} von {parts}"},
    "story.credit": {
        EN: "**Scene {scene}** by {author}: {prompt}",
        DE: "**Szene {scene}** von {author}: {prompt}",
    },
    "story.finished_thread": {
        EN: "🎞️ The story is finished; its film is posted. Thank you, everyone!",
        DE: "🎞️ Die Geschichte ist fertig; ihr Film ist gepostet. Danke an alle!",
    },
    "story.finished": {
        EN: "The film is posted ({parts} file(s)).",
        DE: "Der Film ist gepostet ({parts} Datei(en)).",
    },
}
TEXTS.update(
    {
        f"story_refused.{code}": {EN: english, DE: STORY_REFUSED_DE[code]}
        for code, english in StoryRefused.MESSAGES.items()
    }
)

__all__ = ["DE", "EN", "TEXTS"]
