"""The store itself: one small object holding the connector and the media, with a part per feature."""

from __future__ import annotations

import time

from db.media import MediaStore
from db.store.challenges import ChallengeStore
from db.store.connector import Connector, load_migrations
from db.store.credentials import CredentialStore
from db.store.gallery import GalleryStore
from db.store.halloffame import HallOfFameStore
from db.store.jobs import JobQueue
from db.store.metrics import MetricsStore
from db.store.models import SchemaTooNew
from db.store.part import Clock
from db.store.profiles import ProfileStore
from db.store.retention import RetentionStore
from db.store.settings import SettingsStore
from db.store.shards import ShardStore
from db.store.stats import StatsStore
from db.store.stories import StoryStore
from db.store.styles import StyleStore
from db.store.votes import VoteStore
from db.store.workers import WorkerStore


class Store:
    """Durable, fair job queue shared by the bot and the GPU workers, and the community's data. Open
    it with :func:`db.store.open_store`; the module docstring of :mod:`db.store` lists every part."""

    def __init__(self, connector: Connector, media: MediaStore, clock: Clock = time.time) -> None:
        self._db = connector
        self._media = media
        self.clock = clock
        parts = (connector, media, clock)
        self.jobs = JobQueue(*parts)
        self.workers = WorkerStore(*parts)
        self.votes = VoteStore(*parts)
        self.settings = SettingsStore(*parts)
        self.challenges = ChallengeStore(*parts)
        self.hall = HallOfFameStore(*parts)
        self.stories = StoryStore(*parts)
        self.stats = StatsStore(*parts)
        self.gallery = GalleryStore(*parts)
        self.profiles = ProfileStore(*parts)
        self.metrics = MetricsStore(*parts)
        self.retention = RetentionStore(*parts)
        self.shards = ShardStore(*parts)
        self.styles = StyleStore(*parts)
        self.credentials = CredentialStore(*parts)

    @property
    def backend(self) -> str:
        return self._db.dialect

    async def migrate(self) -> list[int]:
        """Apply the migrations not applied yet; raises :class:`SchemaTooNew` when the database was
        migrated by a newer videobot than this one (its queries may no longer fit)."""
        migrations = load_migrations(self._db.dialect)
        applied = await self._db.migrate(migrations, self.clock())
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("schema_version")
        found, known = int(row["version"]) if row else 0, migrations[-1].version if migrations else 0
        if found > known:
            raise SchemaTooNew(found, known)
        return applied

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
