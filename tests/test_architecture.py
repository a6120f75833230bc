# The arrows of ARCHITECTURE.md, checked: faces -> syncstore -> connectors.base, never back.
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module of `package` and the top-level names it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from connectors import shopee` imports connectors.shopee.
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_connectors_never_reach_into_syncstore_or_the_database() -> None:
    offenders = {
        module: sorted(n for n in names if n.startswith(("syncstore", "sqlalchemy")))
        for module, names in imports_of("connectors").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_core_imports_no_face() -> None:
    # The faces' frameworks (the command line's typer, click and rich included) and the faces themselves.
    frameworks = ("dagster", "streamlit", "starlette", "uvicorn", "typer", "click", "rich")
    faces = (*frameworks, "cli", "assets", "pipelines", "webhook_receiver", "demo")
    offenders = {
        module: sorted(n for n in names if n.split(".")[0] in faces)
        for module, names in imports_of("syncstore").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_assets_never_import_the_pipelines() -> None:
    """`pipelines/` builds on `assets/` (jobs, schedules, sensors select assets), never the reverse."""
    offenders = {
        module: sorted(n for n in names if n.split(".")[0] == "pipelines")
        for module, names in imports_of("assets").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_core_has_no_async_code() -> None:
    """The core is synchronous: the receiver's event-loop store (AsyncPostgresStore) lives in webhook_receiver/."""
    offenders = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "syncstore").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.AsyncFunctionDef | ast.AsyncWith | ast.AsyncFor | ast.Await)
    )
    assert offenders == []


# `demo/` is not in the list on purpose: it starts the simulators, the local stand-ins for the platforms.
@pytest.mark.parametrize("package", ["syncstore", "assets", "pipelines", "webhook_receiver", "streamlit_app", "cli"])
def test_platforms_are_reached_only_through_the_connector_factory(package: str) -> None:
    # Platforms are reached through their specs in `connectors.registry`; everything else sees
    # connectors.base. `syncstore simulator run` starts a simulator through its platform's spec.
    platform_modules = (*(f"connectors.{platform}" for platform in PLATFORM_PACKAGES), "connectors.simulator")
    offenders = {
        module: sorted(n for n in names if n.startswith(platform_modules))
        for module, names in imports_of(package).items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_only_the_connectors_and_the_alert_hook_speak_http() -> None:
    allowed = {"syncstore/alerts.py", "syncstore/marketplaces.py"}
    offenders = [m for m, names in imports_of("syncstore").items() if "httpx" in names and m not in allowed]
    assert offenders == []


# The platform packages (connectors/<platform>/, each exporting its SPEC from its __init__).
PLATFORM_PACKAGES = ("shopee", "tiktokshop")
SPEC_MODULES = {f"connectors/{platform}/__init__.py" for platform in PLATFORM_PACKAGES}


SIMULATOR_DIRS = ("connectors/simulator", *(f"connectors/{platform}/simulator" for platform in PLATFORM_PACKAGES))


def _is_simulator(module: str) -> bool:
    return module.startswith(tuple(f"{folder}/" for folder in SIMULATOR_DIRS))


def _simulator_module(name: str) -> bool:
    return name == "connectors.simulator" or name.startswith("connectors.simulator.") or ".simulator" in name


def test_the_simulators_are_an_independent_oracle() -> None:
    """A simulator written from the reference imports nothing of the connector it checks (constants,
    enums, limits, error codes, signers), so a misreading in a connector is caught, not copied.
    It lives beside its connector (connectors/<platform>/simulator/) and imports only simulator modules."""
    connector_modules = ("connectors.shopee", "connectors.tiktokshop", "connectors.lazada", "connectors.retry")
    offenders = {
        module: sorted(
            name
            for name in names
            if (name.startswith(connector_modules) and not _simulator_module(name))
            or name in {"connectors.base"}
            or name.startswith("connectors.base.")
        )
        for folder in SIMULATOR_DIRS
        for module, names in imports_of(folder).items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}
    assert all(any((ROOT / folder).glob("*.py")) for folder in SIMULATOR_DIRS)  # the scan saw them
    # And the other way round: no connector leans on a simulator. A platform's spec names its simulator
    # (for `syncstore simulator run` and the demo) and loads it only to serve it.
    leaning = {
        module: sorted(n for n in names if _simulator_module(n))
        for module, names in imports_of("connectors").items()
        if not _is_simulator(module) and module not in SPEC_MODULES
    }
    assert {m: n for m, n in leaning.items() if n} == {}


def test_only_the_registry_lists_the_platform_specs() -> None:
    """Outside its own package, a platform package is imported by the registry alone (for its SPEC)."""
    importers = {
        module
        for package in ("connectors", "syncstore", "assets", "pipelines", "webhook_receiver", "streamlit_app")
        for module, names in imports_of(package).items()
        for platform in PLATFORM_PACKAGES
        if not module.startswith(f"connectors/{platform}/")
        and any(name == f"connectors.{platform}" or name.startswith(f"connectors.{platform}.") for name in names)
    }
    assert importers == {"connectors/registry.py"}


def test_the_app_imports_no_platform_module() -> None:
    """The Streamlit app reaches marketplaces through syncstore and the registry (labels), never a platform."""
    offenders = {
        module: sorted(
            name for name in names if name.startswith("connectors.") and name.split(".")[1] not in {"base", "registry"}
        )
        for module, names in imports_of("streamlit_app").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_platform_display_names_come_only_from_the_registry() -> None:
    """No page spells a platform's display name ("Shopee", "TikTok Shop"): `ui.platform_label` asks the registry."""
    from connectors import registry

    labels = {spec.label for spec in registry.platforms()}
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "streamlit_app").rglob("*.py")):
        found = [
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() in labels
        ]
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


# Where the platforms may be named in code: their packages (connectors/), the demo's seeding and the tests.
# Migrations are history: 0001 created, and 0010 dropped, a constraint that listed them.
_NAMING_PACKAGES = ("syncstore", "webhook_receiver", "streamlit_app", "pipelines", "assets", "cli", "bench")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants in `tree` (docstrings may name a platform; code may not)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


@pytest.mark.parametrize("package", _NAMING_PACKAGES)
def test_no_string_literal_names_a_platform_outside_its_package(package: str) -> None:
    """A platform's name ("shopee"), label ("TikTok Shop") or key prefix ("shopee-...") is never a string
    constant outside connectors/: the core, the faces and the benches take them from the registry."""
    from connectors import registry

    names = {spec.name for spec in registry.platforms()}
    labels = {spec.label for spec in registry.platforms()}
    prefixes = tuple(f"{name}-" for name in names)
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        found = [
            f"{node.lineno}: {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and (node.value.strip() in names | labels or node.value.strip().startswith(prefixes))
        ]
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
