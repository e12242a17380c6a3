"""A hand-computed day of the desk: rows written at known times, the expected numbers below.

The period is 2026-11-02 00:00 .. 2026-11-03 00:00 UTC. Every expected value in
``EXPECTED`` is worked out by hand in the comments next to the rows that produce it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from socialdesk.core.store.database import Database
from socialdesk.core.store.models import AuditEvent, CsatSurvey, Message, Reply, SlaTimer, Ticket

UTC = timezone.utc
SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 3, tzinfo=UTC)
AGENT_A, AGENT_B = "U0AGENTAAA", "U0AGENTBBB"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _ticket(tid: int, platform: str, category: str, priority: int, status: str, created: datetime, *,
            first_response: datetime | None = None, closed: datetime | None = None, closed_by: str | None = None,
            reason: str | None = None, assignee: str | None = None) -> Ticket:
    return Ticket(id=tid, platform=platform, conversation_id=f"conv-{tid}", status=status, priority=priority,
                  category=category, tags=[], priority_reasons=[], spam_suspected=status == "spam",
                  assignee=assignee, first_response_at=first_response, closed_at=closed, closed_by=closed_by,
                  close_reason=reason, created_at=created, updated_at=created, last_message_at=created, version=1)


# Tickets. "FR" = first response after creation, "res" = closed after creation.
TICKETS = [
    #  1 x outage P1, FR 5 min (300 s), closed after 60 min (3600 s) by A
    _ticket(1, "x", "outage", 1, "closed", at(2, 8), first_response=at(2, 8, 5), closed=at(2, 9), closed_by=AGENT_A,
            assignee=AGENT_A),
    #  2 x refund P2, FR 10 min (600 s), closed after 2 h (7200 s) by B
    _ticket(2, "x", "refund", 2, "closed", at(2, 9), first_response=at(2, 9, 10), closed=at(2, 11), closed_by=AGENT_B,
            assignee=AGENT_B),
    #  3 discord question P3, FR 30 min (1800 s), waiting on the customer
    _ticket(3, "discord", "question", 3, "waiting", at(2, 10), first_response=at(2, 10, 30), assignee=AGENT_B),
    #  4 discord outage P1, FR 1 min (60 s), closed after 30 min (1800 s) by A
    _ticket(4, "discord", "outage", 1, "closed", at(2, 11), first_response=at(2, 11, 1), closed=at(2, 11, 30),
            closed_by=AGENT_A, assignee=AGENT_A),
    #  5 x question P3, never answered, open and unclaimed
    _ticket(5, "x", "question", 3, "open", at(2, 12)),
    #  6 x praise P4, auto-closed by triage at ingest: counted apart
    _ticket(6, "x", "praise", 4, "closed", at(2, 13), closed=at(2, 13), closed_by="system",
            reason="auto-closed: praise needs no answer"),
    #  7 discord question P3, marked spam: counted apart
    _ticket(7, "discord", "question", 3, "spam", at(2, 14), closed=at(2, 14, 5), closed_by=AGENT_A, reason="spam"),
    #  8 x bug P2, created the day before (not in the volume), FR 10 min, closed in the period after 12 h (43200 s)
    _ticket(8, "x", "bug", 2, "closed", at(1, 20), first_response=at(1, 20, 10), closed=at(2, 8), closed_by=AGENT_B,
            assignee=AGENT_B),
    #  9 x bug P2, created after the period: only in "queue now" (open, unclaimed)
    _ticket(9, "x", "bug", 2, "open", at(3, 1)),
    # 10 x question P3, created and closed before the period (has a late CSAT answer)
    _ticket(10, "x", "question", 3, "closed", at(1, 5), first_response=at(1, 6), closed=at(1, 7), closed_by=AGENT_A),
]


def _inbound(tid: int, platform: str, received: datetime, n: int = 0) -> Message:
    return Message(ticket_id=tid, platform=platform, external_id=f"m{tid}-{n}", direction="inbound",
                   text="hello", public=True, attachments=[], created_at=received, received_at=received)


# Mentions received (for the digest's per-day series): one per ticket as it was created,
# plus a follow-up on #3 at 23:30 UTC (00:30 on 3 Nov in Berlin).
MESSAGES = [_inbound(t.id, t.platform, t.created_at) for t in TICKETS if t.id not in (9, 10)] + [
    _inbound(3, "discord", at(2, 23, 30), 1),
]


def _reply(rid: int, tid: int, agent: str, status: str, finished: datetime | None) -> Reply:
    return Reply(id=rid, ticket_id=tid, text="hi", agent=agent, status=status, close_after=False,
                 created_at=finished or at(2, 12), finished_at=finished)


# Replies sent in the period: A on #1 and #4 (2); B on #2 twice and #3 (3).
# Not counted: B's reply on #8 (the day before), A's failed and pending replies.
REPLIES = [
    _reply(1, 1, AGENT_A, "sent", at(2, 8, 5)),
    _reply(2, 2, AGENT_B, "sent", at(2, 9, 10)),
    _reply(3, 2, AGENT_B, "sent", at(2, 9, 30)),
    _reply(4, 3, AGENT_B, "sent", at(2, 10, 30)),
    _reply(5, 4, AGENT_A, "sent", at(2, 11, 1)),
    _reply(6, 8, AGENT_B, "sent", at(1, 20, 10)),
    _reply(7, 5, AGENT_A, "failed", at(2, 12, 30)),
    _reply(8, 5, AGENT_A, "pending", None),
]


def _event(tid: int, kind: str, actor: str, when: datetime) -> AuditEvent:
    return AuditEvent(ticket_id=tid, kind=kind, actor=actor, at=when, details={})


# Claims in the period: A #1, #4; B #2, #3 (B's claim of #8 was the day before).
# Closes in the period: A #1, #4; B #2, #8. The system's auto-close and A's spam mark are not closes.
EVENTS = [
    _event(1, "claimed", AGENT_A, at(2, 8, 1)), _event(4, "claimed", AGENT_A, at(2, 11)),
    _event(2, "claimed", AGENT_B, at(2, 9, 1)), _event(3, "claimed", AGENT_B, at(2, 10, 2)),
    _event(8, "claimed", AGENT_B, at(1, 20, 5)),
    _event(1, "closed", AGENT_A, at(2, 9)), _event(4, "closed", AGENT_A, at(2, 11, 30)),
    _event(2, "closed", AGENT_B, at(2, 11)), _event(8, "closed", AGENT_B, at(2, 8)),
    _event(6, "closed", "system", at(2, 13)), _event(7, "marked_spam", AGENT_A, at(2, 14, 5)),
    _event(9, "claimed", AGENT_A, at(3, 1, 5)),  # after the period
]


def _timer(tid: int, kind: str, due: datetime, *, met: datetime | None = None, breached: datetime | None = None,
           paused: datetime | None = None) -> SlaTimer:
    return SlaTimer(ticket_id=tid, kind=kind, target_seconds=900, started_at=due - timedelta(minutes=15), due_at=due,
                    remind_at=due - timedelta(minutes=5), paused_at=paused, met_at=met, breached_at=breached)


# first_response: met #1 (08:05 <= 08:15), #4 (11:01 <= 11:15)                        -> 2 met
#                 missed #2 (breached 09:05), #3 (met late at 10:30, due 10:15, no breach
#                 recorded: counted at due), #5 (unmet, due 12:15 < until)          -> 3 missed
#                 left out: #7 (spam), #8 (met on 1 Nov)                  attainment 2/5 = 0.4
# resolution:     met #1 (09:00 <= 12:00), #4 (11:30 <= 15:00)                          -> 2 met
#                 missed #2 (breached 10:00, met 11:00), #8 (breached 06:00)          -> 2 missed
#                 left out: #3 (paused, not met)                          attainment 2/4 = 0.5
TIMERS = [
    _timer(1, "first_response", at(2, 8, 15), met=at(2, 8, 5)),
    _timer(2, "first_response", at(2, 9, 5), met=at(2, 9, 10), breached=at(2, 9, 5)),
    _timer(3, "first_response", at(2, 10, 15), met=at(2, 10, 30)),
    _timer(4, "first_response", at(2, 11, 15), met=at(2, 11, 1)),
    _timer(5, "first_response", at(2, 12, 15)),
    _timer(7, "first_response", at(2, 14, 15)),
    _timer(8, "first_response", at(1, 20, 15), met=at(1, 20, 10)),
    _timer(1, "resolution", at(2, 12), met=at(2, 9)),
    _timer(2, "resolution", at(2, 10), met=at(2, 11), breached=at(2, 10)),
    _timer(3, "resolution", at(2, 16), paused=at(2, 10, 30)),
    _timer(4, "resolution", at(2, 15), met=at(2, 11, 30)),
    _timer(8, "resolution", at(2, 6), met=at(2, 8), breached=at(2, 6)),
]


def _survey(tid: int, sent: datetime, answered: datetime | None, score: int | None) -> CsatSurvey:
    return CsatSurvey(ticket_id=tid, platform="x", conversation_id=f"conv-{tid}",
                      status="answered" if answered else "sent", created_at=sent, sent_at=sent,
                      answered_at=answered, score=score)


# Sent in the period: #1, #2, #4, #8 -> 4. Answered in the period: #1 (5), #2 (4), #4 (2),
# #10 (3, sent the day before) -> 4 responses, average 14/4 = 3.5, satisfied (4-5) 2/4 = 0.5.
# #8's answer came after the period.
SURVEYS = [
    _survey(1, at(2, 9), at(2, 9, 30), 5),
    _survey(2, at(2, 11), at(2, 12), 4),
    _survey(4, at(2, 12), at(2, 13), 2),
    _survey(8, at(2, 8, 30), at(3, 2), 1),
    _survey(10, at(1, 8), at(2, 7), 3),
]

EXPECTED: dict[str, Any] = {
    "created": 7,  # #1..#7
    "tickets": 5,  # #1..#5 (#6 auto-closed, #7 spam apart)
    "auto_closed": 1,
    "spam": 1,
    "by_platform": {"x": 3, "discord": 2},  # x: #1 #2 #5; discord: #3 #4
    "by_category": {"outage": 2, "question": 2, "refund": 1},
    "by_priority": {1: 2, 2: 1, 3: 2},
    # FR of #1..#4 sorted: 60, 300, 600, 1800 (n = 4)
    #   median: h = 3 * 0.5 = 1.5 -> 300 + 0.5 * (600 - 300) = 450
    #   p90:    h = 3 * 0.9 = 2.7 -> 600 + 0.7 * (1800 - 600) = 1440
    "first_response": (4, 450.0, 1440.0),
    "unanswered": 1,  # #5
    # Closed in the period (not auto-closed, not spam): #4 1800, #1 3600, #2 7200, #8 43200
    #   median: h = 1.5 -> 3600 + 0.5 * 3600 = 5400
    #   p90:    h = 2.7 -> 7200 + 0.7 * (43200 - 7200) = 32400
    "resolution": (4, 5400.0, 32400.0),
    "sla": {"first_response": (2, 3, 0.4), "resolution": (2, 2, 0.5)},
    # (agent, claimed, replies, closed); B first: more activity (2 + 3 + 2 = 7 against 6)
    "agents": [(AGENT_B, 2, 3, 2), (AGENT_A, 2, 2, 2)],
    "csat": (4, 4, 3.5, 0.5),  # sent, responses, average, satisfied
    "open_now": 3,  # #3 waiting, #5 open, #9 open
    "unclaimed_now": 2,  # #5, #9
}


async def seed(database: Database) -> None:
    """Write the day's rows (tickets first: everything else points at them)."""
    async with database.transaction() as session:
        session.add_all([_copy(t) for t in TICKETS])
        await session.flush()
        session.add_all([_copy(r) for r in [*MESSAGES, *REPLIES, *EVENTS, *TIMERS, *SURVEYS]])


def _copy(row: Any) -> Any:
    """A fresh ORM object per seeding: one instance cannot belong to two sessions (two databases)."""
    table = type(row).__table__
    return type(row)(**{c.key: getattr(row, c.key) for c in table.columns if getattr(row, c.key) is not None})
