# One demo run: directories, database, Redis, ports, which parts run, and the settings every child shares.
"""Demo configuration.

`DemoConfig` says where the demo keeps its files (`data_dir`, default `.syncstore/`), which
database and Redis it uses (embedded defaults: a SQLite file under `data_dir` and no Redis; the
`SYNCSTORE_DATABASE_URL` / `SYNCSTORE_REDIS_URL` environment variables win, and tests pass their
own), the ports, and which parts to start. `child_environment` is the one place the
`SYNCSTORE_*` variables of every child process are built, so the receiver, Dagster, Streamlit and
the demo itself agree on the database, the key file and the marketplace apps.

The marketplace apps are the simulators' published demo credentials; the rate limits are raised
above the design's production figures because the simulators have none and the demo should settle
in seconds (`demo_rate_limits`).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from connectors.lazada.simulator.codes import DEMO_APP_KEY as LAZADA_APP_KEY
from connectors.lazada.simulator.codes import DEMO_APP_SECRET as LAZADA_APP_SECRET
from connectors.shopee.simulator.codes import DEFAULT_PARTNER_ID, DEFAULT_PARTNER_KEY
from connectors.simulator.common import free_port
from connectors.tiktokshop.simulator.codes import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_SERVICE_ID
from syncstore.settings import Settings

LOOPBACK: Final = "127.0.0.1"


class Part(enum.StrEnum):
    """A process the supervisor may start."""

    SHOPEE = "shopee"
    TIKTOKSHOP = "tiktokshop"
    LAZADA = "lazada"
    RECEIVER = "receiver"
    DAGSTER = "dagster"
    STREAMLIT = "streamlit"
    # The events worker (`syncstore worker events`): orders move stock within a second (no port).
    WORKER = "worker"
    # The public HTTP API (`syncstore api run`).
    API = "api"


ALL_PARTS: Final = frozenset(Part)


def listens(part: Part) -> bool:
    """Whether the part serves HTTP on a port of its own."""
    return part is not Part.WORKER


@dataclass(frozen=True)
class Ports:
    shopee: int = 8101
    tiktokshop: int = 8102
    lazada: int = 8103
    receiver: int = 8100
    dagster: int = 3000
    streamlit: int = 8501
    # The sample images (demo.images), served from a thread of the supervisor.
    images: int = 8104
    api: int = 8200

    @classmethod
    def free(cls) -> Ports:
        """A free loopback port for every part (tests and benchmarks run beside a demo on the defaults)."""
        return cls(**{port.name: free_port() for port in fields(cls)})


def demo_rate_limits() -> dict[str, str]:
    """Per-shop request limits for the demo: the simulators enforce none, so the demo need not wait."""
    return {
        "SYNCSTORE_RATELIMIT_SHOPEE_PER_MINUTE": "3000",
        "SYNCSTORE_RATELIMIT_TIKTOKSHOP_PER_MINUTE": "3000",
        "SYNCSTORE_RATELIMIT_LAZADA_PER_MINUTE": "3000",
        "SYNCSTORE_RATELIMIT_BURST": "200",
    }


@dataclass(frozen=True)
class DemoConfig:
    data_dir: Path = Path(".syncstore")
    database_url: str | None = None  # None: SQLite under data_dir
    redis_url: str | None = None
    ports: Ports = field(default_factory=Ports)
    parts: frozenset[Part] = ALL_PARTS
    # Random buyers on every marketplace once the shops are connected (None: no generator).
    orders_every_s: float | None = 15.0
    # Seller edits made after the first sync, so the Conflicts page has something to show.
    conflicting_edits: int = 3
    project_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parent.parent)
    console_lines: bool = True  # echo children's warnings and errors on the console
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, **overrides: object) -> DemoConfig:
        """The `make demo` configuration: the embedded defaults unless SYNCSTORE_* variables say otherwise."""
        config = cls(
            data_dir=Path(os.environ.get("SYNCSTORE_DATA_DIR", ".syncstore")),
            database_url=os.environ.get("SYNCSTORE_DATABASE_URL") or None,
            redis_url=os.environ.get("SYNCSTORE_REDIS_URL") or None,
        )
        return replace(config, **overrides)  # type: ignore[arg-type]

    # --- derived paths and URLs --------------------------------------------------------------

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else (Path.cwd() / self.data_dir)

    @property
    def logs_dir(self) -> Path:
        return self.data_path / "logs"

    @property
    def dagster_home(self) -> Path:
        return self.data_path / "dagster"

    @property
    def simulator_dir(self) -> Path:
        return self.data_path / "simulators"

    def state_file(self, platform: str) -> Path:
        return self.simulator_dir / f"{platform}.json"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'syncstore.db'}"

    def url(self, part: Part) -> str:
        return f"http://{LOOPBACK}:{getattr(self.ports, part.value)}"

    @property
    def image_base(self) -> str:
        """Where the sample catalog's images are served (its placeholder image host is replaced by this)."""
        return f"http://{LOOPBACK}:{self.ports.images}"

    @property
    def receiver_url(self) -> str:
        return self.url(Part.RECEIVER)

    @property
    def app_url(self) -> str:
        return self.url(Part.STREAMLIT)

    # --- what every process reads --------------------------------------------------------------

    def syncstore_environment(self) -> dict[str, str]:
        """The SYNCSTORE_* variables of this demo (database, Redis, key file, marketplace apps, URLs)."""
        env = {
            "SYNCSTORE_DATA_DIR": str(self.data_path),
            "SYNCSTORE_API_URL": self.url(Part.API),
            # The app links runs here, and the shop_partitions sensor asks this webserver to reload the code location.
            "SYNCSTORE_DAGSTER_URL": self.url(Part.DAGSTER),
            "SYNCSTORE_DATABASE_URL": self.resolved_database_url,
            "SYNCSTORE_SHOPEE_PARTNER_ID": str(DEFAULT_PARTNER_ID),
            "SYNCSTORE_SHOPEE_PARTNER_KEY": DEFAULT_PARTNER_KEY,
            "SYNCSTORE_SHOPEE_HOST": self.url(Part.SHOPEE),
            "SYNCSTORE_TIKTOKSHOP_APP_KEY": DEMO_APP_KEY,
            "SYNCSTORE_TIKTOKSHOP_APP_SECRET": DEMO_APP_SECRET,
            "SYNCSTORE_TIKTOKSHOP_SERVICE_ID": DEMO_SERVICE_ID,
            "SYNCSTORE_TIKTOKSHOP_API_HOST": self.url(Part.TIKTOKSHOP),
            "SYNCSTORE_TIKTOKSHOP_AUTH_HOST": self.url(Part.TIKTOKSHOP),
            "SYNCSTORE_TIKTOKSHOP_AUTHORIZE_HOST": self.url(Part.TIKTOKSHOP),
            "SYNCSTORE_LAZADA_APP_KEY": LAZADA_APP_KEY,
            "SYNCSTORE_LAZADA_APP_SECRET": LAZADA_APP_SECRET,
            "SYNCSTORE_LAZADA_API_HOST": self.url(Part.LAZADA),
            "SYNCSTORE_LAZADA_AUTH_HOST": self.url(Part.LAZADA),
            "SYNCSTORE_LAZADA_AUTHORIZE_HOST": self.url(Part.LAZADA),
            "SYNCSTORE_PUBLIC_URL": self.receiver_url,
            "SYNCSTORE_APP_URL": self.app_url,
            "SYNCSTORE_DEMO_IMAGE_BASE": self.image_base,
            **demo_rate_limits(),
        }
        if self.redis_url:
            env["SYNCSTORE_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def child_environment(self) -> dict[str, str]:
        """The environment of a child process: ours, minus SYNCSTORE_* we do not set, plus the demo's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCSTORE_") or k in _KEPT}
        env.update(self.syncstore_environment())
        if not self.redis_url:
            env.pop("SYNCSTORE_REDIS_URL", None)
        env["DAGSTER_HOME"] = str(self.dagster_home)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def settings(self) -> Settings:
        """The settings the supervisor itself uses (the same values its children read)."""
        env = self.syncstore_environment()
        return Settings(
            data_dir=self.data_path,
            database_url=env["SYNCSTORE_DATABASE_URL"],
            redis_url=self.redis_url,
            encryption_keys=SecretStr(keys) if (keys := os.environ.get("SYNCSTORE_ENCRYPTION_KEYS")) else None,
            shopee_partner_id=DEFAULT_PARTNER_ID,
            shopee_partner_key=SecretStr(DEFAULT_PARTNER_KEY),
            shopee_host=env["SYNCSTORE_SHOPEE_HOST"],
            tiktokshop_app_key=DEMO_APP_KEY,
            tiktokshop_app_secret=SecretStr(DEMO_APP_SECRET),
            tiktokshop_service_id=DEMO_SERVICE_ID,
            tiktokshop_api_host=env["SYNCSTORE_TIKTOKSHOP_API_HOST"],
            tiktokshop_auth_host=env["SYNCSTORE_TIKTOKSHOP_AUTH_HOST"],
            tiktokshop_authorize_host=env["SYNCSTORE_TIKTOKSHOP_AUTHORIZE_HOST"],
            lazada_app_key=LAZADA_APP_KEY,
            lazada_app_secret=SecretStr(LAZADA_APP_SECRET),
            lazada_api_host=env["SYNCSTORE_LAZADA_API_HOST"],
            lazada_auth_host=env["SYNCSTORE_LAZADA_AUTH_HOST"],
            lazada_authorize_host=env["SYNCSTORE_LAZADA_AUTHORIZE_HOST"],
            public_url=self.receiver_url,
            app_url=self.app_url,
            demo_image_base=self.image_base,
        )


# Variables a user may set for the demo that it passes on untouched (keys, log level, limits...).
_KEPT: Final = frozenset(
    {
        "SYNCSTORE_ENCRYPTION_KEYS",
        "SYNCSTORE_RETIRED_KEY_IDS",
        "SYNCSTORE_LOG_LEVEL",
        "SYNCSTORE_CURRENCY",
        "SYNCSTORE_ALERT_WEBHOOK_URL",
    }
)
