"""The desk's report over a period ``[since, until)``: one query module, one frozen ``Report``.

``socialdesk report``, ``/desk stats`` and the daily digest all read this, so they agree.
Rows are read with portable SQL and the statistics are computed here in Python.

Definitions (each number is about the period):

* **Volume** — tickets *created* in the period, by platform, category and priority.
  Auto-closed tickets (``close_reason`` "auto-closed: …", decided by triage at ingest)
  and spam (status ``spam`` now) are counted apart and left out of the breakdowns.
* **First response** — for the tickets in the volume, ``first_response_at − created_at``
  (the first public reply that was sent); tickets still unanswered are counted as
  ``unanswered``, not as a time.
* **Resolution** — for tickets *closed* in the period (status ``closed``, not auto-closed),
  ``closed_at − created_at``. A reopened ticket counts once, at its last close.
* **Percentiles** — linear interpolation between closest ranks (the "inclusive" method:
  numpy's default, Excel's PERCENTILE.INC): for sorted values x₀…xₙ₋₁, the p-quantile
  is at position h = (n−1)·p, i.e. x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). The median is
  p = 0.5 (the mean of the two middle values for even n); p90 is p = 0.9.
* **SLA attainment**, per timer kind (``first_response``, ``resolution``) — a timer is
  *met* when ``met_at ≤ due_at``, counted at ``met_at``; it is *missed* when it was
  breached (``breached_at``), met late, or is past ``due_at`` unmet and not paused,
  counted at ``breached_at`` (or ``due_at`` when no breach was recorded). Attainment =
  met / (met + missed) among timers counted in the period; timers still running are not
  counted. Timers of spam tickets are left out (spam never needed an answer).
* **Agents** — per Slack user: ``claimed`` (claim events), ``replies`` (replies sent,
  by ``finished_at``; an X edit, posted again as a new reply, still counts once),
  ``closed`` (close events, including "close after reply"); the desk itself
  (``system``) is not an agent.
* **CSAT** — surveys ``sent`` in the period, and those *answered* in the period with a
  score: ``responses``, ``average`` score (1–5) and ``satisfied`` share (score 4 or 5).
* **Queue now** — active tickets and unclaimed active tickets when the report was made.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.database import Database
from socialdesk.core.events import SYSTEM_ACTOR, EventKind
from socialdesk.core.store.models import (
    AuditEvent, CsatSurvey, Message, Reply, SlaTimer, Ticket, is_active, is_counted_answer,
)
from socialdesk.core.ticket import TicketStatus

AUTO_CLOSED_PREFIX = "auto-closed:"
SATISFIED_SCORES = (4, 5)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-quantile (0..1) of ``values`` by linear interpolation; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * p
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True, slots=True)
class Durations:
    """Seconds: how many, median, 90th percentile (``None`` when there are none)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        return cls(len(seconds), _ms(percentile(seconds, 0.5)), _ms(percentile(seconds, 0.9)))


def _ms(seconds: float | None) -> float | None:
    # Rounded to the millisecond: interpolation's float noise (1440.0000000000002) is not a number to print.
    return None if seconds is None else round(seconds, 3)


@dataclass(frozen=True, slots=True)
class SlaAttainment:
    kind: str
    met: int
    missed: int

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def attainment(self) -> float | None:
        """Share of timers met on time (0..1); ``None`` when none was decided."""
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class AgentCounts:
    agent: str  # Slack user id
    claimed: int = 0
    replies: int = 0
    closed: int = 0


@dataclass(frozen=True, slots=True)
class Csat:
    sent: int
    responses: int
    average: float | None
    satisfied: float | None  # share of responses scoring 4 or 5 (0..1)


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    generated_at: datetime
    timezone: str
    created: int  # every ticket created in the period
    tickets: int  # created, minus auto-closed and spam: what the breakdowns count
    auto_closed: int
    spam: int
    by_platform: dict[str, int]
    by_category: dict[str, int]
    by_priority: dict[int, int]
    first_response: Durations
    unanswered: int
    resolution: Durations
    sla: tuple[SlaAttainment, ...]
    agents: tuple[AgentCounts, ...]
    csat: Csat
    open_now: int
    unclaimed_now: int


@dataclass(frozen=True, slots=True)
class DaySeries:
    """One day (desk time zone) for the digest chart."""

    day: date
    mentions: dict[str, int] = field(default_factory=dict)  # platform -> inbound messages received
    first_response: Durations = Durations(0, None, None)  # tickets created that day


def _in(column: object, since: datetime, until: datetime) -> object:
    return and_(column >= since, column < until)  # type: ignore[operator]


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _is_auto_closed(reason: str | None) -> bool:
    return bool(reason and reason.startswith(AUTO_CLOSED_PREFIX))


@dataclass(frozen=True, slots=True)
class _Volume:
    created: int
    tickets: int
    auto_closed: int
    spam: int
    by_platform: dict[str, int]
    by_category: dict[str, int]
    by_priority: dict[int, int]
    first_response: Durations
    unanswered: int


async def _volume(session: AsyncSession, since: datetime, until: datetime) -> _Volume:
    rows = (await session.execute(
        select(Ticket.platform, Ticket.category, Ticket.priority, Ticket.status, Ticket.close_reason,
               Ticket.created_at, Ticket.first_response_at).where(_in(Ticket.created_at, since, until))
    )).all()
    counted = [r for r in rows if r.status != TicketStatus.SPAM and not _is_auto_closed(r.close_reason)]
    waits = [(r.first_response_at - r.created_at).total_seconds() for r in counted if r.first_response_at]
    return _Volume(
        created=len(rows),
        tickets=len(counted),
        auto_closed=sum(1 for r in rows if r.status != TicketStatus.SPAM and _is_auto_closed(r.close_reason)),
        spam=sum(1 for r in rows if r.status == TicketStatus.SPAM),
        by_platform=_sorted_counts(Counter(r.platform for r in counted)),
        by_category=_sorted_counts(Counter(r.category for r in counted)),
        by_priority=dict(sorted(Counter(int(r.priority) for r in counted).items())),
        first_response=Durations.of(waits),
        unanswered=sum(1 for r in counted if r.first_response_at is None),
    )


async def _resolution(session: AsyncSession, since: datetime, until: datetime) -> Durations:
    rows = (await session.execute(
        select(Ticket.created_at, Ticket.closed_at, Ticket.close_reason)
        .where(Ticket.status == TicketStatus.CLOSED, _in(Ticket.closed_at, since, until))
    )).all()
    return Durations.of([(r.closed_at - r.created_at).total_seconds() for r in rows
                         if not _is_auto_closed(r.close_reason)])


def _sla_outcome(t: Any, now: datetime) -> tuple[bool, datetime] | None:
    """(met on time?, when that was decided), or ``None`` while the timer still runs."""
    if t.met_at is not None and t.met_at <= t.due_at:
        return True, t.met_at
    if t.breached_at is not None:
        return False, t.breached_at
    if t.met_at is not None or (t.paused_at is None and t.due_at <= now):
        return False, t.due_at
    return None


async def _sla(session: AsyncSession, since: datetime, until: datetime, now: datetime) -> tuple[SlaAttainment, ...]:
    # Every timer that could have been decided in the period; the outcome is judged below.
    # Columns, not ORM objects: a busy week has tens of thousands of timers.
    rows = (await session.execute(
        select(SlaTimer.kind, SlaTimer.due_at, SlaTimer.met_at, SlaTimer.breached_at, SlaTimer.paused_at)
        .join(Ticket, Ticket.id == SlaTimer.ticket_id).where(
            Ticket.status != TicketStatus.SPAM,
            or_(_in(SlaTimer.met_at, since, until), _in(SlaTimer.breached_at, since, until),
                _in(SlaTimer.due_at, since, until)),
        )
    )).all()
    met: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for timer in rows:
        outcome = _sla_outcome(timer, now)
        if outcome is None or not since <= outcome[1] < until:
            continue
        (met if outcome[0] else missed)[timer.kind] += 1
    kinds = sorted(set(met) | set(missed))
    return tuple(SlaAttainment(kind, met[kind], missed[kind]) for kind in kinds)


async def _agents(session: AsyncSession, since: datetime, until: datetime) -> tuple[AgentCounts, ...]:
    events = (await session.execute(
        select(AuditEvent.actor, AuditEvent.kind, func.count()).where(
            AuditEvent.kind.in_((EventKind.CLAIMED.value, EventKind.CLOSED.value)),
            AuditEvent.actor != SYSTEM_ACTOR, _in(AuditEvent.at, since, until),
        ).group_by(AuditEvent.actor, AuditEvent.kind)
    )).all()
    sent = (await session.execute(
        select(Reply.agent, func.count()).where(is_counted_answer(),
                                                _in(Reply.finished_at, since, until)).group_by(Reply.agent)
    )).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"claimed": 0, "replies": 0, "closed": 0})
    for actor, kind, n in events:
        counts[actor]["claimed" if kind == EventKind.CLAIMED.value else "closed"] += n
    for agent, n in sent:
        counts[agent]["replies"] += n
    rows = [AgentCounts(agent, **c) for agent, c in counts.items()]
    return tuple(sorted(rows, key=lambda a: (-(a.replies + a.closed + a.claimed), a.agent)))


async def _csat(session: AsyncSession, since: datetime, until: datetime) -> Csat:
    sent = await session.scalar(select(func.count()).select_from(CsatSurvey).where(
        _in(CsatSurvey.sent_at, since, until))) or 0
    scores = list(await session.scalars(select(CsatSurvey.score).where(
        _in(CsatSurvey.answered_at, since, until), CsatSurvey.score.is_not(None))))
    if not scores:
        return Csat(sent, 0, None, None)
    return Csat(sent, len(scores), sum(scores) / len(scores),
                sum(1 for s in scores if s in SATISFIED_SCORES) / len(scores))


async def _queue_now(session: AsyncSession) -> tuple[int, int]:
    active = await session.scalar(select(func.count()).select_from(Ticket).where(
        is_active(Ticket.status))) or 0
    unclaimed = await session.scalar(select(func.count()).select_from(Ticket).where(
        is_active(Ticket.status), Ticket.assignee.is_(None))) or 0
    return active, unclaimed


async def build_report(database: Database, since: datetime, until: datetime, *, now: datetime,
                       tz_name: str = "UTC") -> Report:
    """The report for ``[since, until)`` (aware UTC datetimes); ``now`` judges running SLA timers."""
    async with database.sessions() as session:
        volume = await _volume(session, since, until)
        resolution = await _resolution(session, since, until)
        sla = await _sla(session, since, until, now)
        agents = await _agents(session, since, until)
        csat = await _csat(session, since, until)
        open_now, unclaimed_now = await _queue_now(session)
    v = volume
    return Report(since=since, until=until, generated_at=now, timezone=tz_name, created=v.created,
                  tickets=v.tickets, auto_closed=v.auto_closed, spam=v.spam, by_platform=v.by_platform,
                  by_category=v.by_category, by_priority=v.by_priority, first_response=v.first_response,
                  unanswered=v.unanswered, resolution=resolution, sla=sla, agents=agents, csat=csat,
                  open_now=open_now, unclaimed_now=unclaimed_now)


def _days(first: date, count: int) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range(count))


async def daily_series(database: Database, last_day: date, days: int, tz_name: str) -> list[DaySeries]:
    """Per day of the desk's time zone, ``days`` days ending with ``last_day`` (inclusive):
    mentions received by platform, and the first-response times of the tickets created."""
    tz = ZoneInfo(tz_name)
    first_day = last_day - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    async with database.sessions() as session:
        mentions = (await session.execute(
            select(Message.platform, Message.received_at)
            .where(Message.direction == "inbound", _in(Message.received_at, start, end))
        )).all()
        tickets = (await session.execute(
            select(Ticket.created_at, Ticket.first_response_at, Ticket.status, Ticket.close_reason)
            .where(_in(Ticket.created_at, start, end), Ticket.first_response_at.is_not(None))
        )).all()
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for platform, received_at in mentions:
        by_day[received_at.astimezone(tz).date()][platform] += 1
    waits: dict[date, list[float]] = defaultdict(list)
    for t in tickets:
        if t.status != TicketStatus.SPAM and not _is_auto_closed(t.close_reason):
            waits[t.created_at.astimezone(tz).date()].append((t.first_response_at - t.created_at).total_seconds())
    return [DaySeries(day, dict(sorted(by_day[day].items())), Durations.of(waits[day]))
            for day in _days(first_day, days)]
