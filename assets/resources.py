# Dagster resources: the SyncStore database, the marketplace connectors (rate limited) and Redis when configured.
"""Resources the assets, jobs and sensors use.

- `database`: the SyncStore engine (`SYNCSTORE_DATABASE_URL`, else the demo's SQLite file).
- `marketplaces`: a `syncstore.shops.marketplaces.connector_factory` built for one run and closed after
  it: connectors from the stored (decrypted) tokens, with the refresh callback and the shared
  per-shop rate limiter (Redis when a URL is configured, the database otherwise).
- `redis`: only when `SYNCSTORE_REDIS_URL` is set (`optional_resources`).
"""

from typing import Any

import dagster as dg
import redis
import sqlalchemy as sa
from pydantic import PrivateAttr

from syncstore.db.engine import engine_for
from syncstore.settings import Settings, get_settings
from syncstore.shops.marketplaces import CachedConnectors, connector_factory


class DatabaseResource(dg.ConfigurableResource["DatabaseResource"]):
    """The SyncStore database. `url` empty: the configured one (SYNCSTORE_DATABASE_URL or the SQLite default)."""

    url: str = ""

    def resolved_url(self) -> str:
        return self.url or get_settings().resolved_database_url

    def get_engine(self) -> sa.Engine:
        """The process-wide engine for this URL (pooled, shared by every step of a run)."""
        return engine_for(self.resolved_url())


class RedisResource(dg.ConfigurableResource["RedisResource"]):
    """Redis (rate limiter, webhook nonces, short caches). `url` empty: the configured one (SYNCSTORE_REDIS_URL)."""

    url: str = ""

    def client(self) -> "redis.Redis[bytes]":
        url = self.url or get_settings().redis_url
        if not url:
            raise ValueError("no Redis URL: set SYNCSTORE_REDIS_URL")
        return redis.Redis.from_url(url)


class MarketplacesResource(dg.ConfigurableResource["MarketplacesResource"]):
    """Connectors for connected shops, cached per connection for one run and rate limited per shop."""

    database: DatabaseResource
    redis_url: str = ""

    _factory: CachedConnectors | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        settings = get_settings()
        if self.redis_url and self.redis_url != settings.redis_url:
            return settings.model_copy(update={"redis_url": self.redis_url})
        return settings

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._factory = connector_factory(self.database.get_engine(), self.settings())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._factory is not None:
            self._factory.close()
            self._factory = None

    def connectors(self) -> CachedConnectors:
        """The connector factory to hand to syncstore.sync.engine and syncstore.workers.dispatch."""
        if self._factory is None:
            self._factory = connector_factory(self.database.get_engine(), self.settings())
        return self._factory


def default_resources(settings: Settings | None = None) -> dict[str, Any]:
    """The resources of the code location, from SyncStore's settings.

    Without `settings` (the code location) the URLs stay empty and each resource reads the process's
    settings when it runs: a URL given here would be shown, password included, as the resource's
    default config in Dagster's Launchpad."""
    given = settings is not None
    settings = settings or get_settings()
    database = DatabaseResource(url=(settings.database_url or "") if given else "")
    resources: dict[str, Any] = {
        "database": database,
        "marketplaces": MarketplacesResource(database=database, redis_url=(settings.redis_url or "") if given else ""),
    }
    if settings.redis_url:
        resources["redis"] = RedisResource(url=settings.redis_url if given else "")
    return resources
