"""Built-in plugin ``retention`` (on by default): the store does not grow for ever.

The hourly ``retention.clean_up`` job

* deletes outbox jobs that finished (``done`` or ``failed``) more than ``outbox_days``
  ago: their effect is in the tickets, replies and audit trail, the rows only record it;
* when ``redact_messages_after_days`` is set, replaces the text of every message (and
  reply, and survey comment) of tickets closed longer ago than that with
  ``[removed after N days]``, and writes a ``messages_redacted`` audit event per ticket.
  Active tickets are never touched: a reopened ticket has no ``closed_at``, and each
  ticket is locked and checked again in the transaction that redacts it.

Work is done in batches of ``batch_size`` rows, at most ``max_batches`` per run, so one
run never holds locks for long; a backlog is worked off over the following runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field
from sqlalchemy import delete, exists, select, update

from socialdesk.core.config import StrictModel
from socialdesk.core.events import SYSTEM_ACTOR, EventKind
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.store.models import CsatSurvey, Message, OutboxJob, Reply, Ticket
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.ticket import ENDED_STATUSES
from socialdesk.core.store.tickets import ChangeLog

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.database import Database

log = logging.getLogger(__name__)

PLUGIN_NAME = "retention"
CLEAN_UP_EVERY_SECONDS = 3600


class RetentionSettings(StrictModel):
    outbox_days: int = Field(14, ge=1, le=3650)
    redact_messages_after_days: int | None = Field(None, ge=1, le=36500)
    batch_size: int = Field(500, ge=1, le=10_000)
    max_batches: int = Field(20, ge=1, le=1000)


def placeholder(days: int) -> str:
    return f"[removed after {days} days]"


async def delete_finished_jobs(db: Database, before: datetime, batch_size: int, max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        async with db.transaction() as session:
            ids = (await session.scalars(
                select(OutboxJob.id).where(OutboxJob.status.in_((JobStatus.DONE, JobStatus.FAILED)),
                                           OutboxJob.finished_at < before)
                .order_by(OutboxJob.id).limit(batch_size))).all()
            if not ids:
                break
            # The status is checked again: a failed job an admin retried meanwhile stays.
            result = await session.execute(
                delete(OutboxJob).where(OutboxJob.id.in_(ids),
                                        OutboxJob.status.in_((JobStatus.DONE, JobStatus.FAILED))))
            deleted += result.rowcount or 0
        if len(ids) < batch_size:
            break
    return deleted


async def redact_closed(db: Database, now: datetime, days: int, batch_size: int, max_batches: int) -> list[int]:
    """Redact the messages of tickets closed more than ``days`` ago; returns their ids."""
    text = placeholder(days)
    cutoff = now - timedelta(days=days)
    redacted: list[int] = []
    for _ in range(max_batches):
        changes = ChangeLog()
        async with db.transaction() as session:
            tickets = (await session.scalars(
                select(Ticket.id).where(
                    Ticket.status.in_(ENDED_STATUSES), Ticket.closed_at.is_not(None), Ticket.closed_at < cutoff,
                    exists().where(Message.ticket_id == Ticket.id, Message.text != text))
                .order_by(Ticket.id).limit(batch_size).with_for_update(skip_locked=True))).all()
            if not tickets:
                break
            counts = await session.execute(
                update(Message).where(Message.ticket_id.in_(tickets), Message.text != text)
                .values(text=text, attachments=[]).returning(Message.ticket_id))
            per_ticket: dict[int, int] = {}
            for row in counts.all():
                per_ticket[row.ticket_id] = per_ticket.get(row.ticket_id, 0) + 1
            await session.execute(update(Reply).where(Reply.ticket_id.in_(tickets), Reply.text != text)
                                  .values(text=text))
            await session.execute(update(CsatSurvey).where(CsatSurvey.ticket_id.in_(tickets),
                                                           CsatSurvey.comment.is_not(None)).values(comment=text))
            for ticket_id, messages in sorted(per_ticket.items()):
                changes.record(session, EventKind.MESSAGES_REDACTED, ticket_id, SYSTEM_ACTOR, now,
                               messages=messages, after_days=days)
            redacted.extend(tickets)
        if len(tickets) < batch_size:
            break
    return redacted


async def clean_up(app: DeskApp) -> dict[str, int]:
    settings: RetentionSettings = app.settings(PLUGIN_NAME)
    now = app.clock()
    report = {"outbox_jobs_deleted": await delete_finished_jobs(
        app.database, now - timedelta(days=settings.outbox_days), settings.batch_size, settings.max_batches)}
    if settings.redact_messages_after_days is not None:
        report["tickets_redacted"] = len(await redact_closed(
            app.database, now, settings.redact_messages_after_days, settings.batch_size, settings.max_batches))
    log.info("retention clean-up", extra=report)
    return report


async def clean_up_job(app: DeskApp) -> None:
    await run_logged(log, "retention clean-up", lambda: clean_up(app))


@hookimpl
def socialdesk_settings_model() -> type[RetentionSettings]:
    return RetentionSettings


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    scheduler.add_job(clean_up_job, "interval", args=[app], seconds=CLEAN_UP_EVERY_SECONDS,
                      id="retention.clean_up", name="Retention: old outbox jobs, old messages", replace_existing=True)
