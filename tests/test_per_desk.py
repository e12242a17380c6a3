"""PerDesk: one object per desk app, made on first use, gone with the app. A runtime holds
its app; kept in a map keyed by the app, it kept every desk a process built alive (the
test suite reached millions of objects and multi-second garbage collections)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from socialdesk.core.per_desk import PerDesk


class _App:
    """What PerDesk needs of a DeskApp."""

    def __init__(self) -> None:
        self.per_desk: dict[object, Any] = {}


class _Runtime:
    def __init__(self, app: Any) -> None:
        self.app = app  # as the platform and Slack runtimes do


def test_one_object_per_app_made_on_first_use() -> None:
    runtime_for: PerDesk[_Runtime] = PerDesk(_Runtime)
    first, second = _App(), _App()
    assert runtime_for.existing(first) is None  # type: ignore[arg-type]
    made = runtime_for(first)  # type: ignore[arg-type]
    assert runtime_for(first) is made and made.app is first  # type: ignore[arg-type]
    assert runtime_for(second) is not made  # type: ignore[arg-type]
    assert runtime_for.forget(first) is made and runtime_for.existing(first) is None  # type: ignore[arg-type]
    runtime_for.clear()
    assert runtime_for.existing(second) is None  # type: ignore[arg-type]


def test_an_object_holding_its_app_does_not_keep_the_app_alive() -> None:
    runtime_for: PerDesk[_Runtime] = PerDesk(_Runtime)
    app = _App()
    runtime = weakref.ref(runtime_for(app))  # type: ignore[arg-type]
    gone = weakref.ref(app)
    del app
    gc.collect()
    assert gone() is None and runtime() is None
