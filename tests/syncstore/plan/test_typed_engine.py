# The sync engine stays typed: no `# type: ignore` and no `Any` in the plan, its handlers and the modules applying them.
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# The plan's typed core and the sync modules applying it (the plan package's diff, rules, validation and
# conflict modules work on Polars frames and on values a person typed, and are not part of this promise).
PLAN_ENGINE = ("__init__.py", "build.py", "calls.py", "changes.py", "codec.py", "handlers.py", "store.py", "inputs.py")
ENGINE = sorted(
    [ROOT / "syncstore" / "plan" / name for name in PLAN_ENGINE]
    + [ROOT / "syncstore" / "sync" / name for name in ("engine.py", "apply.py", "stock.py")]
)


@pytest.mark.parametrize("path", ENGINE, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_sync_engine_has_no_type_ignore_and_no_any(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "type: ignore" not in text
    assert not re.search(r"\bAny\b", text), "a change's payload is a typed variant, not a dict[str, Any]"
