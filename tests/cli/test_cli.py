# The `syncstore` command line, run as a separate process the way an operator runs it.
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from connectors.shopee.app import ShopeeApp
from connectors.shopee.simulator import codes as shopee_sim_codes
from connectors.simulator.common import free_port
from connectors.tiktokshop.app import TikTokShopApp
from connectors.tiktokshop.simulator import codes as tiktokshop_sim_codes
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import Base
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.shops import connections


def run(
    args: list[str],
    database_url: str,
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `syncstore ARGS` in a new process against `database_url` (with `stdin` as its input, else none)."""
    env = {**os.environ, "SYNCSTORE_DATABASE_URL": database_url, "SYNCSTORE_DATA_DIR": str(data_dir)}
    env.pop("SYNCSTORE_ENCRYPTION_KEYS", None)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        timeout=300,
        check=False,
    )


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_db_upgrade_builds_the_schema_on_an_empty_postgres_database(empty_postgres_url: str, tmp_path: Path) -> None:
    result = run(["db", "upgrade"], empty_postgres_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"revision empty -> {migrate.head_revision()}" in result.stdout
    assert set(Base.metadata.tables) <= tables(empty_postgres_url)


def test_db_upgrade_builds_the_schema_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run(["db", "upgrade"], url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(Base.metadata.tables) <= tables(url)
    again = run(["db", "upgrade"], url, tmp_path)
    head = migrate.head_revision()
    assert f"{head} -> {head}" in again.stdout


def test_demo_seeds_the_sample_catalog_once_and_creates_an_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run(["demo", "seed"], url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported now" in first.stdout and "admin@syncstore.example" in first.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        products = conn.exec_driver_sql("SELECT count(*) FROM master_products").scalar()
        variants = conn.exec_driver_sql("SELECT count(*) FROM product_variants").scalar()
    engine.dispose()
    assert products is not None and products >= 200 and variants is not None and variants >= 500
    assert f"products          │ {products}".replace(" ", "") in first.stdout.replace(" ", "")
    second = run(["demo", "seed"], url, tmp_path)
    assert second.returncode == 0 and "already present" in second.stdout and "users exist" in second.stdout


def test_user_add_and_errors_are_one_clear_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert run(["db", "upgrade"], url, tmp_path).returncode == 0
    added = run(["user", "add", "ed@example.com", "--role", "editor", "--generate"], url, tmp_path)
    assert added.returncode == 0 and "added ed@example.com as editor" in added.stdout
    duplicate = run(["user", "add", "ED@example.com", "--role", "viewer", "--generate"], url, tmp_path)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr and "Traceback" not in duplicate.stderr


def test_user_add_takes_no_password_option_and_reads_one_line_of_stdin(tmp_path: Path) -> None:
    from syncstore.security import auth

    url = f"sqlite:///{tmp_path / 'stdin.db'}"
    assert run(["db", "upgrade"], url, tmp_path).returncode == 0
    on_the_line = run(["user", "add", "ann@example.com", "--password", "visible-in-ps-123"], url, tmp_path)
    assert on_the_line.returncode == 2 and "No such option" in on_the_line.stderr
    weak = run(["user", "add", "ann@example.com"], url, tmp_path, stdin="password1234\n")
    assert weak.returncode == 1 and "too common" in weak.stderr and "password1234" not in weak.stderr
    empty = run(["user", "add", "ann@example.com"], url, tmp_path, stdin="")
    assert empty.returncode == 1 and "no password on stdin" in empty.stderr and "Traceback" not in empty.stderr
    added = run(["user", "add", "ann@example.com", "--role", "editor"], url, tmp_path, stdin="piped-in secret 42\n")
    assert added.returncode == 0, added.stderr
    assert "piped-in secret 42" not in added.stdout + added.stderr
    engine = create_engine(url)
    with transaction(engine) as session:
        assert auth.authenticate(session, "ann@example.com", "piped-in secret 42") is not None
    engine.dispose()


def test_catalog_import_reports_bad_rows_and_strict_imports_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    assert run(["db", "upgrade"], url, tmp_path).returncode == 0
    header = (
        "handle,title,description,category,brand,base_price,currency,weight_kg,length_cm,width_cm,height_cm,"
        "images,tags,status,sku,variant_name,option1_name,option1_value,option2_name,option2_value,"
        "variant_price,stock,barcode,variant_image"
    )
    good = "mug,Mug,White mug,Home,Acme,12.00,MYR,0.4,10,10,12,,,active,MUG-1,White,Colour,White,,,,5,,"
    bad_price = "cup,Cup,Cup,Home,Acme,0,MYR,0.4,10,10,12,,,active,CUP-1,Blue,Colour,Blue,,,,5,,"
    bad_stock = "pot,Pot,Pot,Home,Acme,9.90,MYR,1,20,20,20,,,active,POT-1,Red,Colour,Red,,,,-3,,"
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text("\n".join([header, good, bad_price, bad_stock]) + "\n", encoding="utf-8")

    strict = run(["catalog", "import", str(csv_file), "--strict"], url, tmp_path)
    assert strict.returncode == 1
    assert "line 3, base_price" in strict.stderr and "line 4, stock" in strict.stderr
    assert "nothing imported" in strict.stdout
    dry = run(["catalog", "import", str(csv_file), "--dry-run"], url, tmp_path)
    assert dry.returncode == 1 and "would import 1 products" in dry.stdout
    missing = run(["catalog", "import", str(tmp_path / "nope.csv")], url, tmp_path)
    assert missing.returncode == 1 and "nope.csv" in missing.stderr and "Traceback" not in missing.stderr
    relaxed = run(["catalog", "import", str(csv_file)], url, tmp_path)
    assert relaxed.returncode == 1 and "imported 1 products" in relaxed.stdout

    exported = run(["catalog", "export"], url, tmp_path)
    assert exported.returncode == 0
    assert exported.stdout.splitlines()[0] == header + ",bundle"  # the import takes a file without it
    assert "MUG-1" in exported.stdout and "CUP-1" not in exported.stdout


def test_key_rotation_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old_key, new_key = crypto.generate_key("old"), crypto.generate_key("new")
    engine = create_engine(url)
    migrate.upgrade(engine)
    with transaction(engine) as session:
        connections.save_connection(
            Actor.command_line(), session, platform="shopee", shop_id="1001", access_token="tok-a",
            refresh_token="tok-r", access_token_expires_at=None, refresh_token_expires_at=None,
            keyring=crypto.Keyring.parse(old_key),
        )  # fmt: skip
    engine.dispose()
    both = {"SYNCSTORE_ENCRYPTION_KEYS": f"{new_key},{old_key}"}

    assert "old: 2 stored tokens" in run(["keys", "status"], url, tmp_path, both).stdout
    refused = run(["keys", "retire", "old"], url, tmp_path, both)
    assert refused.returncode == 1 and "keys rotate" in refused.stderr
    rotated = run(["keys", "rotate"], url, tmp_path, both)
    assert rotated.returncode == 0 and "1 re-encrypted under new" in rotated.stdout, rotated.stdout + rotated.stderr
    again = run(["keys", "rotate"], url, tmp_path, both)
    assert "0 re-encrypted under new, 1 already current" in again.stdout
    status = run(["keys", "status"], url, tmp_path, both).stdout
    assert "new (primary): 2 stored tokens" in status and "old: 0 stored tokens" in status
    retired = run(["keys", "retire", "old"], url, tmp_path, both)
    assert retired.returncode == 0 and "SYNCSTORE_RETIRED_KEY_IDS" in retired.stdout
    assert run(["keys", "retire", "new"], url, tmp_path, both).returncode == 1
    assert new_key.split(":")[1] not in rotated.stdout + rotated.stderr + status


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_simulator_run_serves_the_authorization_flow_until_interrupted(platform: str, tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / f"{platform}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "simulator", "run", "--platform", platform, "--port", str(port),
         "--state-file", str(state), "--redirect-url", "http://127.0.0.1:1/cb"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "simulator did not start"
                time.sleep(0.2)
        if platform == "shopee":
            shopee_app = ShopeeApp(shopee_sim_codes.DEFAULT_PARTNER_ID, shopee_sim_codes.DEFAULT_PARTNER_KEY, url)
            redirect = httpx.get(shopee_app.authorization_url("http://127.0.0.1:1/cb"), follow_redirects=False)
            query = parse_qs(urlsplit(redirect.headers["location"]).query)
            grant = shopee_app.exchange_code(query["code"][0], query["shop_id"][0])
        else:
            tiktok_app = TikTokShopApp(
                tiktokshop_sim_codes.DEMO_APP_KEY, tiktokshop_sim_codes.DEMO_APP_SECRET,
                service_id=tiktokshop_sim_codes.DEMO_SERVICE_ID, api_host=url, auth_host=url, authorize_host=url,
            )  # fmt: skip
            redirect = httpx.get(tiktok_app.authorization_url("state-1"), follow_redirects=False)
            query = parse_qs(urlsplit(redirect.headers["location"]).query)
            grant = tiktok_app.exchange_code(query["code"][0])
        assert redirect.status_code in (302, 303, 307) and grant.access_token and grant.refresh_token
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert state.exists(), "the simulator saves its state on Ctrl-C"
