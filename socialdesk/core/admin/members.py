"""Who may act, changed with ``/desk agents add|remove`` over ``desk.agents``,
``desk.agent_groups``, ``desk.admins`` and ``desk.admin_groups``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from socialdesk.core.admin.audit import AdminEventKind, record_admin_change
from socialdesk.core.admin.cache import ShortCache
from socialdesk.core.config import DeskConfig
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import DeskMemberRow

AGENT, ADMIN = "agent", "admin"


@dataclass(frozen=True, slots=True)
class MemberLists:
    agents: frozenset[str]
    agent_groups: frozenset[str]
    admins: frozenset[str]
    admin_groups: frozenset[str]


def _is_group(subject: str) -> bool:
    return subject.startswith("S")


class DeskMembers:
    def __init__(self, database: Database, clock: Callable[[], datetime], cache_seconds: float,
                 desk: DeskConfig) -> None:
        self._db = database
        self._clock = clock
        self._desk = desk
        self._cache: ShortCache[dict[tuple[str, str], bool]] = ShortCache(self._load, cache_seconds)

    async def _load(self) -> dict[tuple[str, str], bool]:
        async with self._db.sessions() as session:
            return {(r.subject, r.role): bool(r.removed) for r in await session.scalars(select(DeskMemberRow))}

    async def lists(self) -> MemberLists:
        """plugins.toml's lists with the database's additions and removals."""
        sets = {(AGENT, False): set(self._desk.agents), (AGENT, True): set(self._desk.agent_groups),
                (ADMIN, False): set(self._desk.admins), (ADMIN, True): set(self._desk.admin_groups)}
        for (subject, role), removed in (await self._cache.get()).items():
            target = sets.get((role, _is_group(subject)))
            if target is None:
                continue
            if removed:
                target.discard(subject)
            else:
                target.add(subject)
        return MemberLists(frozenset(sets[(AGENT, False)]), frozenset(sets[(AGENT, True)]),
                           frozenset(sets[(ADMIN, False)]), frozenset(sets[(ADMIN, True)]))

    async def change(self, subject: str, role: str, actor: str, *, remove: bool) -> bool:
        """Add or remove ``subject`` in ``role``; False if that changed nothing."""
        current = await self.lists()
        held = subject in ((current.agent_groups if _is_group(subject) else current.agents) if role == AGENT
                           else (current.admin_groups if _is_group(subject) else current.admins))
        if held != remove:
            return False
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.get(DeskMemberRow, (subject, role), with_for_update=True)
            if row is None:
                session.add(DeskMemberRow(subject=subject, role=role, removed=remove, changed_by=actor,
                                          changed_at=now))
            else:
                row.removed, row.changed_by, row.changed_at = remove, actor, now
            kind = AdminEventKind.MEMBER_REMOVED if remove else AdminEventKind.MEMBER_ADDED
            record_admin_change(session, kind, actor, now, subject=subject, role=role)
        self._cache.forget()
        return True
