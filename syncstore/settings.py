# The one place configuration is read: SYNCSTORE_* environment variables and an optional .env file.
"""Settings for every SyncStore process.

Defaults run the demo with nothing installed: a SQLite file under `.syncstore/`, no Redis,
a local encryption key file. Production sets `SYNCSTORE_DATABASE_URL`, `SYNCSTORE_REDIS_URL`
and `SYNCSTORE_ENCRYPTION_KEYS`.
"""

from __future__ import annotations

import ipaddress
import zoneinfo
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting SyncStore reads; each maps to `SYNCSTORE_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCSTORE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path(".syncstore"), description="Where the default SQLite file and local key file live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/syncstore.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    sqlite_busy_timeout_ms: int = Field(default=15_000, ge=0)
    redis_url: str | None = Field(default=None, description="Optional Redis, e.g. redis://127.0.0.1:6379/0.")

    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Keyring 'kid:base64key,kid2:base64key'; the first is the primary (encrypts new values).",
    )
    retired_key_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Key ids that must no longer decrypt anything (comma separated)."
    )
    key_file: Path | None = Field(
        default=None, description="Local key file used when no keyring is set (default <data_dir>/keys)."
    )

    currency: str = Field(default="MYR", pattern=r"^[A-Z]{3}$", description="Default catalog currency (ISO 4217).")
    outbox_lease_seconds: int = Field(default=60, ge=1)
    outbox_max_attempts: int = Field(default=3, ge=1)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=300.0, gt=0)

    # The events worker (syncstore.workers.heartbeats): the one consumer of both queues while its heartbeat is fresh.
    worker_heartbeat_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the events worker records that it is alive; Dagster's queue sensors start runs "
        "only when no heartbeat is younger than 3 times this.",
    )

    # W9: the polling backstop for lost webhooks (syncstore.workers.recovery).
    order_poll_seconds: float = Field(
        default=120.0, gt=0, description="How often every connected shop's orders are polled by update time."
    )
    order_poll_overlap_seconds: float = Field(
        default=300.0, ge=0, description="Each poll re-reads this much before its cursor (late platform commits)."
    )

    # Per-shop outbound rate limits (syncstore.ratelimit); the platforms publish none, these are the design's.
    ratelimit_enabled: bool = Field(
        default=True, description="Limit outbound requests per shop; turn off only for benchmarks."
    )
    ratelimit_shopee_per_minute: int = Field(default=60, ge=1, description="Shopee requests per shop per minute.")
    ratelimit_shopee_per_day: int = Field(
        default=10_000, ge=1, description="Shopee requests per shop per day (the day starts 00:00 UTC+8)."
    )
    ratelimit_tiktokshop_per_minute: int = Field(
        default=100, ge=1, description="TikTok Shop requests per shop per minute."
    )
    ratelimit_tiktokshop_per_day: int = Field(
        default=50_000, ge=1, description="TikTok Shop requests per shop per day (the day starts 00:00 UTC)."
    )
    ratelimit_lazada_per_minute: int = Field(
        default=120, ge=1, description="Lazada requests per seller per minute (inventory APIs allow 50 per second)."
    )
    ratelimit_lazada_per_day: int = Field(
        default=50_000, ge=1, description="Lazada requests per seller per day (the day starts 00:00 UTC+8)."
    )
    ratelimit_burst: int = Field(
        default=0,
        ge=0,
        description="Requests a shop may make beyond its per-minute limit in any 60 s window (0: the limit is a "
        "hard ceiling and requests are spaced evenly).",
    )
    ratelimit_quota_alert_threshold: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of the daily quota at which a shop's quota alert fires (once a day).",
    )
    ratelimit_max_wait_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Longest a request waits for its shop's turn before giving up with RateLimitWaitTooLong.",
    )

    # Marketplace apps. Hosts default to the local simulators (`syncstore simulator run`); production
    # sets the platforms' hosts from ../reference (Shopee partner.shopeemobile.com, TikTok open-api...).
    shopee_partner_id: int | None = Field(default=None, description="Shopee Open Platform partner id.")
    shopee_partner_key: SecretStr | None = Field(default=None, description="Shopee partner key (signs every call).")
    shopee_host: str = Field(default="http://127.0.0.1:8101", description="Shopee API host.")
    tiktokshop_app_key: str | None = Field(default=None, description="TikTok Shop app key.")
    tiktokshop_app_secret: SecretStr | None = Field(default=None, description="TikTok Shop app secret.")
    tiktokshop_service_id: str = Field(default="", description="TikTok Shop service id (authorization link).")
    tiktokshop_api_host: str = Field(default="http://127.0.0.1:8102", description="TikTok Shop API host.")
    tiktokshop_auth_host: str = Field(default="http://127.0.0.1:8102", description="TikTok Shop token host.")
    tiktokshop_authorize_host: str = Field(
        default="http://127.0.0.1:8102", description="Where sellers authorize the app."
    )
    lazada_app_key: str | None = Field(default=None, description="Lazada Open Platform app key.")
    lazada_app_secret: SecretStr | None = Field(default=None, description="Lazada app secret (signs every call).")
    lazada_api_host: str = Field(
        default="http://127.0.0.1:8103",
        description="Lazada API host; empty: each shop's country host (api.lazada.<country>/rest).",
    )
    lazada_auth_host: str = Field(default="http://127.0.0.1:8103", description="Lazada token host.")
    lazada_authorize_host: str = Field(
        default="http://127.0.0.1:8103", description="Where Lazada sellers authorize the app."
    )

    # The webhook receiver and OAuth callbacks (webhook_receiver/).
    public_url: str = Field(
        default="http://127.0.0.1:8100",
        description="The receiver's base URL as the marketplaces reach it; webhook and OAuth callback URLs "
        "are built from it (Shopee signs the callback URL exactly as registered).",
    )
    app_url: str = Field(
        default="http://127.0.0.1:8501", description="The Streamlit app's base URL (OAuth callbacks return there)."
    )
    # The app's sign-in sessions (syncstore/security/sessions.py, streamlit_app/session_cookie.py).
    session_hours: float = Field(
        default=12,
        gt=0,
        le=24 * 30,
        description="How long an app sign-in lasts (a reload keeps it) before the user signs in again.",
    )
    session_cookie_secure: bool | None = Field(
        default=None, description="Send the session cookie over HTTPS only; unset: when SYNCSTORE_APP_URL is https."
    )
    dagster_url: str = Field(
        default="http://127.0.0.1:3000", description="The Dagster UI's base URL (the app links sync runs there)."
    )
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger bodies get 413.")
    webhook_timestamp_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        description="Events whose own timestamp is further in the FUTURE are rejected (any age "
        "is accepted: platforms retry the original body for hours).",
    )
    webhook_nonce_ttl_seconds: int = Field(default=600, ge=1, description="Redis fast-path dedup window.")
    webhook_per_ip_per_minute: int = Field(
        default=6000, ge=0, description="Requests per source IP per minute before 429 (0: no limit)."
    )
    webhook_rejected_per_ip_per_minute: int = Field(
        default=600,
        ge=0,
        description="Rejected requests (unsigned, badly signed, malformed or oversized bodies) per source IP per "
        "minute before 429; a budget of their own, so junk never spends a genuine sender's allowance (0: no limit).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="IPs or CIDRs of the reverse proxies whose X-Forwarded-For the receiver believes (comma "
        "separated); empty: no forwarded header is believed, not even from loopback.",
    )
    receiver_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection must deliver a request's headers within this long of opening (or of its last "
        "answer), else the receiver closes it.",
    )
    receiver_body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A webhook's whole body must arrive within this long, else 408."
    )
    receiver_keep_alive_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection is closed after this long."
    )
    receiver_max_connections: int = Field(
        default=1000,
        ge=2,
        description="Open connections per receiver worker (also kept below the process' file limit); past it "
        "the oldest connection still waiting for its headers is closed.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that GET /metrics requires (Authorization: Bearer <token>); unset: /metrics "
        "answers 404.",
    )
    webhook_rejections_logged_per_minute: int = Field(
        default=60, ge=0, description="Rejected requests written to the log per minute; the rest are only counted."
    )
    webhook_retention_days: int = Field(
        default=14,
        ge=14,
        description="Days webhook events (and so their dedup keys) are kept: well beyond the "
        "platforms' retry horizons (TikTok Shop 12 h, Shopee lost pushes 3 days).",
    )

    alert_webhook_url: str | None = Field(
        default=None, description="Where newly opened alerts are POSTed as JSON (Slack-style hooks, ops tools)."
    )
    low_stock_digest_hour: int = Field(
        default=8, ge=0, le=23, description="Hour of the day the low-stock digest is POSTed to the alert webhook."
    )
    low_stock_digest_timezone: str = Field(
        default="UTC", description="Time zone of low_stock_digest_hour (an IANA name, e.g. Asia/Kuala_Lumpur)."
    )

    # Media (syncstore.media): product images fetched once, stored by content hash, uploaded per shop.
    media_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest image accepted from a URL or an upload; larger ones are refused (those within it but "
        "over a platform's limit are resized before upload).",
    )
    media_fetch_timeout_seconds: float = Field(
        default=15.0, gt=0, description="How long fetching one image URL may take (connect, each read, overall)."
    )
    demo_image_base: str = Field(
        default="http://127.0.0.1:8104",
        description="Where the demo serves its sample images; the sample catalog's placeholder image host "
        "(https://images.syncstore.example) is replaced by it when the demo seeds.",
    )
    api_rate_limit: int = Field(
        default=100, ge=0, description="Public API requests per key per minute before 429 (0: no limit)."
    )
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger API request bodies get 413.")
    api_url: str = Field(default="http://127.0.0.1:8200", description="The public HTTP API's base URL.")
    api_oidc_metadata_url: str | None = Field(
        default=None,
        description="The OIDC provider's discovery document (the app's server_metadata_url); set with "
        "SYNCSTORE_API_OIDC_AUDIENCE, the API also accepts that provider's ID tokens as bearer tokens.",
    )
    api_oidc_audience: str | None = Field(default=None, description="The client id the tokens must be issued for.")
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long an API process trusts a checked key (revocation applies within it)."
    )
    api_idempotency_days: int = Field(
        default=1,
        ge=1,
        description="Days the API keeps a write's Idempotency-Key and first answer (a retry within them replays it); "
        "the daily retention job deletes older ones.",
    )

    log_level: str = Field(
        default="INFO",
        description="Level of SyncStore's own loggers: DEBUG, INFO, WARNING, ERROR or CRITICAL; libraries stay at "
        "WARNING. An unknown value refuses to start.",
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("retired_key_ids", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        parts = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        if isinstance(parts, list):
            for part in parts:
                try:
                    ipaddress.ip_network(str(part), strict=False)
                except ValueError:
                    raise ValueError(
                        f"SYNCSTORE_TRUSTED_PROXIES: {str(part)[:60]!r} is not an IP address or CIDR"
                    ) from None
        return parts

    @field_validator("low_stock_digest_timezone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"SYNCSTORE_LOW_STOCK_DIGEST_TIMEZONE: {value[:60]!r} is not a time zone") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'syncstore.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
