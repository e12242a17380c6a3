"""What the SLA clocks say: the card's SLA line and the notices in the card's thread.

The card line is plain text (the card builder escapes it); the notices are mrkdwn made
by the desk alone (times, ticket numbers, the on-call group) — no customer text.
Deadlines are shown in the team's time zone, where the business hours are defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from socialdesk.core.slack.timefmt import duration, slack_date
from socialdesk.core.ticket import TicketStatus, ticket_ref
from socialdesk.plugins.sla.settings import SlaPolicy

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

LABELS = {"first_response": "first response", "resolution": "resolution"}
BREACH_FLAG = "🚨 SLA breached"


class TimerView(Protocol):
    kind: str
    started_at: datetime
    due_at: datetime
    remind_at: datetime
    paused_at: datetime | None
    breached_at: datetime | None
    met_at: datetime | None


class TicketView(Protocol):
    id: int
    status: str
    priority: int
    first_response_at: datetime | None


def local_time(policy: SlaPolicy, moment: datetime) -> str:
    local = moment.astimezone(policy.business.tz)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def _business(policy: SlaPolicy, priority: int) -> str:
    return "" if policy.calendar(priority).is_24x7 else " of business time"


def _left(policy: SlaPolicy, priority: int, a: datetime, b: datetime) -> str:
    calendar = policy.calendar(priority)
    seconds = calendar.between(a, b)
    if calendar.is_24x7 or seconds < 3600:
        return duration(seconds)
    hours, minutes = divmod(int(seconds) // 60, 60)  # never "days": a business day is not 24 h
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _timer_part(policy: SlaPolicy, ticket: TicketView, timer: TimerView, now: datetime) -> str | None:
    label, biz, p = LABELS[timer.kind], _business(policy, ticket.priority), ticket.priority
    answered = timer.kind == "first_response" and ticket.first_response_at is not None
    if answered or timer.met_at is not None:
        if timer.kind == "first_response" and not answered:
            return "closed without a reply"
        used = _left(policy, p, timer.started_at, timer.paused_at or timer.met_at or now)
        done = "first response" if timer.kind == "first_response" else "resolved"
        return f"{done} after {used}{biz}" + (" (late)" if timer.breached_at else "")
    if timer.breached_at is not None:
        return f"{label} overdue by {_left(policy, p, timer.due_at, now)}{biz} (was due {local_time(policy, timer.due_at)})"
    if timer.paused_at is not None:
        why = "snoozed" if ticket.status == TicketStatus.SNOOZED else "waiting on the customer"
        return f"{label} paused while {why}, {_left(policy, p, timer.paused_at, timer.due_at)}{biz} left"
    return f"{label} due in {_left(policy, p, now, timer.due_at)}{biz} (by {local_time(policy, timer.due_at)})"


def card_line(policy: SlaPolicy, ticket: TicketView, timers: Mapping[str, TimerView], now: datetime) -> str | None:
    """``first response due in 3 h of business time (by Tue 03 Nov 12:00 CET) · resolution …``"""
    parts = [part for kind in ("first_response", "resolution") if kind in timers
             for part in [_timer_part(policy, ticket, timers[kind], now)] if part]
    if not parts:
        return None
    breached = any(t.breached_at is not None for t in timers.values())
    line = " · ".join(parts)
    return f"{BREACH_FLAG} · {line[0].upper()}{line[1:]}" if breached else line[0].upper() + line[1:]


def breached_field(policy: SlaPolicy, timers: Mapping[str, TimerView]) -> str | None:
    """The value of the card's bold "SLA breached" field: which clocks, and when."""
    late = [f"{LABELS[t.kind]} (due {local_time(policy, t.due_at)})"
            for kind in ("first_response", "resolution") if (t := timers.get(kind)) and t.breached_at]
    return ", ".join(late) or None


def reminder_notice(policy: SlaPolicy, ticket: TicketView, timer: TimerView, now: datetime) -> str:
    share = round(policy.reminder_at * 100)
    left = _left(policy, ticket.priority, now, timer.due_at)
    return (f"⏳ {share}% of the {LABELS[timer.kind].replace(' ', '-')} time used on {ticket_ref(ticket.id)}: "
            f"due {slack_date(timer.due_at)} ({left}{_business(policy, ticket.priority)} left)")


def breach_notice(app: DeskApp, policy: SlaPolicy, ticket: TicketView, timer: TimerView, now: datetime) -> str:
    group = app.config.desk.oncall_group
    page = f" <!subteam^{group}> please pick it up." if group and policy.settings.breach_mentions_oncall else ""
    return (f"🚨 SLA breached: the {LABELS[timer.kind]} to {ticket_ref(ticket.id)} (P{ticket.priority}) "
            f"was due {slack_date(timer.due_at)}.{page}")
