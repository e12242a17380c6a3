"""Read models for the App Home tab: the unclaimed queue, SLA clocks near or past their
deadline, open incidents, and each agent's stored Home preferences.

Plain functions over a session, like :mod:`socialdesk.core.store.ticket_queries` (whose
``queue_query`` they build on, so the queue is read in the order of its partial index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.models import HomePreference, Incident, Ticket, is_active
from socialdesk.core.store.ticket_queries import queue_query, snapshot_of_row
from socialdesk.core.store.tickets import snapshot
from socialdesk.core.ticket import TicketSnapshot

INCIDENT_ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class HomeFilters:
    platform: str | None = None
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    title: str
    active_tickets: int
    card_channel: str | None
    card_ts: str | None
    first_seen: datetime


async def unclaimed(session: AsyncSession, filters: HomeFilters, limit: int) -> list[TicketSnapshot]:
    """Active tickets nobody holds, most urgent first, oldest first within a priority."""
    query = queue_query(platform=filters.platform, priority=filters.priority, limit=limit) \
        .where(Ticket.assignee.is_(None))
    return [snapshot_of_row(row) for row in (await session.execute(query)).tuples()]


async def held_by(session: AsyncSession, user_id: str, filters: HomeFilters, limit: int) -> list[TicketSnapshot]:
    query = queue_query(platform=filters.platform, priority=filters.priority, assignee=user_id, limit=limit)
    return [snapshot_of_row(row) for row in (await session.execute(query)).tuples()]


async def sla_at_risk(session: AsyncSession, filters: HomeFilters, now: datetime, soon: timedelta,
                      limit: int) -> list[TicketSnapshot]:
    """Active tickets whose first response (unanswered) or resolution is due before ``now + soon``
    — breached ones included — the earliest deadline first."""
    horizon = now + soon
    first_due = and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= horizon)
    query = select(Ticket).where(is_active(Ticket.status), or_(first_due, Ticket.resolution_due <= horizon))
    if filters.platform:
        query = query.where(Ticket.platform == filters.platform)
    if filters.priority:
        query = query.where(Ticket.priority == filters.priority)
    # The deadline that matters (see ``deadline``), earliest first; resolution alone when answered.
    first = case((first_due, Ticket.first_response_due), else_=Ticket.resolution_due)
    rows = await session.scalars(query.order_by(first, Ticket.id).limit(limit * 2))
    return sorted((snapshot(t) for t in rows), key=lambda t: (deadline(t) or horizon, t.id))[:limit]


def deadline(t: TicketSnapshot) -> datetime | None:
    """The SLA deadline that matters now: the first response while unanswered, else resolution."""
    dues = [d for d in ((t.first_response_due if t.first_response_at is None else None), t.resolution_due) if d]
    return min(dues) if dues else None


async def open_incidents(session: AsyncSession, limit: int) -> list[OpenIncident]:
    counts = (select(Ticket.incident_id, func.count().label("n")).where(is_active(Ticket.status),
                                                                        Ticket.incident_id.is_not(None))
              .group_by(Ticket.incident_id).subquery())
    rows = (await session.execute(
        select(Incident, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.incident_id == Incident.id)
        .where(Incident.status == INCIDENT_ACTIVE).order_by(Incident.first_seen.desc(), Incident.id.desc())
        .limit(limit))).all()
    return [OpenIncident(i.id, i.title, int(n), i.card_channel, i.card_ts, i.first_seen) for i, n in rows]


async def home_filters(session: AsyncSession, user_id: str) -> HomeFilters:
    row = await session.get(HomePreference, user_id)
    return HomeFilters(row.platform, row.priority) if row else HomeFilters()


async def home_page(session: AsyncSession, user_id: str) -> int:
    """The page the agent last turned to (0: the first)."""
    row = await session.get(HomePreference, user_id)
    return row.page if row else 0


async def recent_openers(session: AsyncSession, since: datetime) -> list[str]:
    """Who opened their Home since ``since`` (``ix_home_preferences_opened_at``)."""
    return list(await session.scalars(select(HomePreference.user_id).where(HomePreference.opened_at >= since)
                                      .order_by(HomePreference.user_id)))
