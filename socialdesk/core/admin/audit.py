"""Audit events of admin changes: rows of ``audit_events`` with no ticket."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.models import AuditEvent


class AdminEventKind(StrEnum):
    AUTHOR_BLOCKED = "author_blocked"  # details: platform, who
    AUTHOR_UNBLOCKED = "author_unblocked"
    MACRO_SAVED = "macro_saved"  # details: name, previous (text or None)
    MACRO_REMOVED = "macro_removed"  # details: name, previous
    MEMBER_ADDED = "member_added"  # details: subject, role
    MEMBER_REMOVED = "member_removed"


def record_admin_change(session: AsyncSession, kind: AdminEventKind, actor: str, at: datetime,
                        **details: Any) -> None:
    session.add(AuditEvent(ticket_id=None, kind=kind.value, actor=actor, at=at, details=details))
