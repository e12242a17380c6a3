"""Drains the outbox: due jobs, most urgent first, each through the plugin performing its kind.

Taking a job is a short transaction that leases it (status ``running``, ``locked_until``,
``locked_by`` = a token unique to this take). On PostgreSQL the rows are selected
``FOR UPDATE SKIP LOCKED`` so several workers and replicas never take the same job; on
SQLite, ``BEGIN IMMEDIATE`` serialises the take. A job whose worker died is taken again
when its lease expires; performers are written for that (a reply found ``sending`` is
marked uncertain, never re-sent).

A lease never runs out under a live worker: while a job is performed, a heartbeat extends
``locked_until`` (every third of the lease) on the row it still holds by token, so a slow
answer (Slack taking seconds to post a card) cannot hand the job to a second worker
whose history search would run before the first post had landed. A heartbeat that finds
the token gone (the worker stalled longer than a whole lease) fences the worker off:
:func:`ensure_lease`, called by a performer right before its request, raises instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select, update

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


class LeaseLost(Exception):
    """Raised by a performer (through :func:`ensure_lease`): another worker holds the job now."""


@dataclass(slots=True)
class Lease:
    """The job a worker is performing, its token, and whether the heartbeat still holds it."""

    job_id: int
    token: str
    held: bool = True
    renewals: int = field(default=0)


_current_lease: contextvars.ContextVar[Lease | None] = contextvars.ContextVar("outbox_lease", default=None)


def ensure_lease(what: str) -> None:
    """Call right before a side effect that must happen once: raises :class:`LeaseLost` if fenced off."""
    lease = _current_lease.get()
    if lease is not None and not lease.held:
        raise LeaseLost(f"job {lease.job_id} was taken over by another worker; not going to {what}")


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

        def wanted_at(now: datetime) -> list[ColumnElement[bool]]:
            due = or_(
                and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.not_before <= now),
                and_(OutboxJob.status == JobStatus.RUNNING, OutboxJob.locked_until < now),  # worker died
            )
            wanted = [due, OutboxJob.kind.in_(list(self._performers))]
            if self.urgent:
                wanted.append(OutboxJob.priority <= HIGHEST_PRIORITY)
            return wanted

        # Most polls find nothing due: a read says so without a write transaction (on SQLite
        # the write lock, which a claim or an ingest would then wait for, several times a second).
        now = self._clock()
        if await self._db.run_read(lambda c: c.execute(select(OutboxJob.id).where(*wanted_at(now)).limit(1)).first()) \
                is None:
            return []
        async with self._db.transaction() as session:
            now = self._clock()
            wanted = wanted_at(now)
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
        batch = await self.take()
        if not batch:
            return RunStats()
        live = {token: Lease(job.id, token) for job, token in batch}
        heartbeat = asyncio.create_task(self._renew(live))
        try:
            for job, token in batch:
                lease = live.get(token) or Lease(job.id, token, held=False)
                outcome = await self._perform(job, lease)
                live.pop(token, None)
                done += outcome == JobStatus.DONE
                retried += outcome == JobStatus.PENDING
                failed += outcome == JobStatus.FAILED
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
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

    async def _renew(self, leases: dict[str, Lease]) -> None:
        """Every third of a lease, extend the leases of the batch not finished yet; a lease
        found gone (its token replaced) is marked lost, fencing this worker off the job."""
        period = self._settings.lease_seconds / 3
        while leases:
            await asyncio.sleep(period)
            tokens = list(leases)
            try:
                async with self._db.transaction() as session:
                    kept = set((await session.scalars(
                        update(OutboxJob).where(OutboxJob.locked_by.in_(tokens), OutboxJob.status == JobStatus.RUNNING)
                        .values(locked_until=self._clock() + timedelta(seconds=self._settings.lease_seconds))
                        .returning(OutboxJob.locked_by))).all())
            except Exception:  # a blip: the leases still have two thirds left; try again
                log.warning("could not renew outbox leases", exc_info=True, extra={"worker": self.worker_name})
                continue
            for token in tokens:
                lease = leases.get(token)
                if lease is None:
                    continue  # finished meanwhile
                if token in kept:
                    lease.renewals += 1
                else:
                    lease.held = False
                    leases.pop(token, None)
                    log.warning("outbox lease lost to another worker", extra={"job_id": lease.job_id})

    async def _perform(self, job: OutboxJobSnapshot, lease: Lease) -> JobStatus:
        if not lease.held:  # waited in this batch longer than a lease and lost it
            return JobStatus.PENDING
        performer = self._performers[job.kind]
        reset = _current_lease.set(lease)
        try:
            return await self._perform_leased(job, lease.token, performer)
        finally:
            _current_lease.reset(reset)

    async def _perform_leased(self, job: OutboxJobSnapshot, token: str, performer: JobPerformer) -> JobStatus:
        try:
            await performer(job, self._app)
        except LeaseLost as exc:
            log.warning("outbox job left to the worker that took it over", extra={"job_id": job.id, "reason": str(exc)})
            return JobStatus.PENDING
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
