# The demo supervisor: prepares the database and shops, starts every process, connects the shops, stops it all cleanly.
"""`Supervisor`: the whole SyncStore system on one machine.

`start()` does, in order (each step says what it did through `report`):

1. the database: migrated, sample catalog imported once, the demo Admin (credentials printed);
   the local encryption key file is written when no SYNCSTORE_ENCRYPTION_KEYS is set;
2. the marketplaces: each simulator's shop seeded from the sample catalog with drift
   (`demo.seeding`) unless its state file exists;
3. the processes: the three simulators (`demo.marketplace`), the webhook receiver (`syncstore receiver
   run`) and the Streamlit app (headless);
4. the shops connected through the real authorization flow (`demo.connect`), unless connected,
   and each new shop's listings read (a snapshot pull) before anything can be pushed to it; then
   Dagster (`dagster dev`, DAGSTER_HOME under the data directory with a low-latency
   `dagster.yaml`), which is asked for a first reconcile of every shop, and the events worker
   (`syncstore worker events`: orders move stock within a second, not a sensor tick and a run later);
5. once Dagster has synced every shop: a few seller title edits on TikTok Shop (conflicts to
   review; once per seeded shop, marked in the audit log, so a restart does not edit them again),
   then the simulators' random buyers.

`stop()` stops the children in reverse order, each by process group (SIGTERM, then SIGKILL after
a grace period), and returns the pids it had to kill. `run_forever()` is `make demo`: start,
watch the children (a child that dies stops the demo with its last log lines), stop on Ctrl-C or
SIGTERM. Tests build a `DemoConfig` with their own database URL, Redis URL, ports and parts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Final

import sqlalchemy as sa

from connectors import registry
from demo import database, first_sync, seeding
from demo.config import LOOPBACK, DemoConfig, Part, listens
from demo.connect import Connected, connect_shop
from demo.control import MarketplaceControl
from demo.images import SampleImageServer
from demo.processes import Child, DemoError
from syncstore.data import sample_catalog_path
from syncstore.db.engine import create_engine
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.security.crypto import Keyring, ensure_local_key_file, load_keyring
from syncstore.shops.oauth import callback_url, webhook_url

READY_TIMEOUT_S: Final = {
    Part.SHOPEE: 60.0,
    Part.TIKTOKSHOP: 60.0,
    Part.LAZADA: 60.0,
    Part.RECEIVER: 60.0,
    Part.DAGSTER: 240.0,
    Part.STREAMLIT: 120.0,
    Part.API: 60.0,
}
# The marketplace simulators the demo runs, in start order.
MARKETPLACES: Final = (Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA)
# How long stopping waits for Dagster runs in flight to finish.
RUNS_DRAIN_S: Final = 20.0
# Dagster instance settings for the demo (DAGSTER_HOME/dagster.yaml), for low latency on one machine:
# sensors and schedules evaluated in threads, and runs queued and dequeued every second by the
# daemon's threads, with production's limits (one run per shop, one per work queue). The queued
# coordinator, not the default one, also keeps the Launch and backfill dialogs free of Dagster's
# warning about launching without a queue. Runs keep the default launcher (a process per run):
# Dagster's in-memory launcher deadlocks in its logging setup when runs start in parallel threads.
DAGSTER_YAML: Final = """\
# Written by the SyncStore demo (demo/supervisor.py): a local instance tuned for low latency.
telemetry:
  enabled: false
sensors:
  use_threads: true
  num_workers: 4
schedules:
  use_threads: true
  num_workers: 2
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 6
    dequeue_interval_seconds: 1
    dequeue_use_threads: true
    tag_concurrency_limits:
      - key: syncstore/shop
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      - key: syncstore/queue
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""

# What the demo's seller appends to a few TikTok Shop titles after the first sync.
LIVE_DEAL: Final = "[LIVE DEAL]"

Report = Callable[[str], None]


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwind like Ctrl-C so every child is stopped."""


@dataclass
class DemoStatus:
    """What a started demo is: URLs, the admin's login, the shops and how long each step took."""

    urls: dict[str, str] = field(default_factory=dict)
    admin_email: str = ""
    admin_password: str | None = None
    connected: list[Connected] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


class Supervisor:
    def __init__(self, config: DemoConfig, *, report: Report | None = None) -> None:
        self.config = config
        self.report: Report = report or (lambda line: print(line, flush=True))
        self.settings = config.settings()
        self.engine: sa.Engine = create_engine(config.resolved_database_url)
        self.children: dict[Part, Child] = {}
        self.images: SampleImageServer | None = None
        self.status = DemoStatus()
        self._seeded: set[str] = set()  # the marketplaces whose shop was seeded on this run
        self._started_at = time.monotonic()

    # --- controls for tests and the benchmark ---------------------------------------------------

    def marketplace(self, part: Part) -> MarketplaceControl:
        """A client of a running simulator's control API (close it, or use it in a `with`)."""
        return MarketplaceControl(self.config.url(part))

    def _mark(self, step: str) -> None:
        self.status.timings_s[step] = round(time.monotonic() - self._started_at, 1)

    # --- starting ------------------------------------------------------------------------------

    def start(self, *, wait_in_sync: bool = True) -> DemoStatus:
        """Everything up to connected shops (and, with `wait_in_sync`, the first sync and the buyers)."""
        self._started_at = time.monotonic()
        config = self.config
        for directory in (config.data_path, config.logs_dir, config.dagster_home, config.simulator_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if self.settings.encryption_keys is None:
            # The demo opts in to a local key file, also on PostgreSQL (production refuses without a keyring).
            ensure_local_key_file(self.settings.resolved_key_file)
        with _key_file_notice_reported():
            keyring = load_keyring(self.settings)
        if self.settings.encryption_keys is None:
            self.report(f"platform tokens are encrypted with the local key file {self.settings.resolved_key_file}")

        self._serve_images()
        catalog = database.prepare(self.engine, image_base=config.image_base)
        self.report(
            f"database {self.engine.url.render_as_string(hide_password=True)}: {catalog.products} products, "
            f"{catalog.variants} variants" + (" (sample catalog imported)" if catalog.imported_now else "")
        )
        if importlib.util.find_spec("syncstore.sync.engine") is not None:
            mapped = database.map_categories(self.engine)
            if mapped:
                self.report(f"{mapped} category mappings added (master category -> simulator category)")
        admin = database.demo_admin(self.engine, config.data_path / "demo-admin.txt")
        self.status.admin_email, self.status.admin_password = admin.email, admin.password
        seeded = self._seed_marketplaces()
        self._seeded = seeded
        self._mark("prepared")

        self._check_ports()
        self._start_children((*MARKETPLACES, Part.RECEIVER, Part.STREAMLIT, Part.API))
        for part in (*MARKETPLACES, Part.RECEIVER):
            self._wait_ready(part)
        self._mark("marketplaces_and_receiver_ready")

        self._connect(admin.actor, keyring, reconnect=seeded)
        self._mark("shops_connected")
        # Dagster starts once new shops have been read: its first push must not find them empty.
        self._start_children((Part.DAGSTER, Part.WORKER))
        for part in (Part.DAGSTER, Part.STREAMLIT, Part.API):
            self._wait_ready(part)
        self._mark("all_ready")
        if Part.DAGSTER in config.parts:
            shops = sorted(database.connected_shops(self.engine))
            first_sync.request_first_sync(config.dagster_home, LOOPBACK, config.ports.dagster, shops)
            self.report(f"first reconcile of {len(shops)} shops requested from Dagster")
        if wait_in_sync and Part.DAGSTER in config.parts:
            self.wait_until_in_sync()
            self._mark("in_sync")
            self._after_first_sync()
        return self.status

    def _serve_images(self) -> None:
        """The sample images, from a thread of this process: listings created by any child upload them."""
        if self.images is not None:
            return
        try:
            self.images = SampleImageServer(self.config.ports.images, LOOPBACK)
        except OSError as error:
            raise DemoError(f"ports in use by another program: images port {self.config.ports.images} "
                            f"(--images-port): {error.strerror}") from None  # fmt: skip
        self.images.start()
        self.status.urls["images"] = self.config.image_base

    def _seed_marketplaces(self) -> set[str]:
        """Write each missing simulator state file; the platforms seeded now."""
        from connectors.lazada.simulator.codes import DEMO_APP_KEY as LAZADA_APP_KEY
        from connectors.lazada.simulator.codes import DEMO_APP_SECRET as LAZADA_APP_SECRET
        from connectors.lazada.simulator.server import LazadaSimulator
        from connectors.shopee.simulator.server import ShopeeSimulator
        from connectors.tiktokshop.simulator.codes import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_SERVICE_ID
        from connectors.tiktokshop.simulator.server import TikTokShopSimulator

        seeded: set[str] = set()
        products = None
        for part in MARKETPLACES:
            path = self.config.state_file(part.value)
            if part not in self.config.parts or path.exists():
                continue
            products = products or seeding.read_catalog(sample_catalog_path(), image_base=self.config.image_base)
            if part is Part.SHOPEE:
                shopee = ShopeeSimulator()
                shop = seeding.seed_shopee(shopee, products)
                shopee.save(path)
            elif part is Part.LAZADA:
                lazada = LazadaSimulator(app_key=LAZADA_APP_KEY, app_secret=LAZADA_APP_SECRET)
                shop = seeding.seed_lazada(lazada, products, push_url=webhook_url(self.settings, Part.LAZADA.value))
                lazada.save(path)
            else:
                tiktok = TikTokShopSimulator(
                    app_key=DEMO_APP_KEY, app_secret=DEMO_APP_SECRET, service_id=DEMO_SERVICE_ID
                )
                shop = seeding.seed_tiktokshop(tiktok, products)
                tiktok.save(path)
            seeded.add(part.value)
            self.report(
                f"{part.value} shop {shop.shop_id} seeded: {shop.listed_products} products ({shop.listed_skus} SKUs), "
                f"{len(shop.unlisted)} not listed, {len(shop.stock_drift)} stock and {len(shop.price_drift)} price "
                f"differences, {len(shop.orphans)} listings the master does not know"
            )
        return seeded

    def _commands(self) -> dict[Part, list[str]]:
        config, python = self.config, sys.executable
        commands: dict[Part, list[str]] = {}
        for part in MARKETPLACES:
            commands[part] = [
                python,
                "-m",
                "demo.marketplace",
                "--platform",
                part.value,
                "--port",
                str(getattr(config.ports, part.value)),
                "--state-file",
                str(config.state_file(part.value)),
            ]
        commands[Part.TIKTOKSHOP] += ["--redirect-url", callback_url(self.settings, Part.TIKTOKSHOP.value)]
        commands[Part.LAZADA] += ["--redirect-url", callback_url(self.settings, Part.LAZADA.value)]
        commands[Part.RECEIVER] = [
            python,
            "-m",
            "cli.main",
            "receiver",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(config.ports.receiver),
            "--log-level",
            "warning",
        ]
        commands[Part.WORKER] = [python, "-m", "cli.main", "worker", "events"]
        commands[Part.API] = [python, "-m", "cli.main", "api", "run", "--host", "127.0.0.1", "--port",
                              str(config.ports.api), "--log-level", "warning"]  # fmt: skip
        commands[Part.DAGSTER] = [
            python,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(config.project_dir / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(config.ports.dagster),
            "--log-level",
            "warning",
        ]
        commands[Part.STREAMLIT] = [
            python,
            "-m",
            "streamlit",
            "run",
            str(config.project_dir / "streamlit_app" / "syncstore_app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(config.ports.streamlit),
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "minimal",
        ]
        return commands

    def _check_ports(self) -> None:
        """DemoError naming every port another program holds (a clearer message than a child's bind error)."""
        busy = []
        for part in self.config.parts:
            if not listens(part):
                continue
            port = getattr(self.config.ports, part.value)
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((LOOPBACK, port))
                except OSError:
                    busy.append(f"{part.value} port {port} (--{part.value}-port)")
        if busy:
            raise DemoError("ports in use by another program: " + ", ".join(sorted(busy)))

    def _start_children(self, parts: tuple[Part, ...]) -> None:
        config = self.config
        env = config.child_environment()
        (config.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
        commands = self._commands()
        for part in parts:
            if part not in config.parts:
                continue
            child = Child(
                part.value,
                commands[part],
                env=env,
                cwd=config.project_dir,
                log_dir=config.logs_dir,
                console=config.console_lines,
            )
            child.start()
            self.children[part] = child

    def _ready_url(self, part: Part) -> str:
        base = self.config.url(part)
        return {
            Part.SHOPEE: f"{base}/_demo/health",
            Part.TIKTOKSHOP: f"{base}/_demo/health",
            Part.LAZADA: f"{base}/_demo/health",
            Part.RECEIVER: f"{base}/healthz",
            Part.DAGSTER: f"{base}/server_info",
            Part.STREAMLIT: f"{base}/_stcore/health",
            Part.API: f"{base}/healthz",
        }[part]

    def _wait_ready(self, part: Part) -> None:
        child = self.children.get(part)
        if child is None:
            return
        child.wait_http(self._ready_url(part), READY_TIMEOUT_S[part])
        self.status.urls[part.value] = self.config.url(part)

    def _connect(self, actor: Actor, keyring: Keyring, *, reconnect: set[str]) -> None:
        if Part.RECEIVER not in self.config.parts:
            return
        already = database.connected_shops(self.engine)
        shops = (
            (Part.SHOPEE, str(seeding.SHOPEE_SHOP_ID)),
            (Part.TIKTOKSHOP, seeding.TIKTOKSHOP_SHOP_ID),
            (Part.LAZADA, seeding.LAZADA_SELLER_ID),
        )
        for part, shop_id in shops:
            if part not in self.config.parts:
                continue
            if (part.value, shop_id) in already and part.value not in reconnect:
                self.report(f"{part.value} shop {shop_id}: connected already")
                continue
            connected = connect_shop(actor, part.value, shop_id, settings=self.settings, keyring=keyring)
            self.status.connected.append(connected)
            self._first_pull(part.value, connected.shop_ids, keyring)
            webhooks = "webhooks registered" if connected.webhooks_registered else "WEBHOOKS NOT REGISTERED"
            self.report(
                f"{part.value} shop {', '.join(connected.shop_ids)} connected through its authorization page "
                f"({webhooks})"
            )

    def _first_pull(self, platform: str, shop_ids: tuple[str, ...], keyring: Keyring) -> None:
        """Read a newly connected shop's listings before anything is pushed to it.

        A push planned without a snapshot sees no listing and creates every product again (Shopee
        has no idempotency key to catch it), so the snapshot is pulled here, before Dagster's push
        runs can reach the shop; Dagster's first reconcile then binds and syncs.
        """
        if importlib.util.find_spec("syncstore.sync.snapshot") is None:
            return
        snapshot = importlib.import_module("syncstore.sync.snapshot")
        from syncstore.shops import marketplaces

        for connection_id in database.connection_ids(self.engine, platform, shop_ids):
            connector = marketplaces.connector_for(self.engine, connection_id, settings=self.settings, keyring=keyring)
            try:
                report = snapshot.pull(self.engine, connection_id, connector, full=True)
            finally:
                close = getattr(connector, "close", None)
                if callable(close):
                    close()
            self.report(f"{platform} shop read: {report.listings} listings, {report.skus} SKUs")

    # --- after the first sync -------------------------------------------------------------------

    def wait_until_in_sync(self, timeout_s: float = 300.0) -> float:
        """Block until every connected shop has been pulled and a dry run plans nothing; the seconds waited."""
        if importlib.util.find_spec("syncstore.sync.engine") is None:
            self.report("the sync engine (syncstore/sync/engine.py) is not installed: not waiting for the first sync")
            return 0.0
        sync = importlib.import_module("syncstore.sync.engine")

        started = time.monotonic()
        deadline = started + timeout_s
        last = ""
        while True:
            self.check_children()
            plans = sync.dry_run(self.engine)
            pulled = database.pulled_shops(self.engine)
            # Changes with validation issues cannot be pushed; they wait for a person (the Sync page shows them).
            pending = {p.shop_key: sum(1 for c in p.changes if not c.issues) for p in plans}
            waiting = [p.shop_key for p in plans if p.connection_id not in pulled]
            if plans and not waiting and not any(pending.values()):
                self.report(
                    f"every shop in sync ({time.monotonic() - started:.0f} s after the first reconcile was asked for)"
                )
                return time.monotonic() - started
            states = [
                f"{key}: not pulled yet" if key in waiting else f"{key}: {n} changes" for key, n in pending.items()
            ]
            summary = ", ".join(sorted(states)) or "no shop yet"
            if summary != last:
                self.report(f"waiting for the first sync: {summary}")
                last = summary
            if time.monotonic() > deadline:
                raise DemoError(f"the shops were not in sync within {timeout_s:.0f} s ({summary})")
            time.sleep(2)

    def _after_first_sync(self) -> None:
        config = self.config
        if config.conflicting_edits and Part.TIKTOKSHOP in config.parts:
            self._seller_edits(config.conflicting_edits)
        if config.orders_every_s:
            for part in MARKETPLACES:
                if part in config.parts:
                    with self.marketplace(part) as market:
                        market.order_generator(config.orders_every_s)
            self.report(f"random buyers order on every marketplace every {config.orders_every_s:g} s")

    def _seller_edits(self, count: int) -> None:
        """The seller's title edits on TikTok Shop (conflicts to review), once per seeded shop: a restart
        continues where the demo stopped instead of editing the titles again and reopening resolved conflicts."""
        platform, shop_id = Part.TIKTOKSHOP.value, seeding.TIKTOKSHOP_SHOP_ID
        if platform not in self._seeded and database.seller_edits_made(self.engine, platform, shop_id):
            label = registry.label(platform)
            self.report(f"the seller's title edits on {label} were made on an earlier run: not made again")
            return
        with self.marketplace(Part.TIKTOKSHOP) as tiktok:
            listed = [s for s in tiktok.skus().values() if s.status == "ACTIVATE" and "-ONLY-" not in s.sku]
            by_item = {s.item_id: s for s in sorted(listed, key=lambda s: s.sku, reverse=True)}
            edited = list(by_item.values())[:count]
            for shop_sku in edited:
                tiktok.edit_title(shop_sku.sku, f"{shop_sku.title} {LIVE_DEAL}")
        database.record_seller_edits(self.engine, platform, shop_id, [s.sku for s in edited])
        self.report(f"{len(edited)} titles edited on {registry.label(platform)} by the seller: conflicts to review")

    # --- watching and stopping -------------------------------------------------------------------

    def check_children(self) -> None:
        """DemoError naming the first child that exited on its own."""
        for child in self.children.values():
            if not child.stopping and child.exit_code() is not None:
                raise DemoError(child.describe_exit())

    def stop(self, grace_s: float = 15.0) -> list[int]:
        """Stop every child; the pids that had to be SIGKILLed.

        The app and the receiver go first (no new work), then Dagster once its runs in flight have
        finished (at most `RUNS_DRAIN_S`: a run cut off would be recorded as failed), then the
        marketplaces those runs were talking to.
        """
        killed: list[int] = []
        for started in self.children.values():
            started.stopping = True  # what they say while stopping is in their logs, not on the console
        for part in (Part.STREAMLIT, Part.API, Part.RECEIVER, Part.WORKER, Part.DAGSTER, *MARKETPLACES):
            child = self.children.get(part)
            if child is None:
                continue
            if part is Part.DAGSTER and child.exit_code() is None:
                with contextlib.suppress(Exception):  # a broken instance must not keep the children alive
                    first_sync.wait_for_runs(self.config.dagster_home, RUNS_DRAIN_S)
            killed += child.stop(grace_s)
        if self.images is not None:
            self.images.stop()
            self.images = None
        self.engine.dispose()
        return killed

    def banner(self) -> str:
        """What `make demo` prints once everything runs."""
        status, urls = self.status, self.status.urls
        lines = ["", "SyncStore demo is running:"]
        names = {
            Part.STREAMLIT: "app (Streamlit)",
            Part.DAGSTER: "Dagster UI",
            Part.RECEIVER: "webhook receiver",
            Part.API: "public API (docs)",
            **{part: f"{registry.label(part.value)} simulator" for part in Part if registry.is_platform(part.value)},
        }
        pages = {Part.API: "/docs"}  # the API's interactive docs (the schema: /openapi.json)
        shown = [part for part in names if part.value in urls]
        lines += [f"  {names[part]:<22} {urls[part.value]}{pages.get(part, '')}" for part in shown]
        if "images" in urls:
            lines += [f"  {'sample images':<22} {urls['images']}"]
        password = status.admin_password or f"(set when it was created; see {self.config.data_path / 'demo-admin.txt'})"
        lines += [f"  sign in as             {status.admin_email} / {password}"]
        lines += [f"  logs                   {self.config.logs_dir}/", "Press Ctrl-C to stop everything.", ""]
        return "\n".join(lines)

    def run_forever(self) -> int:
        """`make demo`: start, print the banner, watch the children until Ctrl-C or SIGTERM; the exit code."""
        code = 0
        # Ctrl-C stops the demo even when it was started with SIGINT ignored or blocked (both are inherited).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        with _sigterm_as_interrupt():
            try:
                self.start()
                self.report(self.banner())
                while True:
                    self.check_children()
                    time.sleep(0.5)
            except KeyboardInterrupt:
                self.report("stopping the demo...")
            except DemoError as error:
                self.report(f"error: {error}")
                self.report("stopping the demo...")
                code = 1
            finally:
                # A second Ctrl-C while stopping must not leave children behind.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                killed = self.stop()
                signal.signal(signal.SIGINT, signal.default_int_handler)
                note = f" ({len(killed)} processes had to be killed)" if killed else ""
                self.report(f"stopped: no demo process left running{note}")
        return code

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _KeyFileNotice(logging.Filter):
    """Drops the keyring's "encrypted with the local key file" warning: the supervisor reports it once itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "local key file" not in record.getMessage()


@contextlib.contextmanager
def _key_file_notice_reported() -> Iterator[None]:
    """While the supervisor loads its keyring, the keyring's own key-file warning is not printed a second time."""
    crypto_logger = logging.getLogger(crypto.__name__)
    notice = _KeyFileNotice()
    crypto_logger.addFilter(notice)
    try:
        yield
    finally:
        crypto_logger.removeFilter(notice)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
