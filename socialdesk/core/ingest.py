"""Ingest: a mention becomes a message on a ticket, exactly once, with its card job.

Idempotent on (platform, external_id). A follow-up in a conversation that has an
active ticket joins it. Both rules are enforced by unique indexes, so concurrent
ingests (two pollers, two replicas) cannot create a second message or a second
ticket: the loser of a race gets an IntegrityError and retries, finding the winner's rows.

This is the hottest write path of the desk (``bench/ingest.py`` measures it). Triage
runs before the transaction (plugins may be slow); the transaction itself is one
synchronous function (``Database.run_in_transaction``: on SQLite one hand-off to a
writer thread rather than one per statement) of pre-built Core statements, compiled
once and cached. Audit events and outbox jobs are made by ``ChangeLog`` and ``Outbox``
like every other change, then inserted with one statement per table instead of an ORM
unit-of-work flush.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Insert,
    Table,
    bindparam,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from socialdesk.core.store.cursors import CursorAdvance, cursor_upsert
from socialdesk.core.store.database import Database
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.hooks import DeskHooks
from socialdesk.core.incidents.links import (
    IncidentJobs,
    link_members,
    link_ticket,
    queue_incident_card,
    upsert_incident,
    withdraw_card_post,
)
from socialdesk.core.mention import Mention
from socialdesk.core.store.lossless_text import LosslessString
from socialdesk.core.store.models import Message, OutboxJob, Ticket, UTCDateTime
from socialdesk.core.outbox.jobs import JobKind, Outbox
from socialdesk.core.ticket import ACTIVE_STATUSES, OpenedTicket, RequeuedTicket, TicketStatus
from socialdesk.core.store.tickets import ChangeLog
from socialdesk.core.triage import TriageResult

MAX_RACE_RETRIES = 5

Key = tuple[str, str]  # (platform, external_id)
Stored = tuple[int, int]  # (message id, ticket id)

_messages = Message.__table__
_tickets = Ticket.__table__

_STORED_COLUMNS = (_messages.c.platform, _messages.c.external_id, _messages.c.id, _messages.c.ticket_id)
_STORED_ONE = select(*_STORED_COLUMNS).where(
    _messages.c.platform == bindparam("platform"), _messages.c.external_id == bindparam("external_id")
)
_ACTIVE_TICKET = select(
    _tickets.c.id, _tickets.c.status, _tickets.c.priority, _tickets.c.tags, _tickets.c.priority_reasons,
    _tickets.c.snoozed_until, _tickets.c.incident_id,
).where(
    _tickets.c.platform == bindparam("platform"),
    _tickets.c.conversation_id == bindparam("conversation_id"),
    # Literal statuses, so that both databases can use the partial unique index on
    # (platform, conversation_id): bound parameters cannot prove its WHERE clause, and
    # without it every lookup scanned the active tickets.
    _tickets.c.status.in_([literal_column(f"'{status}'") for status in ACTIVE_STATUSES]),
).with_for_update()
_OPEN_TICKET = insert(_tickets).returning(_tickets.c.id)
_ADD_MESSAGE = insert(_messages).returning(_messages.c.id)
_JOIN_TICKET = update(_tickets).where(_tickets.c.id == bindparam("ticket_id")).values(
    status=bindparam("new_status"), priority=bindparam("new_priority"), tags=bindparam("new_tags"),
    priority_reasons=bindparam("new_reasons"), snoozed_until=bindparam("new_snoozed_until"),
    last_message_at=bindparam("now"), updated_at=bindparam("now"), version=_tickets.c.version + 1,
)
# The dialects' INSERT ... ON CONFLICT constructs are not cacheable in SQLAlchemy 2.0 (they
# would be compiled again for every mention); the statement is the same on SQLite and
# PostgreSQL, so it is written out once. One statement whatever the race: insert, or
# refresh what the platform told us.
_UPSERT_AUTHOR = text(
    "INSERT INTO authors (platform, external_id, handle, display_name, followers, verified, profile_url,"
    " first_seen, last_seen)"
    " VALUES (:platform, :external_id, :handle, :display_name, :followers, :verified, :profile_url,"
    " :first_seen, :last_seen)"
    " ON CONFLICT (platform, external_id) DO UPDATE SET handle = excluded.handle,"
    " display_name = excluded.display_name, followers = excluded.followers, verified = excluded.verified,"
    " profile_url = excluded.profile_url, last_seen = excluded.last_seen"
    " RETURNING id"
).bindparams(
    # Typed like the columns: a stranger's handle or name may hold NUL or a lone surrogate.
    *(bindparam(name, type_=LosslessString()) for name in ("external_id", "handle", "display_name", "profile_url")),
    bindparam("verified", type_=Boolean()),
    bindparam("first_seen", type_=UTCDateTime()),
    bindparam("last_seen", type_=UTCDateTime()),
)


class IngestOutcome(StrEnum):
    CREATED = "created"  # a new ticket (and a post_card job)
    JOINED = "joined"  # a follow-up on an active ticket
    DUPLICATE = "duplicate"  # seen before: nothing changed


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    ticket_id: int
    message_id: int


class Ingestor:
    def __init__(self, database: Database, hooks: DeskHooks, outbox: Outbox,
                 clock: Callable[[], datetime], publish: Callable[[list[TicketEvent]], object]) -> None:
        self._db = database
        self._hooks = hooks
        self._outbox = outbox
        self._clock = clock
        self._publish = publish

    async def ingest_many(self, mentions: Sequence[Mention], cursor: CursorAdvance | None = None) -> list[IngestResult]:
        """Ingest ``mentions`` in one transaction; ``cursor`` advances only if they all commit.

        Mentions already stored are answered from a read that takes no write lock; the
        others are triaged outside the transaction, then written. A lone mention skips
        that read. The first attempt trusts what it knows: a mention stored already (or
        meanwhile, by another writer) makes the message INSERT fail on the unique key,
        and the retry looks again inside the transaction.
        """
        keys = [(m.platform, m.external_id) for m in mentions]
        verdicts: dict[Key, TriageResult] = {}
        if len(mentions) == 1 and cursor is None:
            # A lone mention (a push, a gateway event) is seldom stored already: it is
            # triaged at once and written without looking, saving a read. A duplicate
            # meets the message's unique key, and the retry below finds it; it costs a
            # triage (idempotent per mention) and a transaction rolled back.
            stored: dict[Key, Stored] = {}
            verdicts[keys[0]] = await self._hooks.triage(mentions[0])
        else:
            stored = await self._db.run_read(lambda connection: _stored(connection, keys))
            for m in mentions:
                key = (m.platform, m.external_id)
                if key not in stored and key not in verdicts:
                    verdicts[key] = await self._hooks.triage(m)
            if not verdicts and cursor is None:
                return [_duplicate(stored[(m.platform, m.external_id)]) for m in mentions]
        for attempt in range(MAX_RACE_RETRIES):
            write = _Write(self._outbox, self._hooks, mentions, verdicts, stored, cursor, self._clock(),
                           recheck=attempt > 0)
            try:
                results = await self._db.run_in_transaction(write)
            except IntegrityError:
                # Another writer stored the same message or opened a ticket for the same
                # conversation first; the next round sees its rows.
                if attempt == MAX_RACE_RETRIES - 1:
                    raise
                continue
            await self._publish(write.changes.events)
            return results
        raise AssertionError("unreachable")


class _Write:
    """One attempt at writing a batch: called with the transaction's (sync) connection."""

    def __init__(self, outbox: Outbox, hooks: DeskHooks, mentions: Sequence[Mention],
                 verdicts: dict[Key, TriageResult], stored: dict[Key, Stored], cursor: CursorAdvance | None,
                 now: datetime, *, recheck: bool) -> None:
        self._outbox = outbox
        self._hooks = hooks
        self._mentions = mentions
        self._verdicts = verdicts
        self._stored = stored
        self._cursor = cursor
        self._now = now
        self._recheck = recheck
        self.changes = ChangeLog()

    def __call__(self, connection: Connection) -> list[IngestResult]:
        rows = _NewRows()
        self._opened: list[OpenedTicket] = []  # active tickets opened in this transaction
        self._requeued: dict[int, RequeuedTicket] = {}  # tickets a follow-up changed, as they are now
        self._card_posts: dict[int, OutboxJob] = {}  # ticket id -> its card post queued in this transaction
        card_updates: dict[int, OutboxJob] = {}  # ticket id -> refresh queued in this transaction
        self._incident_jobs = IncidentJobs()  # incident card jobs queued in this transaction
        written = dict(self._stored)
        if self._recheck:
            written.update(_stored(connection, [k for k in self._verdicts if k not in written]))
        results = []
        for m in self._mentions:
            key = (m.platform, m.external_id)
            if key in written:  # stored before, or earlier in this batch
                results.append(_duplicate(written[key]))
                continue
            result = self._ingest_one(connection, rows, card_updates, m, self._verdicts[key])
            written[key] = (result.message_id, result.ticket_id)
            results.append(result)
        rows.insert(connection)
        self._hooks.tickets_opened(connection, self._opened)  # e.g. SLA clocks, committed with their tickets
        self._hooks.tickets_requeued(connection, list(self._requeued.values()))  # e.g. SLA clocks re-planned
        if self._cursor is not None:
            connection.execute(cursor_upsert(connection.dialect.name, self._cursor, self._now))
        return results

    def _ingest_one(self, connection: Connection, rows: _NewRows, card_updates: dict[int, OutboxJob], m: Mention,
                    verdict: TriageResult) -> IngestResult:
        now, changes = self._now, self.changes
        author_id = _upsert_author(connection, m, now)
        active = connection.execute(_ACTIVE_TICKET, {"platform": m.platform, "conversation_id": m.conversation_id}).first()
        if active is None:
            ticket_id = _open_ticket(connection, m, verdict, author_id, now)
            message_id = _add_message(connection, ticket_id, m, author_id, now)
            changes.record(rows, EventKind.CREATED, ticket_id, SYSTEM_ACTOR, now,  # type: ignore[arg-type]
                           platform=m.platform, message_id=message_id, priority=verdict.priority,
                           category=verdict.category, reasons=list(verdict.reasons))
            if verdict.auto_close:
                # Filed closed, without a card: it stays searchable and counts in reports.
                changes.record(rows, EventKind.CLOSED, ticket_id, SYSTEM_ACTOR, now,  # type: ignore[arg-type]
                               reason=_auto_close_reason(verdict), automatic=True)
                return IngestResult(IngestOutcome.CREATED, ticket_id, message_id)
            self._opened.append(OpenedTicket(ticket_id, m.platform, verdict.priority, now))
            if verdict.storm_key:
                # One card for the whole storm: the ticket is filed under the incident, no card of its own.
                self._file_under_incident(connection, rows, card_updates, ticket_id, m, verdict)
                return IngestResult(IngestOutcome.CREATED, ticket_id, message_id)
            self._card_posts[ticket_id] = self._outbox.enqueue(
                rows, JobKind.POST_CARD, {"ticket_id": ticket_id}, now=now, priority=verdict.priority,
                ticket_id=ticket_id, dedupe_key=f"post_card:{ticket_id}")
            return IngestResult(IngestOutcome.CREATED, ticket_id, message_id)

        ticket_id = active.id
        message_id = _add_message(connection, ticket_id, m, author_id, now)
        joined = _join(active, verdict)
        connection.execute(_JOIN_TICKET, {"ticket_id": ticket_id, "now": now, **joined})
        priority, status = joined["new_priority"], joined["new_status"]
        if (status, priority) != (active.status, active.priority) or ticket_id in self._requeued:
            self._requeued[ticket_id] = RequeuedTicket(ticket_id, status, priority)
        changes.record(rows, EventKind.MESSAGE_ADDED, ticket_id, SYSTEM_ACTOR, now,  # type: ignore[arg-type]
                       message_id=message_id, status=status, priority=priority,
                       was_status=active.status, was_priority=active.priority)
        self._outbox.enqueue(rows, JobKind.POST_TO_CARD_THREAD, {"ticket_id": ticket_id, "message_id": message_id},
                             now=now, priority=priority, ticket_id=ticket_id, dedupe_key=f"thread:{message_id}")
        self._outbox.queue_card_update(connection, rows, ticket_id, now=now, priority=priority, queued=card_updates)
        if active.incident_id is not None or verdict.storm_key:
            # The incident card counts follow-ups too (and lists a conversation that joins the storm).
            self._file_under_incident(connection, rows, card_updates, ticket_id, m, verdict,
                                      incident_id=active.incident_id)
        return IngestResult(IngestOutcome.JOINED, ticket_id, message_id)

    def _file_under_incident(self, connection: Connection, rows: _NewRows, card_updates: dict[int, OutboxJob],
                             ticket_id: int, m: Mention, verdict: TriageResult, *,
                             incident_id: int | None = None) -> None:
        """Link the ticket (and the storm's earlier members) to the incident; queue its card.

        Same transaction as the mention: the incident, its links and its card jobs commit
        with it or not at all. The members' own cards are refreshed to show the link.
        """
        now = self._now
        if incident_id is None:
            assert verdict.storm_key is not None
            incident_id = upsert_incident(connection, verdict.storm_key, verdict.storm_title, m.created_at, now)
            link_ticket(connection, ticket_id, incident_id)
        for member_id, member_priority in link_members(connection, incident_id, verdict.storm_members, now):
            withdrawn = self._withdraw_card_post(connection, rows, card_updates, member_id)
            self.changes.record(rows, EventKind.TRIAGED, member_id, SYSTEM_ACTOR, now,  # type: ignore[arg-type]
                                incident_id=incident_id, reason="part of a storm of near-identical mentions",
                                own_card="withdrawn" if withdrawn else "kept")
            if not withdrawn:
                self._outbox.queue_card_update(connection, rows, member_id, now=now, priority=member_priority,
                                               queued=card_updates)
        queue_incident_card(connection, self._outbox, rows, incident_id, priority=verdict.priority, now=now,
                            queued=self._incident_jobs)


    def _withdraw_card_post(self, connection: Connection, rows: _NewRows, card_updates: dict[int, OutboxJob],
                            ticket_id: int) -> bool:
        """A storm member's own card, if nobody can have seen it yet: one queued in this
        transaction is simply not written; an earlier one only if it never started."""
        queued = self._card_posts.pop(ticket_id, None)
        if queued is None:
            return withdraw_card_post(connection, ticket_id)
        rows.discard(queued)
        update = card_updates.pop(ticket_id, None)
        if update is not None:
            rows.discard(update)
        return True


class _NewRows:
    """Where ``ChangeLog`` and ``Outbox`` add the audit events and jobs of an ingest, in
    place of a session: they are plain new rows, inserted with one Core statement per
    table (and set of columns) at the end of the transaction, without the ORM's unit of
    work, which cost more than all of a mention's other statements together."""

    _inserts: dict[Table, Insert] = {}  # built once: a statement object caches its cache key

    def __init__(self) -> None:
        self._instances: list[Any] = []

    def add(self, instance: Any) -> None:
        self._instances.append(instance)

    def discard(self, instance: Any) -> None:
        """Take back a row added in this transaction (a card post the storm made needless)."""
        self._instances = [i for i in self._instances if i is not instance]

    def insert(self, connection: Connection) -> None:
        """Write the rows, table by table in the order they were first added.

        Values are read now, not when added: a job's priority raised later in the
        transaction is the one written.
        """
        instances, self._instances = self._instances, []
        rows: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
        for instance in instances:
            table: Table = instance.__table__
            values = {k: v for k, v in instance.__dict__.items() if k in table.c}
            rows.setdefault((table, tuple(values)), []).append(values)
        for (table, _), values in rows.items():
            statement = self._inserts.get(table)
            if statement is None:
                statement = self._inserts[table] = insert(table)
            # One row as one execute: the executemany path costs more for a single row.
            connection.execute(statement, values[0] if len(values) == 1 else values)


def _auto_close_reason(v: TriageResult) -> str:
    return f"auto-closed: {v.auto_close}"[:500]


def _open_ticket(connection: Connection, m: Mention, v: TriageResult, author_id: int, now: datetime) -> int:
    closed = bool(v.auto_close)
    return connection.execute(_OPEN_TICKET, {
        "platform": m.platform, "conversation_id": m.conversation_id,
        "status": TicketStatus.CLOSED if closed else TicketStatus.OPEN,
        "priority": v.priority, "category": v.category, "tags": list(v.tags), "sentiment": v.sentiment,
        "sentiment_score": v.sentiment_score, "language": v.language, "spam_suspected": v.spam,
        "priority_reasons": list(v.reasons), "suggested_macro": v.suggested_macro, "author_id": author_id,
        "created_at": now, "updated_at": now, "last_message_at": now, "version": 1,
        "closed_at": now if closed else None, "closed_by": SYSTEM_ACTOR if closed else None,
        "close_reason": _auto_close_reason(v) if closed else None,
    }).scalar_one()


def _add_message(connection: Connection, ticket_id: int, m: Mention, author_id: int, now: datetime) -> int:
    return connection.execute(_ADD_MESSAGE, {
        "ticket_id": ticket_id, "platform": m.platform, "external_id": m.external_id, "direction": "inbound",
        "author_id": author_id, "text": m.text, "url": m.url, "public": m.public,
        "in_reply_to_id": m.in_reply_to_id, "attachments": list(m.attachments), "created_at": m.created_at,
        "received_at": now, "media": [a.to_json() for a in m.media] or None,
    }).scalar_one()


def _upsert_author(connection: Connection, m: Mention, now: datetime) -> int:
    a = m.author
    return connection.execute(_UPSERT_AUTHOR, {
        "platform": a.platform, "external_id": a.external_id, "handle": a.handle,
        "display_name": a.display_name, "followers": a.followers, "verified": a.verified,
        "profile_url": a.profile_url, "first_seen": now, "last_seen": now,
    }).scalar_one()


def _join(ticket: Any, verdict: TriageResult) -> dict[str, Any]:
    """A follow-up can make a ticket more urgent, never less; it wakes a waiting ticket,
    unless triage says it needs no answer (a "thanks!" after our reply)."""
    status, snoozed_until = ticket.status, ticket.snoozed_until
    if status in (TicketStatus.WAITING, TicketStatus.SNOOZED) and not verdict.auto_close:
        status, snoozed_until = TicketStatus.OPEN, None
    return {
        "new_status": status,
        "new_priority": min(ticket.priority, verdict.priority),
        "new_tags": list(dict.fromkeys([*ticket.tags, *verdict.tags])),
        "new_reasons": list(dict.fromkeys([*ticket.priority_reasons, *verdict.reasons])),
        "new_snoozed_until": snoozed_until,
    }


def _duplicate(stored: Stored) -> IngestResult:
    message_id, ticket_id = stored
    return IngestResult(IngestOutcome.DUPLICATE, ticket_id, message_id)


def _stored(connection: Connection, keys: Sequence[Key]) -> dict[Key, Stored]:
    """(platform, external_id) -> (message id, ticket id) of the keys already stored."""
    if not keys:
        return {}
    if len(keys) == 1:
        rows = connection.execute(_STORED_ONE, {"platform": keys[0][0], "external_id": keys[0][1]})
    else:
        rows = connection.execute(
            select(*_STORED_COLUMNS).where(tuple_(_messages.c.platform, _messages.c.external_id).in_(keys))
        )
    return {(r.platform, r.external_id): (r.id, r.ticket_id) for r in rows}
