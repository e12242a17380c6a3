"""Macros added or removed with ``/desk macro add|remove``, over ``plugins.slack.macros``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select

from socialdesk.core.admin.audit import AdminEventKind, record_admin_change
from socialdesk.core.admin.cache import ShortCache
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import DeskMacroRow


class DeskMacros:
    def __init__(self, database: Database, clock: Callable[[], datetime], cache_seconds: float) -> None:
        self._db = database
        self._clock = clock
        self._cache: ShortCache[dict[str, str | None]] = ShortCache(self._load, cache_seconds)

    async def _load(self) -> dict[str, str | None]:
        async with self._db.sessions() as session:
            return {r.name: r.text for r in await session.scalars(select(DeskMacroRow))}

    async def effective(self, configured: Mapping[str, str]) -> dict[str, str]:
        """plugins.toml's macros, with the database's additions, replacements and removals."""
        merged = dict(configured)
        for name, text in (await self._cache.get()).items():
            if text is None:
                merged.pop(name, None)
            else:
                merged[name] = text
        return dict(sorted(merged.items()))

    async def _write(self, name: str, text: str | None, actor: str, previous: str | None) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.get(DeskMacroRow, name, with_for_update=True)
            if row is None:
                session.add(DeskMacroRow(name=name, text=text, changed_by=actor, changed_at=now))
            else:
                row.text, row.changed_by, row.changed_at = text, actor, now
            kind = AdminEventKind.MACRO_REMOVED if text is None else AdminEventKind.MACRO_SAVED
            record_admin_change(session, kind, actor, now, name=name, previous=previous)
        self._cache.forget()

    async def save(self, name: str, text: str, actor: str, configured: Mapping[str, str]) -> bool:
        """Add or replace; True if it replaced a macro of that name."""
        previous = (await self.effective(configured)).get(name)
        await self._write(name, text, actor, previous)
        return previous is not None

    async def remove(self, name: str, actor: str, configured: Mapping[str, str]) -> bool:
        """False if there is no such macro."""
        previous = (await self.effective(configured)).get(name)
        if previous is None:
            return False
        await self._write(name, None, actor, previous)
        return True
