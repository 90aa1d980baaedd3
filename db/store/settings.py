"""The store's part for each server's settings (caps, weights, channels): ``store.settings``.

Its queries are in ``db/sql/settings.sql``. :func:`read_settings` is the one read, inside any
transaction: the job queue reads the caps in the transaction that enqueues.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db.store.connector import Transaction
from db.store.models import GuildSettings, validated_settings_changes
from db.store.part import Part


async def read_settings(tx: Transaction, guild_id: int) -> GuildSettings:
    """A server's settings, or the defaults when it never changed one."""
    row = await tx.fetch_one("get_settings", guild_id=guild_id)
    return GuildSettings(guild_id) if row is None else GuildSettings.from_row(row)


class SettingsStore(Part):
    async def get_settings(self, guild_id: int) -> GuildSettings:
        async with self._db.transaction(write=False) as tx:
            return await read_settings(tx, guild_id)

    async def update_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (``max_queued_per_user=5``, ``role_weights={role: 2.0}`` …); the result.
        Raises :class:`SettingsError` naming a bad field."""
        clean = validated_settings_changes(changes)
        async with self._db.transaction() as tx:
            settings = replace(await read_settings(tx, guild_id), **clean)
            await tx.execute("upsert_settings", now=self.clock(), **settings.to_row())
        return settings
