# The sync engine stays typed: no `# type: ignore` and no `Any` in the plan, its handlers and the modules applying them.
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENGINE = sorted(
    [*(ROOT / "syncstore" / "plan").glob("*.py")]
    + [ROOT / "syncstore" / name for name in ("sync.py", "sync_apply.py", "sync_stock.py")]
)


@pytest.mark.parametrize("path", ENGINE, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_sync_engine_has_no_type_ignore_and_no_any(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "type: ignore" not in text
    assert not re.search(r"\bAny\b", text), "a change's payload is a typed variant, not a dict[str, Any]"
