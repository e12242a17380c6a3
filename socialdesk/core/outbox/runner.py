"""Drains the outbox: due jobs, most urgent first, each through the plugin performing its kind.

Taking a job is a short transaction that leases it (status ``running``, ``locked_until``,
``locked_by`` = a token unique to this take). On PostgreSQL the rows are selected
``FOR UPDATE SKIP LOCKED`` so several workers and replicas never take the same job; on
SQLite, ``BEGIN IMMEDIATE`` serialises the take. A job whose worker died is taken again
when its lease expires; performers are written for that (a reply found ``sending`` is
marked uncertain, never re-sent).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from socialdesk.core.backoff import retry_delay
from socialdesk.core.config import OutboxConfig
from socialdesk.core.store.database import Database
from socialdesk.core.extensions import JobPerformer
from socialdesk.core.store.models import OutboxJob
from socialdesk.core.outbox.jobs import JobFailed, JobStatus, OutboxJobSnapshot, RetryJob
from socialdesk.core.triage import HIGHEST_PRIORITY

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class RunStats:
    done: int = 0
    retried: int = 0
    failed: int = 0


class OutboxRunner:
    def __init__(self, app: DeskApp, performers: dict[str, JobPerformer], settings: OutboxConfig,
                 database: Database, clock: Callable[[], datetime], worker_name: str | None = None, *,
                 urgent: bool = False) -> None:
        self._app = app
        self._performers = performers
        self._settings = settings
        self._db = database
        self._clock = clock
        self.worker_name = worker_name or f"worker-{uuid.uuid4().hex[:8]}"
        # An urgent worker takes only P1 jobs and looks for them often: it is free while the
        # others sleep through Slack's pace with a batch of P4 cards.
        self.urgent = urgent
        self._poll_interval = settings.urgent_poll_interval_seconds if urgent else settings.poll_interval_seconds

    async def take(self, limit: int | None = None) -> list[tuple[OutboxJobSnapshot, str]]:
        """Lease up to ``limit`` due jobs of the kinds we perform; returns (job, lease token)."""
        if not self._performers:
            return []
        limit = limit or self._settings.batch_size
        async with self._db.transaction() as session:
            now = self._clock()
            due = or_(
                and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.not_before <= now),
                and_(OutboxJob.status == JobStatus.RUNNING, OutboxJob.locked_until < now),  # worker died
            )
            wanted = [due, OutboxJob.kind.in_(list(self._performers))]
            if self.urgent:
                wanted.append(OutboxJob.priority <= HIGHEST_PRIORITY)
            rows = (await session.scalars(
                select(OutboxJob).where(*wanted)
                .order_by(OutboxJob.priority, OutboxJob.not_before, OutboxJob.id)
                .limit(limit).with_for_update(skip_locked=True)
            )).all()
            taken = []
            for row in rows:
                token = f"{self.worker_name}:{uuid.uuid4().hex[:12]}"
                row.status, row.locked_by = JobStatus.RUNNING, token
                row.locked_until = now + timedelta(seconds=self._settings.lease_seconds)
                row.attempts += 1
                taken.append((OutboxJobSnapshot.of(row), token))
        return taken

    async def run_once(self) -> RunStats:
        """Take one batch and perform it; returns what happened (for tests and loops)."""
        done = retried = failed = 0
        for job, token in await self.take():
            outcome = await self._perform(job, token)
            done += outcome == JobStatus.DONE
            retried += outcome == JobStatus.PENDING
            failed += outcome == JobStatus.FAILED
        return RunStats(done, retried, failed)

    async def drain(self, max_rounds: int = 1000) -> RunStats:
        """Run until no job is due (jobs waiting on a retry delay are left waiting)."""
        total = RunStats()
        for _ in range(max_rounds):
            stats = await self.run_once()
            if stats == RunStats():
                break
            total = RunStats(total.done + stats.done, total.retried + stats.retried, total.failed + stats.failed)
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                stats = await self.run_once()
            except Exception:  # a database blip must not kill the worker
                log.exception("outbox round failed", extra={"worker": self.worker_name})
                stats = RunStats()
            if stats == RunStats():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._poll_interval)
                except TimeoutError:
                    pass

    async def _perform(self, job: OutboxJobSnapshot, token: str) -> JobStatus:
        performer = self._performers[job.kind]
        try:
            await performer(job, self._app)
        except RetryJob as exc:
            if not exc.counts:
                return await self._defer(job, token, str(exc), exc.delay or 0.0)
            return await self._retry_or_fail(job, token, str(exc), exc.delay)
        except JobFailed as exc:
            return await self._finish(job, token, JobStatus.FAILED, str(exc))
        except Exception as exc:
            log.warning("outbox job raised", extra={"job_id": job.id, "kind": job.kind, "error": repr(exc)})
            return await self._retry_or_fail(job, token, f"{type(exc).__name__}: {exc}", None)
        return await self._finish(job, token, JobStatus.DONE, None)

    async def _retry_or_fail(self, job: OutboxJobSnapshot, token: str, error: str, delay: float | None) -> JobStatus:
        if job.attempts >= job.max_attempts:
            return await self._finish(job, token, JobStatus.FAILED, f"gave up after {job.attempts} attempts: {error}")
        wait = retry_delay(job.attempts, base=self._settings.backoff_base_seconds,
                           cap=self._settings.backoff_max_seconds, at_least=delay)
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.locked_by == token).values(
                    status=JobStatus.PENDING, locked_by=None, locked_until=None,
                    not_before=self._clock() + timedelta(seconds=wait), last_error=error[:MAX_ERROR_CHARS],
                )
            )
        return JobStatus.PENDING

    async def _defer(self, job: OutboxJobSnapshot, token: str, reason: str, delay: float) -> JobStatus:
        """Put the job back for ``delay`` seconds and give back the attempt it was taken with."""
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.locked_by == token).values(
                    status=JobStatus.PENDING, locked_by=None, locked_until=None,
                    attempts=OutboxJob.attempts - 1, last_error=reason[:MAX_ERROR_CHARS],
                    not_before=self._clock() + timedelta(seconds=max(0.0, delay)),
                )
            )
        return JobStatus.PENDING

    async def _finish(self, job: OutboxJobSnapshot, token: str, status: JobStatus, error: str | None) -> JobStatus:
        if status == JobStatus.FAILED:
            log.error("outbox job failed", extra={"job_id": job.id, "kind": job.kind, "error": error})
        async with self._db.transaction() as session:
            # Only the holder of the lease finishes the job; a worker whose lease ran out
            # and was taken over must not overwrite the new holder's outcome.
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.locked_by == token).values(
                    status=status, locked_until=None, finished_at=self._clock(),
                    last_error=error[:MAX_ERROR_CHARS] if error else None,
                )
            )
        return status
