"""Authors blocked from the desk with ``/desk block``: their mentions are filed closed as
spam, without a card, exactly as ``plugins.noise.blocked_authors`` (the noise plugin asks
both)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from socialdesk.core.admin.audit import AdminEventKind, record_admin_change
from socialdesk.core.admin.cache import ShortCache
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import BlockedAuthorRow

ANY_PLATFORM = "*"


@dataclass(frozen=True, slots=True)
class BlockedAuthor:
    platform: str  # or ANY_PLATFORM
    who: str  # handle without @, or the platform's user id, case-folded
    added_by: str
    added_at: datetime

    @property
    def shown(self) -> str:
        return f"@{self.who}" + ("" if self.platform == ANY_PLATFORM else f" on {self.platform}")


def author_key(who: str) -> str:
    return who.strip().lstrip("@").casefold()


class Blocklist:
    def __init__(self, database: Database, clock: Callable[[], datetime], cache_seconds: float) -> None:
        self._db = database
        self._clock = clock
        self._cache: ShortCache[list[BlockedAuthor]] = ShortCache(self._load, cache_seconds)

    async def _load(self) -> list[BlockedAuthor]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(BlockedAuthorRow).order_by(BlockedAuthorRow.platform,
                                                                           BlockedAuthorRow.who))
            return [BlockedAuthor(r.platform, r.who, r.added_by, r.added_at) for r in rows]

    async def entries(self) -> list[BlockedAuthor]:
        return await self._cache.get()

    async def is_blocked(self, platform: str, handle: str, external_id: str) -> bool:
        keys = {author_key(handle), author_key(external_id)} - {""}
        wanted = {ANY_PLATFORM, platform.casefold()}
        return any(e.who in keys and e.platform in wanted for e in await self.entries())

    async def block(self, platform: str | None, who: str, actor: str) -> bool:
        """Block ``who`` (on ``platform``, or everywhere); False if already blocked so."""
        entry = (platform.casefold() if platform else ANY_PLATFORM, author_key(who))
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                existing = await session.scalar(select(BlockedAuthorRow.id).where(
                    BlockedAuthorRow.platform == entry[0], BlockedAuthorRow.who == entry[1]))
                if existing is not None:
                    return False
                session.add(BlockedAuthorRow(platform=entry[0], who=entry[1], added_by=actor, added_at=now))
                record_admin_change(session, AdminEventKind.AUTHOR_BLOCKED, actor, now,
                                    platform=entry[0], who=entry[1])
        except IntegrityError:  # another admin, another replica, the same moment
            return False
        finally:
            self._cache.forget()
        return True

    async def unblock(self, platform: str | None, who: str, actor: str) -> bool:
        """False if that entry was not in the database (plugins.toml's list is not changed here)."""
        entry = (platform.casefold() if platform else ANY_PLATFORM, author_key(who))
        now = self._clock()
        async with self._db.transaction() as session:
            gone = await session.execute(delete(BlockedAuthorRow).where(
                BlockedAuthorRow.platform == entry[0], BlockedAuthorRow.who == entry[1]).returning(BlockedAuthorRow.id))
            if gone.first() is None:
                self._cache.forget()
                return False
            record_admin_change(session, AdminEventKind.AUTHOR_UNBLOCKED, actor, now, platform=entry[0], who=entry[1])
        self._cache.forget()
        return True
