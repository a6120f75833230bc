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
    allowed = {"syncstore/ops/alerts.py", "syncstore/shops/marketplaces.py", "syncstore/media/fetch.py"}
    offenders = [m for m, names in imports_of("syncstore").items() if "httpx" in names and m not in allowed]
    assert offenders == []


# The platform packages (connectors/<platform>/, each exporting its SPEC from its __init__).
PLATFORM_PACKAGES = ("shopee", "tiktokshop", "lazada")
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


# The core's folders are its concerns (issue 15, item 7): a flat module at its top level is a shared basic
# (settings, errors, the redaction policy); everything else lives in the package of its concern.
CORE_TOP_LEVEL_MODULES = {"__init__.py", "settings.py", "errors.py", "redaction.py"}


def _core_packages() -> list[Path]:
    return sorted(path.parent for path in (ROOT / "syncstore").glob("*/__init__.py"))


def test_the_core_top_level_holds_only_shared_basics_and_concern_packages() -> None:
    flat = {path.name for path in (ROOT / "syncstore").glob("*.py")}
    assert flat == CORE_TOP_LEVEL_MODULES
    assert {package.name for package in _core_packages()} >= {
        "security",
        "catalog",
        "inventory",
        "plan",
        "sync",
        "events",
        "workers",
        "shops",
        "ops",
        "ratelimit",
        "db",
    }


@pytest.mark.parametrize("package", _core_packages(), ids=lambda package: package.name)
def test_each_core_package_states_its_concern_and_reexports_nothing(package: Path) -> None:
    """Callers import a package's modules (`from syncstore.catalog import commands`): its `__init__` says
    what the concern is and imports nothing of the core, so no old module path lives on as a shim."""
    text = (package / "__init__.py").read_text(encoding="utf-8")
    assert text.startswith("# ")
    names = imports_of(f"syncstore/{package.name}")[f"syncstore/{package.name}/__init__.py"]
    assert sorted(name for name in names if name.startswith("syncstore")) == []


def _package_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "syncstore" and len(parts) > 1 else None


def test_the_core_packages_import_each_other_without_a_cycle() -> None:
    """The packages form layers (security and events below catalog, inventory and shops; plan below sync;
    sync below workers), so any package can be read without the ones above it."""
    graph: dict[str, set[str]] = {}
    for module, names in imports_of("syncstore").items():
        parts = Path(module).parts
        source = parts[1].removesuffix(".py")
        targets = {package for name in names if (package := _package_of(name)) and package != source}
        graph.setdefault(source, set()).update(targets)

    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, set())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            else:
                visit(target, [*path, target])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []
    # The scan saw the layers: the sync engine builds on the plan, the workers on the sync.
    assert "plan" in graph["sync"]
    assert "sync" in graph["workers"]
