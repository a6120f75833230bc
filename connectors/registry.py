# The ONE place that lists the marketplaces: each platform's PlatformSpec, looked up by name.
"""The platform registry.

`platforms()` is every marketplace SyncStore speaks to, in display order; `spec(name)` is one of
them (UnknownPlatform for a name no spec has); `label(name)` is what people read. The core, the
receiver and the app take names, connectors, OAuth calls, webhook verifiers and labels from here
instead of importing a platform module or comparing a platform's name.

`register(spec)` adds a platform at run time (a test's fake marketplace); it returns a function that
takes it away again, for a fixture's teardown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from connectors import lazada, shopee, tiktokshop
from connectors.base import PlatformSpec

_lock = threading.Lock()
_specs: dict[str, PlatformSpec] = {s.name: s for s in (shopee.SPEC, tiktokshop.SPEC, lazada.SPEC)}


class UnknownPlatform(LookupError):
    """No registered marketplace has this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown platform {name!r}: the registered platforms are {', '.join(names())}")


def platforms() -> tuple[PlatformSpec, ...]:
    """Every registered marketplace, in registration order."""
    with _lock:
        return tuple(_specs.values())


def names() -> tuple[str, ...]:
    """The registered platforms' names ("shopee", ...), in registration order."""
    with _lock:
        return tuple(_specs)


def spec(name: str) -> PlatformSpec:
    """The marketplace called `name`; UnknownPlatform if none is."""
    with _lock:
        found = _specs.get(name)
    if found is None:
        raise UnknownPlatform(name)
    return found


def is_platform(name: object) -> bool:
    """True when `name` is a registered platform's name."""
    with _lock:
        return isinstance(name, str) and name in _specs


def label(name: str) -> str:
    """What people read for a platform ("TikTok Shop"); an unknown name is shown as it is."""
    with _lock:
        found = _specs.get(name)
    return found.label if found is not None else name


def register(new: PlatformSpec) -> Callable[[], None]:
    """Add a marketplace (ValueError if the name is taken); returns the function that removes it."""
    with _lock:
        if new.name in _specs:
            raise ValueError(f"platform {new.name!r} is already registered")
        _specs[new.name] = new

    def unregister() -> None:
        with _lock:
            if _specs.get(new.name) is new:
                del _specs[new.name]

    return unregister
