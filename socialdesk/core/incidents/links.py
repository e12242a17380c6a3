"""Filing tickets under a storm's incident, inside the ingest transaction.

Synchronous Core statements on the ingest's connection (see :mod:`socialdesk.core.ingest`):
the incident upsert, the ticket links and the incident card's outbox jobs commit or roll
back with the mention that caused them. The card is posted once (``post_incident_card``
has the dedupe key ``incident_card:<id>``); refreshes are coalesced: at most one
``update_incident_card`` waits per incident, and it renders the latest state when it runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, exists, literal_column, select, text, update
from sqlalchemy.orm import Session

from socialdesk.core.store.models import OutboxJob, Ticket, UTCDateTime
from socialdesk.core.outbox.jobs import AddsRows, JobKind, JobStatus, Outbox
from socialdesk.core.ticket import ACTIVE_STATUSES

POST_INCIDENT_CARD = "post_incident_card"  # payload: incident_id
UPDATE_INCIDENT_CARD = "update_incident_card"  # payload: incident_id
INCIDENT_KINDS = (POST_INCIDENT_CARD, UPDATE_INCIDENT_CARD)

_tickets = Ticket.__table__
_jobs = OutboxJob.__table__

# Written out like ingest's author upsert: cacheable, and the same on SQLite and PostgreSQL.
# A storm that was closed and flares up again is active again; last_seen only moves forward.
_UPSERT_INCIDENT = text(
    "INSERT INTO incidents (storm_key, title, status, first_seen, last_seen, created_at, updated_at, version)"
    " VALUES (:storm_key, :title, 'active', :seen, :seen, :now, :now, 1)"
    " ON CONFLICT (storm_key) DO UPDATE SET status = 'active', updated_at = excluded.updated_at,"
    " last_seen = CASE WHEN excluded.last_seen > incidents.last_seen THEN excluded.last_seen"
    " ELSE incidents.last_seen END,"
    " first_seen = CASE WHEN excluded.first_seen < incidents.first_seen THEN excluded.first_seen"
    " ELSE incidents.first_seen END,"
    " version = incidents.version + 1"
    " RETURNING id"
).bindparams(bindparam("seen", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))

_LINK_TICKET = update(_tickets).where(_tickets.c.id == bindparam("b_ticket_id")).values(
    incident_id=bindparam("b_incident_id"))
# Members: the conversation's active ticket, unless it is in an incident already.
_LINK_MEMBER = update(_tickets).where(
    _tickets.c.platform == bindparam("b_platform"),
    _tickets.c.conversation_id == bindparam("b_conversation_id"),
    _tickets.c.status.in_([literal_column(f"'{status}'") for status in ACTIVE_STATUSES]),
    _tickets.c.incident_id.is_(None),
).values(incident_id=bindparam("b_incident_id"), updated_at=bindparam("b_now"),
         version=_tickets.c.version + 1).returning(_tickets.c.id, _tickets.c.priority)
_JOB_EXISTS = select(_jobs.c.id).where(_jobs.c.dedupe_key == bindparam("dedupe_key"))
# A member's card post that never started: no attempt made, the ticket not marked with a
# channel (a post whose answer was lost leaves that mark and is never withdrawn).
_WITHDRAW_CARD_POST = delete(_jobs).where(
    _jobs.c.kind == JobKind.POST_CARD.value,
    _jobs.c.ticket_id == bindparam("b_ticket_id"),
    _jobs.c.status == JobStatus.PENDING.value,
    _jobs.c.attempts == 0,
    ~exists().where(_tickets.c.id == bindparam("b_ticket_id"), _tickets.c.card_channel.is_not(None)),
).returning(_jobs.c.id)
_UPDATE_WAITING = select(_jobs.c.id, _jobs.c.priority).where(
    _jobs.c.kind == UPDATE_INCIDENT_CARD, _jobs.c.status == JobStatus.PENDING.value,
    _jobs.c.dedupe_key.like(bindparam("prefix")),
).limit(1)
_RAISE_PRIORITY = update(_jobs).where(_jobs.c.id == bindparam("b_job_id"), _jobs.c.priority > bindparam("b_priority")
                                      ).values(priority=bindparam("b_priority"))

MAX_TITLE_CHARS = 500


def post_key(incident_id: int) -> str:
    return f"incident_card:{incident_id}"


def update_key_prefix(incident_id: int) -> str:
    return f"incident_update:{incident_id}:"


@dataclass
class IncidentJobs:
    """The incident jobs queued in the current transaction (not yet visible to queries)."""

    posted: set[int] = field(default_factory=set)
    updates: dict[int, OutboxJob] = field(default_factory=dict)


def upsert_incident(connection: Connection, storm_key: str, title: str | None, seen: datetime,
                    now: datetime) -> int:
    shown = " ".join((title or storm_key).split())[:MAX_TITLE_CHARS]
    return int(connection.execute(_UPSERT_INCIDENT, {"storm_key": storm_key[:200], "title": shown,
                                                      "seen": seen, "now": now}).scalar_one())


def link_ticket(connection: Connection, ticket_id: int, incident_id: int) -> None:
    connection.execute(_LINK_TICKET, {"b_ticket_id": ticket_id, "b_incident_id": incident_id})


def link_members(connection: Connection, incident_id: int, members: Iterable[tuple[str, str]],
                 now: datetime) -> list[tuple[int, int]]:
    """Link the members' active tickets not yet in an incident; (ticket id, priority) of each."""
    linked: list[tuple[int, int]] = []
    for platform, conversation_id in members:
        rows = connection.execute(_LINK_MEMBER, {"b_platform": platform, "b_conversation_id": conversation_id,
                                                 "b_incident_id": incident_id, "b_now": now}).all()
        linked.extend((row.id, row.priority) for row in rows)
    return linked


def withdraw_card_post(connection: Connection, ticket_id: int) -> bool:
    """Withdraw a storm member's own card post if it has not started: the incident card
    lists the ticket, so nobody ever sees a card of its own. A post already under way is
    left alone (that card is refreshed to show the link instead)."""
    return connection.execute(_WITHDRAW_CARD_POST, {"b_ticket_id": ticket_id}).first() is not None


def queue_incident_card(connection: Connection | Session, outbox: Outbox, rows: AddsRows, incident_id: int, *,
                        priority: int, now: datetime, queued: IncidentJobs) -> None:
    """Post the incident's card if it never was queued; else queue one coalesced refresh."""
    if incident_id not in queued.posted:
        queued.posted.add(incident_id)
        if connection.execute(_JOB_EXISTS, {"dedupe_key": post_key(incident_id)}).first() is None:
            outbox.enqueue(rows, POST_INCIDENT_CARD, {"incident_id": incident_id}, now=now, priority=priority,
                           dedupe_key=post_key(incident_id))
            return  # the post renders the latest state
    queue_incident_update(connection, outbox, rows, incident_id, priority=priority, now=now, queued=queued)


def queue_incident_update(connection: Connection | Session, outbox: Outbox, rows: AddsRows, incident_id: int, *,
                          priority: int, now: datetime, queued: IncidentJobs) -> None:
    job = queued.updates.get(incident_id)
    if job is not None:
        job.priority = min(job.priority, priority)
        return
    waiting = connection.execute(_UPDATE_WAITING, {"prefix": update_key_prefix(incident_id) + "%"}).first()
    if waiting is not None:
        if waiting.priority > priority:
            connection.execute(_RAISE_PRIORITY, {"b_job_id": waiting.id, "b_priority": priority})
        return
    # The prefix finds the waiting refresh; the random rest keeps every refresh's key unique.
    key = f"{update_key_prefix(incident_id)}{uuid.uuid4().hex}"
    queued.updates[incident_id] = outbox.enqueue(rows, UPDATE_INCIDENT_CARD, {"incident_id": incident_id},
                                                 now=now, priority=priority, dedupe_key=key)
