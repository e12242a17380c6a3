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
    """``per_desk(app)`` is ``factory(app)``, made once per app."""

    def __init__(self, factory: Callable[[DeskApp], T]) -> None:
        self._factory = factory
        self._made: weakref.WeakKeyDictionary[DeskApp, T] = weakref.WeakKeyDictionary()

    def __call__(self, app: DeskApp) -> T:
        found = self._made.get(app)
        if found is None:
            found = self._made[app] = self._factory(app)
        return found

    def existing(self, app: DeskApp) -> T | None:
        """The object if it was made, without making it."""
        return self._made.get(app)

    def forget(self, app: DeskApp) -> T | None:
        """Drop the app's object (its owner closes it), so that the next call makes a new one."""
        return self._made.pop(app, None)

    def clear(self) -> None:
        """Drop every app's object (tests, and state that must be rebuilt everywhere)."""
        self._made.clear()
