"""Direct reads of the store for assertions (what the desk really wrote)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from socialdesk.core.app import DeskApp
from socialdesk.core.store.models import AuditEvent, Message, OutboxJob, Reply, Ticket


async def count(app: DeskApp, model: Any, *where: Any) -> int:
    async with app.database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def jobs(app: DeskApp, kind: str | None = None) -> list[OutboxJob]:
    query = select(OutboxJob).order_by(OutboxJob.id)
    if kind:
        query = query.where(OutboxJob.kind == kind)
    async with app.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def audit_kinds(app: DeskApp, ticket_id: int) -> list[str]:
    return [e.kind.value for e in await app.service.audit_trail(ticket_id)]


__all__ = ["AuditEvent", "Message", "OutboxJob", "Reply", "Ticket", "audit_kinds", "count", "jobs"]
