"""/settings: the server's rules for videobot (members with Manage Server only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.profiles import keep_profiles
from bot.replies import answer, is_admin
from db.store import GuildSettings, SettingsError

Interaction = discord.Interaction[VideoBot]


MESSAGE_LIMIT = 2000  # Discord's limit for a message's text


def listed(items: list[str], shown: int, locale: str, empty: str) -> str:
    """The first ``shown`` of ``items``, and how many more there are ("… and 87 more")."""
    if not items:
        return empty
    text = ", ".join(items[:shown])
    if shown >= len(items):
        return text
    more = t(locale, "settings.more", count=len(items) - shown)
    return f"{text} {more}" if text else more


def summary(settings: GuildSettings, locale: str, limit: int = MESSAGE_LIMIT) -> str:
    """The server's settings in at most ``limit`` characters: a long list (allowed channels, role
    weights, blocked words) is shortened, the longest first, to its first items and how many more."""
    none = t(locale, "settings.none")
    lists = {
        "channels": [f"<#{c}>" for c in settings.allowed_channel_ids],
        "weights": [f"<@&{r}> ×{w:g}" for r, w in settings.role_weights.items()],
        "words": list(settings.blocked_words),
    }
    empty = {"channels": t(locale, "settings.all_channels"), "weights": none, "words": none}
    shown = {name: len(items) for name, items in lists.items()}

    def render() -> tuple[str, dict[str, str]]:
        parts = {name: listed(items, shown[name], locale, empty[name]) for name, items in lists.items()}
        return _summary_text(settings, locale, parts), parts

    text, parts = render()
    while len(text) > limit:
        longest = max((n for n in lists if shown[n] > 0), key=lambda n: len(parts[n]), default=None)
        if longest is None:  # nothing left to shorten (cannot happen with Discord's own limits)
            return text[: limit - 1] + "…"
        shown[longest] -= 1  # one at a time, so the lists end up about as long as one another
        text, parts = render()
    return text


def _summary_text(settings: GuildSettings, locale: str, parts: dict[str, str]) -> str:
    none = t(locale, "settings.none")
    hall = t(locale, "settings.off")
    if settings.hall_of_fame_channel_id is not None:
        hall = t(
            locale,
            "settings.hall",
            channel=f"<#{settings.hall_of_fame_channel_id}>",
            threshold=settings.hall_of_fame_threshold,
        )
    role = none if settings.challenge_winner_role_id is None else f"<@&{settings.challenge_winner_role_id}>"
    community = t(
        locale,
        "settings.community",
        hall=hall,
        hours=settings.challenge_min_member_hours,
        role=role,
        minutes=settings.story_round_minutes,
        gallery=t(locale, "yes" if settings.gallery_public else "no"),
    )
    enhance = t(locale, "settings.enhance", enabled=t(locale, "yes" if settings.enhance_prompts else "no"))
    mark = t(locale, "settings.ai_mark", enabled=t(locale, "yes" if settings.ai_mark else "no"))
    core = t(
        locale,
        "settings.summary",
        channels=parts["channels"],
        queued=settings.max_queued_per_user,
        running=settings.max_running_per_user,
        daily=settings.daily_clips_per_user,
        nsfw=t(locale, "yes" if settings.nsfw_allowed else "no"),
        weights=parts["weights"],
        words=parts["words"],
        extends=settings.max_extends,
        sound=t(locale, "yes" if settings.sound else "no"),
    )
    return f"{core}\n{enhance}\n{mark}\n{community}"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class SettingsGroup(app_commands.Group):
    def __init__(self, bot: VideoBot) -> None:
        super().__init__(
            name=_("settings", key="cmd.settings"),
            description=_("Server settings for videobot", key="cmd.settings.desc"),
        )
        self.bot = bot

    async def interaction_check(self, interaction: Interaction) -> bool:
        # default_permissions is only a default an admin can change: check the permission here too
        if is_admin(interaction):
            return True
        raise app_commands.CheckFailure(t(interaction.locale, "error.not_admin"))

    async def _save(self, interaction: Interaction, **changes: object) -> None:
        assert interaction.guild_id is not None
        locale = interaction.locale.value
        try:
            settings = await self.bot.store.settings.update_settings(interaction.guild_id, **changes)
        except SettingsError as exc:
            await answer(interaction, t(locale, f"settings_error.{exc.code}", **exc.params))
            return
        room = MESSAGE_LIMIT - len(t(locale, "settings.saved", summary=""))
        await answer(interaction, t(locale, "settings.saved", summary=summary(settings, locale, room)))

    @app_commands.command(
        name=_("show", key="cmd.settings.show"),
        description=_("Show the current settings", key="cmd.settings.show.desc"),
    )
    async def show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        settings = await self.bot.store.settings.get_settings(interaction.guild_id)
        await answer(interaction, summary(settings, interaction.locale.value))

    @app_commands.command(
        name=_("channel", key="cmd.settings.channel"),
        description=_("Allow or disallow /video in a channel", key="cmd.settings.channel.desc"),
    )
    @app_commands.rename(channel=_("channel", key="opt.channel"), allowed=_("allowed", key="opt.allowed"))
    @app_commands.describe(
        channel=_("The channel", key="opt.channel.desc"),
        allowed=_("May members use /video there?", key="opt.allowed.desc"),
    )
    async def channel(self, interaction: Interaction, channel: discord.TextChannel, allowed: bool) -> None:
        assert interaction.guild_id is not None
        current = set((await self.bot.store.settings.get_settings(interaction.guild_id)).allowed_channel_ids)
        current = current | {channel.id} if allowed else current - {channel.id}
        await self._save(interaction, allowed_channel_ids=sorted(current))

    @app_commands.command(
        name=_("limits", key="cmd.settings.limits"),
        description=_(
            "Clips per member: waiting, rendering at once, per day", key="cmd.settings.limits.desc"
        ),
    )
    @app_commands.rename(
        waiting=_("waiting", key="opt.waiting"),
        rendering=_("rendering", key="opt.rendering"),
        per_day=_("per_day", key="opt.per_day"),
    )
    @app_commands.describe(
        waiting=_("Clips a member may have waiting", key="opt.waiting.desc"),
        rendering=_("Clips a member may have rendering at once", key="opt.rendering.desc"),
        per_day=_("Clips a member may make per day", key="opt.per_day.desc"),
    )
    async def limits(
        self,
        interaction: Interaction,
        waiting: app_commands.Range[int, 0, 10_000] | None = None,
        rendering: app_commands.Range[int, 1, 10_000] | None = None,
        per_day: app_commands.Range[int, 0, 10_000] | None = None,
    ) -> None:
        changes = {
            "max_queued_per_user": waiting,
            "max_running_per_user": rendering,
            "daily_clips_per_user": per_day,
        }
        await self._save(interaction, **{k: v for k, v in changes.items() if v is not None})

    @app_commands.command(
        name=_("role-weight", key="cmd.settings.role_weight"),
        description=_(
            "Give a role a bigger (or smaller) share of the GPUs", key="cmd.settings.role_weight.desc"
        ),
    )
    @app_commands.rename(role=_("role", key="opt.role"), weight=_("weight", key="opt.weight"))
    @app_commands.describe(
        role=_("The role", key="opt.role.desc"),
        weight=_("1 is normal, 2 is twice the share; 0 removes the role's weight", key="opt.weight.desc"),
    )
    async def role_weight(
        self, interaction: Interaction, role: discord.Role, weight: app_commands.Range[float, 0, 100]
    ) -> None:
        assert interaction.guild_id is not None
        weights = dict((await self.bot.store.settings.get_settings(interaction.guild_id)).role_weights)
        if weight == 0:
            weights.pop(role.id, None)
        else:
            weights[role.id] = weight
        await self._save(interaction, role_weights=weights)

    @app_commands.command(
        name=_("blocked-word", key="cmd.settings.blocked_word"),
        description=_("Refuse prompts with a word (or allow it again)", key="cmd.settings.blocked_word.desc"),
    )
    @app_commands.rename(word=_("word", key="opt.word"), blocked=_("blocked", key="opt.blocked"))
    @app_commands.describe(
        word=_("The word", key="opt.word.desc"),
        blocked=_("Block it (or allow it again)", key="opt.blocked.desc"),
    )
    async def blocked_word(self, interaction: Interaction, word: str, blocked: bool = True) -> None:
        assert interaction.guild_id is not None
        words = list((await self.bot.store.settings.get_settings(interaction.guild_id)).blocked_words)
        word = word.strip().lower()
        words = (
            [*words, word] if blocked and word not in words else [w for w in words if w != word or blocked]
        )
        await self._save(interaction, blocked_words=words)

    @app_commands.command(
        name=_("age-restricted", key="cmd.settings.age_restricted"),
        description=_(
            "Allow blocked words in age-restricted channels", key="cmd.settings.age_restricted.desc"
        ),
    )
    @app_commands.rename(allowed=_("allowed", key="opt.allowed"))
    @app_commands.describe(
        allowed=_("Allow blocked words in age-restricted channels?", key="opt.age_allowed.desc")
    )
    async def age_restricted(self, interaction: Interaction, allowed: bool) -> None:
        await self._save(interaction, nsfw_allowed=allowed)

    @app_commands.command(
        name=_("extends", key="cmd.settings.extends"),
        description=_("How many times a clip may be extended", key="cmd.settings.extends.desc"),
    )
    @app_commands.rename(times=_("times", key="opt.times"))
    @app_commands.describe(times=_("0 turns Extend off", key="opt.times.desc"))
    async def extends(self, interaction: Interaction, times: app_commands.Range[int, 0, 50]) -> None:
        await self._save(interaction, max_extends=times)

    @app_commands.command(
        name=_("sound", key="cmd.settings.sound"),
        description=_("Keep the sound of models that make it", key="cmd.settings.sound.desc"),
    )
    @app_commands.rename(enabled=_("enabled", key="opt.enabled"))
    @app_commands.describe(enabled=_("Sound on (or muted)", key="opt.enabled.desc"))
    async def sound(self, interaction: Interaction, enabled: bool) -> None:
        await self._save(interaction, sound=enabled)

    @app_commands.command(
        name=_("enhance-prompts", key="cmd.settings.enhance"),
        description=_("Let the model rewrite prompts in more detail", key="cmd.settings.enhance.desc"),
    )
    @app_commands.rename(enabled=_("enabled", key="opt.enabled"))
    @app_commands.describe(
        enabled=_("Rewrite prompts before rendering (models that can)", key="opt.enhance_enabled.desc")
    )
    async def enhance_prompts(self, interaction: Interaction, enabled: bool) -> None:
        await self._save(interaction, enhance_prompts=enabled)

    @app_commands.command(
        name=_("ai-mark", key="cmd.settings.ai_mark"),
        description=_("Mark every new clip as made by AI, in a corner", key="cmd.settings.ai_mark.desc"),
    )
    @app_commands.rename(enabled=_("enabled", key="opt.enabled"))
    @app_commands.describe(
        enabled=_('A small "AI" in the corner of every frame (or none)', key="opt.ai_mark_enabled.desc")
    )
    async def ai_mark(self, interaction: Interaction, enabled: bool) -> None:
        await self._save(interaction, ai_mark=enabled)

    @app_commands.command(
        name=_("hall-of-fame", key="cmd.settings.hall_of_fame"),
        description=_(
            "Where the best clips are posted, and how many net 👍 put them there",
            key="cmd.settings.hall_of_fame.desc",
        ),
    )
    @app_commands.rename(
        channel=_("channel", key="opt.channel"),
        threshold=_("threshold", key="opt.threshold"),
        off=_("off", key="opt.off"),
    )
    @app_commands.describe(
        channel=_("The hall-of-fame channel", key="opt.hall_channel.desc"),
        threshold=_("Net 👍 (up less down) a clip needs", key="opt.threshold.desc"),
        off=_("Turn the hall of fame off", key="opt.hall_off.desc"),
    )
    async def hall_of_fame(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        threshold: app_commands.Range[int, 1, 10_000] | None = None,
        off: bool = False,
    ) -> None:
        changes: dict[str, object] = {}
        if off:
            changes["hall_of_fame_channel_id"] = None
        elif channel is not None:
            changes["hall_of_fame_channel_id"] = channel.id
        if threshold is not None:
            changes["hall_of_fame_threshold"] = threshold
        await self._save(interaction, **changes)
        assert interaction.guild_id is not None
        self.bot.dispatch("hall_of_fame_settings", interaction.guild_id)  # clips that now qualify go up

    @app_commands.command(
        name=_("challenges", key="cmd.settings.challenges"),
        description=_(
            "Who may vote in challenges, and the winner's role", key="cmd.settings.challenges.desc"
        ),
    )
    @app_commands.rename(
        member_hours=_("member-hours", key="opt.member_hours"),
        winner_role=_("winner-role", key="opt.winner_role"),
        no_role=_("no-role", key="opt.no_role"),
    )
    @app_commands.describe(
        member_hours=_(
            "Hours a member must have been on the server to vote in challenges", key="opt.member_hours.desc"
        ),
        winner_role=_("The role a challenge's winner gets", key="opt.winner_role.desc"),
        no_role=_("Give winners no role", key="opt.no_role.desc"),
    )
    async def challenges(
        self,
        interaction: Interaction,
        member_hours: app_commands.Range[int, 0, 8760] | None = None,
        winner_role: discord.Role | None = None,
        no_role: bool = False,
    ) -> None:
        changes: dict[str, object] = {}
        if member_hours is not None:
            changes["challenge_min_member_hours"] = member_hours
        if no_role:
            changes["challenge_winner_role_id"] = None
        elif winner_role is not None:
            changes["challenge_winner_role_id"] = winner_role.id
        await self._save(interaction, **changes)

    @app_commands.command(
        name=_("stories", key="cmd.settings.stories"),
        description=_("How long a story's round of proposals stays open", key="cmd.settings.stories.desc"),
    )
    @app_commands.rename(round_minutes=_("round-minutes", key="opt.round_minutes"))
    @app_commands.describe(round_minutes=_("Minutes a round stays open", key="opt.round_minutes.desc"))
    async def stories(
        self, interaction: Interaction, round_minutes: app_commands.Range[int, 1, 10080]
    ) -> None:
        await self._save(interaction, story_round_minutes=round_minutes)

    @app_commands.command(
        name=_("gallery", key="cmd.settings.gallery"),
        description=_(
            "Show this server's best clips in the public web gallery", key="cmd.settings.gallery.desc"
        ),
    )
    @app_commands.rename(public=_("public", key="opt.public"))
    @app_commands.describe(public=_("In the gallery (or not)", key="opt.public.desc"))
    async def gallery(self, interaction: Interaction, public: bool) -> None:
        await self._save(interaction, gallery_public=public)
        if public:  # the gallery shows the server by name from the start, not only after the next clip
            await keep_profiles(self.bot.store, interaction.guild)


class SettingsCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.group = SettingsGroup(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(SettingsCog(bot))
