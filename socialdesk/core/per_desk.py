"""``PerDesk``: one object per desk app, made on first use and dropped with the app.

Plugins keep their runtime state (clients, caches, indexes) this way rather than in
module globals: one process may run several desks (the tests, the demo's replicas), and a
desk that is gone must not keep its clients and caches alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

T = TypeVar("T")


class PerDesk(Generic[T]):
    """``per_desk(app)`` is ``factory(app)``, made once per app.

    The object is kept on the app itself (``app.per_desk``), not in a map keyed by the
    app: the objects hold their app (a runtime keeps ``.app``), so a weak-keyed map's
    value would keep its own key alive, and every desk a process ever built with it."""

    def __init__(self, factory: Callable[[DeskApp], T]) -> None:
        self._factory = factory
        self._apps: weakref.WeakSet[DeskApp] = weakref.WeakSet()  # the apps holding one, for clear()

    def __call__(self, app: DeskApp) -> T:
        found: T | None = app.per_desk.get(self)
        if found is None:
            found = app.per_desk[self] = self._factory(app)
            self._apps.add(app)
        return found

    def existing(self, app: DeskApp) -> T | None:
        """The object if it was made, without making it."""
        return app.per_desk.get(self)

    def forget(self, app: DeskApp) -> T | None:
        """Drop the app's object (its owner closes it), so that the next call makes a new one."""
        self._apps.discard(app)
        return app.per_desk.pop(self, None)

    def clear(self) -> None:
        """Drop every app's object (tests, and state that must be rebuilt everywhere)."""
        for app in list(self._apps):
            self.forget(app)
