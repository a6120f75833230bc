# S10: every dependency is locked with hashes, `make` installs from the lock, and CI checks it is current.
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-dev.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every requirement in the lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in LOCK.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = _name(match.group(1))
            pins[current] = (match.group(2), [])
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            pins[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"an unpinned line in the lock: {line!r}")
    return pins


def test_every_dependency_is_pinned_with_hashes() -> None:
    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {_name(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]) for requirement in wanted}
    assert names - set(pins) == set()
    assert all(hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes) for _, hashes in pins.values())
    # Build tools of the editable install are locked too (it runs without build isolation).
    assert {"setuptools", "wheel", "uv"} <= set(pins)


def test_dagster_is_locked_in_lockstep() -> None:
    pins = locked()
    core, webserver, postgres = pins["dagster"][0], pins["dagster-webserver"][0], pins["dagster-postgres"][0]
    minor = re.fullmatch(r"1\.13\.(\d+)", core)
    assert minor is not None and webserver == core and postgres == f"0.29.{minor.group(1)}"


def test_make_installs_from_the_lock_and_ci_checks_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    assert "-e '.[dev]'" not in makefile  # nothing resolved outside the lock
    assert re.search(r"^lock-check:", makefile, re.MULTILINE)
    assert "make lock-check" in (ROOT / ".ci" / "run").read_text()
