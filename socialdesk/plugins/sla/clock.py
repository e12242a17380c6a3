"""SLA timer rules, as pure functions of a ticket's state (no database here).

A timer is settled against its ticket, idempotently: the same ticket state settles to
the same timer however often (and on whichever replica) it is applied.

* **Start**: ``started_at`` = the ticket's creation; ``due_at``/``remind_at`` = that plus
  the target (and ``reminder_at`` of it) in business time.
* **Stop** (``met_at``): first response when the first reply was posted; resolution, and a
  first response never given, when the ticket is closed or marked as spam. A clock
  stopped later than its due time is a breach (recorded, not announced: it is over).
* **Pause**: while snoozed (both clocks) or waiting on the customer (resolution). On
  resume, ``due_at``/``remind_at`` move so that the remaining business time is what it
  was at the pause: the deadline moves by exactly the business time spent paused.
* **Reopen**: a stopped clock (other than a first response that was given) runs on from
  where it stopped, as if the ticket had been paused while closed. A reminder or breach
  already announced is not announced again.
* **Priority change**: the business time already used is kept and the new target applies
  (a follow-up that makes the ticket P1 gives it P1's deadline, counted from creation);
  a new target already used up makes the clock due at once.

Moments of change come from the ticket: ``updated_at`` is when it entered its current
state (every transition sets it), ``first_response_at`` and ``closed_at`` are exact.
A breached clock keeps its deadline: it is neither paused nor re-planned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from socialdesk.core.business_time import BusinessCalendar
from socialdesk.core.ticket import ENDED_STATUSES, TicketStatus
from socialdesk.plugins.sla.settings import SlaPolicy, TimerKind

PAUSING: dict[str, tuple[str, ...]] = {
    "first_response": (TicketStatus.SNOOZED,),
    "resolution": (TicketStatus.SNOOZED, TicketStatus.WAITING),
}


class Firing(StrEnum):
    REMIND = "remind"
    BREACH = "breach"
    LATE = "late"  # stopped after its due time: recorded as a breach, not announced


@dataclass(frozen=True, slots=True)
class TicketClockState:
    status: str
    priority: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TimerClock:
    kind: TimerKind
    target_seconds: int
    started_at: datetime
    due_at: datetime
    remind_at: datetime
    paused_at: datetime | None = None
    reminded_at: datetime | None = None
    breached_at: datetime | None = None
    met_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.met_at is None and self.paused_at is None


def new_timer(kind: TimerKind, ticket: TicketClockState, policy: SlaPolicy) -> TimerClock:
    target = policy.target_seconds(kind, ticket.priority)
    calendar = policy.calendar(ticket.priority)
    start = ticket.created_at
    return TimerClock(kind, target, start, calendar.add(start, target),
                      calendar.add(start, target * policy.reminder_at))


def _stop_moment(kind: TimerKind, t: TicketClockState) -> datetime | None:
    if kind == "first_response" and t.first_response_at is not None:
        return t.first_response_at
    if t.status in ENDED_STATUSES:
        return t.closed_at or t.updated_at
    return None


def _entered_state(timer: TimerClock, t: TicketClockState, *after: datetime | None) -> datetime:
    return max([t.updated_at, timer.started_at, *(m for m in after if m is not None)])


def settle(timer: TimerClock, t: TicketClockState, policy: SlaPolicy) -> tuple[TimerClock, Firing | None]:
    """The timer brought in line with the ticket; and a LATE breach to record, if any."""
    stop = _stop_moment(timer.kind, t)
    if stop is not None:
        if timer.met_at is not None:
            return timer, None
        stopped_at = timer.paused_at or stop
        late = timer.breached_at is None and stopped_at > timer.due_at
        timer = replace(timer, met_at=stop, paused_at=stopped_at,
                        breached_at=timer.due_at if late else timer.breached_at)
        return timer, (Firing.LATE if late else None)
    if timer.met_at is not None:  # reopened: run on from where it stopped
        timer = replace(timer, met_at=None)
    if timer.breached_at is not None:
        if timer.paused_at is not None and t.status not in PAUSING[timer.kind]:
            timer = replace(timer, paused_at=None)
        return timer, None
    timer = _replan(timer, t, policy)
    should_pause = t.status in PAUSING[timer.kind]
    if should_pause and timer.paused_at is None:
        timer = replace(timer, paused_at=_entered_state(timer, t))
    elif not should_pause and timer.paused_at is not None:
        timer = _resume(timer, _entered_state(timer, t, timer.paused_at), policy.calendar(t.priority))
    return timer, None


def _resume(timer: TimerClock, at: datetime, calendar: BusinessCalendar) -> TimerClock:
    assert timer.paused_at is not None
    due, remind = timer.due_at, timer.remind_at
    left = calendar.between_delta(timer.paused_at, timer.due_at)
    if left > timedelta(0):
        due = calendar.add_delta(at, left)
    if timer.reminded_at is None:
        remind_left = calendar.between_delta(timer.paused_at, timer.remind_at)
        if remind_left > timedelta(0):
            remind = calendar.add_delta(at, remind_left)
    return replace(timer, due_at=due, remind_at=remind, paused_at=None)


def _replan(timer: TimerClock, t: TicketClockState, policy: SlaPolicy) -> TimerClock:
    """A new target (the priority or the settings changed): keep the business time used."""
    target = policy.target_seconds(timer.kind, t.priority)
    if target == timer.target_seconds:
        return timer
    old = policy.calendar_of_target(timer.kind, timer.target_seconds, t.priority)
    new = policy.calendar(t.priority)
    at = timer.paused_at or _entered_state(timer, t)
    used = timedelta(seconds=timer.target_seconds) - old.between_delta(at, timer.due_at)
    due_left = timedelta(seconds=target) - used
    remind_left = timedelta(seconds=target * policy.reminder_at) - used
    due = new.add_delta(at, due_left) if due_left > timedelta(0) else at
    remind = timer.remind_at
    if timer.reminded_at is None:
        remind = new.add_delta(at, remind_left) if remind_left > timedelta(0) else at
    return replace(timer, target_seconds=target, due_at=due, remind_at=remind)


def due_firing(timer: TimerClock, now: datetime) -> Firing | None:
    """What a settled timer must announce at ``now``: the breach wins over a reminder
    that came due in the same round (no "75% used" after 100%)."""
    if not timer.running or timer.breached_at is not None:
        return None
    if timer.due_at <= now:
        return Firing.BREACH
    if timer.reminded_at is None and timer.remind_at <= now:
        return Firing.REMIND
    return None
