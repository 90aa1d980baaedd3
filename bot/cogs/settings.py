"""/settings: the server's rules for videobot (members with Manage Server only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.cogs.video import answer
from bot.i18n import t
from db.store import GuildSettings, SettingsError

Interaction = discord.Interaction[VideoBot]


def summary(settings: GuildSettings, locale: str) -> str:
    none = t(locale, "settings.none")
    channels = ", ".join(f"<#{c}>" for c in settings.allowed_channel_ids) or t(
        locale, "settings.all_channels"
    )
    weights = ", ".join(f"<@&{r}> ×{w:g}" for r, w in settings.role_weights.items()) or none
    return t(
        locale,
        "settings.summary",
        channels=channels,
        queued=settings.max_queued_per_user,
        running=settings.max_running_per_user,
        daily=settings.daily_clips_per_user,
        nsfw=t(locale, "yes" if settings.nsfw_allowed else "no"),
        weights=weights,
        words=", ".join(settings.blocked_words) or none,
    )


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
        if interaction.permissions.manage_guild or interaction.permissions.administrator:
            return True
        raise app_commands.CheckFailure(t(interaction.locale, "error.not_yours"))

    async def _save(self, interaction: Interaction, **changes: object) -> None:
        assert interaction.guild_id is not None
        locale = interaction.locale.value
        try:
            settings = await self.bot.store.update_settings(interaction.guild_id, **changes)
        except SettingsError as exc:
            await answer(interaction, str(exc))
            return
        await answer(interaction, t(locale, "settings.saved", summary=summary(settings, locale)))

    @app_commands.command(name="show", description="Show the current settings")
    async def show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        settings = await self.bot.store.get_settings(interaction.guild_id)
        await answer(interaction, summary(settings, interaction.locale.value))

    @app_commands.command(name="channel", description="Allow or disallow /video in a channel")
    @app_commands.describe(channel="The channel", allowed="May members use /video there?")
    async def channel(self, interaction: Interaction, channel: discord.TextChannel, allowed: bool) -> None:
        assert interaction.guild_id is not None
        current = set((await self.bot.store.get_settings(interaction.guild_id)).allowed_channel_ids)
        current = current | {channel.id} if allowed else current - {channel.id}
        await self._save(interaction, allowed_channel_ids=sorted(current))

    @app_commands.command(name="limits", description="Clips per member: waiting, rendering at once, per day")
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
        name="role-weight", description="Give a role a bigger (or smaller) share of the GPUs"
    )
    @app_commands.describe(weight="1 is normal, 2 is twice the share; 0 removes the role's weight")
    async def role_weight(
        self, interaction: Interaction, role: discord.Role, weight: app_commands.Range[float, 0, 100]
    ) -> None:
        assert interaction.guild_id is not None
        weights = dict((await self.bot.store.get_settings(interaction.guild_id)).role_weights)
        if weight == 0:
            weights.pop(role.id, None)
        else:
            weights[role.id] = weight
        await self._save(interaction, role_weights=weights)

    @app_commands.command(name="blocked-word", description="Refuse prompts with a word (or allow it again)")
    async def blocked_word(self, interaction: Interaction, word: str, blocked: bool = True) -> None:
        assert interaction.guild_id is not None
        words = list((await self.bot.store.get_settings(interaction.guild_id)).blocked_words)
        word = word.strip().lower()
        words = (
            [*words, word] if blocked and word not in words else [w for w in words if w != word or blocked]
        )
        await self._save(interaction, blocked_words=words)

    @app_commands.command(name="age-restricted", description="Allow blocked words in age-restricted channels")
    async def age_restricted(self, interaction: Interaction, allowed: bool) -> None:
        await self._save(interaction, nsfw_allowed=allowed)


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
