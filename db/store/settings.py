"""The store's part for each server's settings (caps, weights, channels): ``store.settings``.

Its queries are in ``db/sql/settings.sql``. :func:`read_settings` is the one read, a step of any
transaction: the job queue reads the caps in the transaction that enqueues.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db.store.connector import Script, execute, one
from db.store.models import GuildSettings, validated_settings_changes
from db.store.part import Part


def read_settings(guild_id: int) -> Script[GuildSettings]:
    """A server's settings, or the defaults when it never changed one (a step of any transaction:
    ``settings = yield from read_settings(guild_id)``)."""
    row = yield one("get_settings", guild_id=guild_id)
    return GuildSettings(guild_id) if row is None else GuildSettings.from_row(row)


class SettingsStore(Part):
    async def get_settings(self, guild_id: int) -> GuildSettings:
        return await self._db.run(lambda: read_settings(guild_id), write=False)

    async def update_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (``max_queued_per_user=5``, ``role_weights={role: 2.0}`` …); the result.
        Raises :class:`SettingsError` naming a bad field."""
        clean = validated_settings_changes(changes)
        now = self.clock()

        def update() -> Script[GuildSettings]:
            settings = replace((yield from read_settings(guild_id)), **clean)
            yield execute("upsert_settings", now=now, **settings.to_row())
            return settings

        return await self._db.run(update)
