"""The transactional outbox: side effects written in the same transaction as the change.

A job is a row; the runner (:mod:`socialdesk.core.outbox.runner`) performs it later
through the plugin that declared its kind. Because the row commits or rolls back with
the ticket change that implied it, a card is never posted for a change that was lost,
and never lost for a change that was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from socialdesk.core.store.models import OutboxJob


class JobKind(StrEnum):
    POST_CARD = "post_card"  # payload: ticket_id
    UPDATE_CARD = "update_card"  # payload: ticket_id
    POST_TO_CARD_THREAD = "post_to_card_thread"  # payload: ticket_id, message_id (follow-up or note)
    SEND_REPLY = "send_reply"  # payload: reply_id
    CHANGE_REPLY = "change_reply"  # payload: change_id (edit or delete of a sent reply)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # visible to admins; never silently dropped


class AddsRows(Protocol):
    """A session, or anything else that takes new rows to write in the current transaction."""

    def add(self, instance: Any) -> None: ...


class RetryJob(Exception):
    """Raised by a performer: try again later (after ``delay`` seconds, or with backoff).

    ``counts=False`` marks a deferral rather than a failure (waiting for a rate limit's
    next slot, or for a more urgent job): the attempt is given back, so a long queue
    behind a rate limit never uses up a job's attempts, and the retry waits exactly
    ``delay`` (no backoff).
    """

    def __init__(self, message: str, delay: float | None = None, *, counts: bool = True) -> None:
        super().__init__(message)
        self.delay = delay
        self.counts = counts


class JobFailed(Exception):
    """Raised by a performer: this job cannot succeed; mark it failed with the message."""


@dataclass(frozen=True, slots=True)
class OutboxJobSnapshot:
    id: int
    kind: str
    payload: dict[str, Any]
    ticket_id: int | None
    priority: int
    attempts: int
    max_attempts: int
    created_at: datetime

    @classmethod
    def of(cls, row: OutboxJob) -> OutboxJobSnapshot:
        return cls(row.id, row.kind, dict(row.payload), row.ticket_id, row.priority,
                   row.attempts, row.max_attempts, row.created_at)


# Built once: a statement object caches its compiled form, one built per call is compiled
# again (a card refresh is queued for every follow-up).
_WAITING_CARD_UPDATE = select(OutboxJob.id, OutboxJob.priority).where(
    OutboxJob.kind == JobKind.UPDATE_CARD,
    OutboxJob.ticket_id == bindparam("ticket_id"),
    OutboxJob.status == JobStatus.PENDING,
).limit(1)
_RAISE_PRIORITY = update(OutboxJob).where(
    OutboxJob.id == bindparam("job_id"), OutboxJob.priority > bindparam("new_priority")
).values(priority=bindparam("new_priority"))


class Outbox:
    """Writes jobs inside the caller's transaction."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def enqueue(
        self,
        session: AsyncSession | AddsRows,
        kind: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        priority: int,
        ticket_id: int | None = None,
        dedupe_key: str | None = None,
        delay: timedelta = timedelta(0),
    ) -> OutboxJob:
        job = OutboxJob(
            kind=kind,
            payload=payload,
            ticket_id=ticket_id,
            priority=priority,
            status=JobStatus.PENDING,
            attempts=0,
            max_attempts=self.max_attempts,
            not_before=now + delay,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        session.add(job)
        return job

    def queue_card_update(self, executor: Session | Connection, rows: AddsRows, ticket_id: int, *,
                          now: datetime, priority: int, queued: dict[int, OutboxJob]) -> None:
        """Queue a card refresh unless one is already waiting: it will read the latest state.

        Synchronous, for code running in ``Database.run_in_transaction``: ``executor`` runs
        the queries, a new job goes to ``rows``, and ``queued`` holds the refreshes added
        earlier in this transaction that the query cannot see yet (not written so far).
        """
        job = queued.get(ticket_id)
        if job is not None:
            job.priority = min(job.priority, priority)
            return
        waiting = executor.execute(_WAITING_CARD_UPDATE, {"ticket_id": ticket_id}).first()
        if waiting is not None:
            # Raise its priority if the ticket became more urgent; never make it wait longer.
            if waiting.priority > priority:
                executor.execute(_RAISE_PRIORITY, {"job_id": waiting.id, "new_priority": priority})
            return
        queued[ticket_id] = self.enqueue(rows, JobKind.UPDATE_CARD, {"ticket_id": ticket_id}, now=now,
                                         priority=priority, ticket_id=ticket_id)

    async def enqueue_card_update(self, session: AsyncSession, ticket_id: int, *, now: datetime, priority: int) -> None:
        """Queue a card refresh unless one is already waiting: it will read the latest state."""
        await session.run_sync(
            lambda s: self.queue_card_update(s, s, ticket_id, now=now, priority=priority, queued={})
        )
