"""Prometheus metrics of one desk, served by the status server at ``GET /metrics``.

Each desk has its own ``CollectorRegistry`` (never prometheus-client's global one): two
desks in one process (tests, benchmarks) share nothing. Three kinds of values:

* read from the store at scrape time (every replica reports the same numbers):
  ``socialdesk_queue_tickets{status,priority}`` (active tickets),
  ``socialdesk_outbox_jobs{status,kind}`` (pending, running and failed jobs),
  ``socialdesk_outbox_lag_seconds`` (age of the oldest due pending job, 0 when none) and
  ``socialdesk_store_up`` (1 when those reads worked);
* observed by this replica (sum them over replicas):
  ``socialdesk_first_response_seconds{platform}`` (histogram, on a ticket's first sent reply),
  ``socialdesk_sla_breaches_total{platform}``,
  ``socialdesk_platform_api_errors_total{platform,kind}`` (kind: transient, permanent,
  ambiguous, other; reply and survey sends, Slack deliveries, X polls) and
  ``socialdesk_platform_rate_limited_total{platform}`` (the 429 answers among them);
  ``socialdesk_slack_replays_refused_total`` (signed Slack requests sent again, answered
  without acting) and ``socialdesk_mention_gaps_total{platform}`` (times a platform's
  window could not cover everything since the last poll: mentions may be missing);
* about this replica: ``socialdesk_leader`` (1 while it runs the listeners and scheduler).

Ticket events reach the metrics through an observer registered on the desk's plugin
manager (``core.metrics``) when the desk's metrics are first used.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select

from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.store.models import OutboxJob, Ticket
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, PlatformError, TransientPlatformError
from socialdesk.core.ticket import ACTIVE_STATUSES

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

OBSERVER_NAME = "core.metrics"
# Compared by value: the SLA helper adds EventKind.SLA_BREACHED; the string is the contract.
SLA_BREACHED = "sla_breached"
PRIORITIES = (1, 2, 3, 4)
OUTBOX_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)
# Seconds: from half a minute to two days, the range support teams set SLAs in.
FIRST_RESPONSE_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800)


@dataclass
class StoreReading:
    """What the store said at one scrape."""

    queue: dict[tuple[str, int], int] = field(default_factory=dict)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox_lag_seconds: float = 0.0
    ok: bool = False


def read_store(connection: Connection, now: datetime) -> StoreReading:
    """The store's numbers, in three grouped reads (run through ``Database.run_read``)."""
    reading = StoreReading(ok=True)
    for status, priority, count in connection.execute(
        select(Ticket.status, Ticket.priority, func.count()).where(Ticket.status.in_(ACTIVE_STATUSES))
        .group_by(Ticket.status, Ticket.priority)
    ):
        reading.queue[(status, int(priority))] = int(count)
    for status, kind, count in connection.execute(
        select(OutboxJob.status, OutboxJob.kind, func.count())
        .where(OutboxJob.status.in_([str(s) for s in OUTBOX_STATUSES]))
        .group_by(OutboxJob.status, OutboxJob.kind)
    ):
        reading.outbox[(status, kind)] = int(count)
    oldest = connection.execute(
        select(func.min(OutboxJob.not_before))
        .where(OutboxJob.status == JobStatus.PENDING, OutboxJob.not_before <= now)
    ).scalar()
    if oldest is not None:
        reading.outbox_lag_seconds = max(0.0, (now - oldest).total_seconds())
    return reading


class StoreCollector(Collector):
    """Yields the last store reading; ``DeskMetrics.refresh`` takes one right before a scrape."""

    def __init__(self) -> None:
        self.reading = StoreReading()

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("socialdesk_queue_tickets", "Active tickets by status and priority",
                              labels=["status", "priority"]),
            GaugeMetricFamily("socialdesk_outbox_jobs", "Outbox jobs pending, running or failed, by kind",
                              labels=["status", "kind"]),
            GaugeMetricFamily("socialdesk_outbox_lag_seconds", "Age of the oldest due pending outbox job"),
            GaugeMetricFamily("socialdesk_store_up", "1 if the store could be read for this scrape"),
        )

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        queue, outbox, lag, up = self._families()
        reading = self.reading
        # Every active status and priority, zeros included: a series that vanishes is not a 0.
        for status in ACTIVE_STATUSES:
            for priority in PRIORITIES:
                queue.add_metric([str(status), str(priority)], reading.queue.get((str(status), priority), 0))
        for (status, priority), count in reading.queue.items():
            if priority not in PRIORITIES:
                queue.add_metric([status, str(priority)], count)
        for (status, kind), count in sorted(reading.outbox.items()):
            outbox.add_metric([status, kind], count)
        lag.add_metric([], reading.outbox_lag_seconds)
        up.add_metric([], 1.0 if reading.ok else 0.0)
        yield from (queue, outbox, lag, up)


class DeskMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.first_response = Histogram(
            "socialdesk_first_response_seconds", "From a ticket's creation to its first reply posted on the platform",
            ["platform"], buckets=FIRST_RESPONSE_BUCKETS, registry=self.registry)
        self.sla_breaches = Counter("socialdesk_sla_breaches", "SLA clocks that breached (first response, resolution)",
                                    ["platform"], registry=self.registry)
        self.platform_errors = Counter(
            "socialdesk_platform_api_errors", "Platform API calls that failed, by platform and kind",
            ["platform", "kind"], registry=self.registry)
        self.rate_limited = Counter("socialdesk_platform_rate_limited", "Platform API answers 429 (rate limited)",
                                    ["platform"], registry=self.registry)
        self.slack_replays = Counter("socialdesk_slack_replays_refused",
                                     "Signed Slack requests received again and answered without acting",
                                     registry=self.registry)
        self.mention_gaps = Counter("socialdesk_mention_gaps",
                                    "Polls that found mentions may be missing (beyond what the platform serves)",
                                    ["platform"], registry=self.registry)
        self.leader = Gauge("socialdesk_leader", "1 while this replica leads (listeners and scheduler)",
                            registry=self.registry)
        self.store = StoreCollector()
        self.registry.register(self.store)

    def platform_error(self, platform: str, error: PlatformError) -> None:
        kind = ("transient" if isinstance(error, TransientPlatformError)
                else "permanent" if isinstance(error, PermanentPlatformError)
                else "ambiguous" if isinstance(error, AmbiguousPlatformError) else "other")
        self.api_failure(platform, kind, rate_limited=isinstance(error, TransientPlatformError) and error.status == 429)

    def api_failure(self, platform: str, kind: str, *, rate_limited: bool = False) -> None:
        """One failed platform API call: ``kind`` is transient, permanent, ambiguous or other."""
        self.platform_errors.labels(platform=platform, kind=kind).inc()
        if rate_limited:
            self.rate_limited.labels(platform=platform).inc()

    def slack_replay_refused(self) -> None:
        self.slack_replays.inc()

    def mention_gap(self, platform: str) -> None:
        self.mention_gaps.labels(platform=platform).inc()

    async def refresh(self, app: DeskApp) -> StoreReading:
        """Read the store for the next scrape; a failure is reported as ``socialdesk_store_up 0``."""
        now = app.clock()
        try:
            reading = await app.database.run_read(lambda connection: read_store(connection, now))
        except Exception as exc:
            log.warning("metrics: the store could not be read", extra={"error": type(exc).__name__})
            reading = StoreReading(ok=False)
        self.store.reading = reading
        return reading

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    async def observe(self, event: TicketEvent, app: DeskApp) -> None:
        if event.kind == EventKind.REPLY_SENT:
            await self._first_response(event, app)
        elif str(event.kind) == SLA_BREACHED:
            ticket = await app.service.get_ticket(event.ticket_id)
            self.sla_breaches.labels(platform=ticket.platform).inc()

    async def _first_response(self, event: TicketEvent, app: DeskApp) -> None:
        # The first reply is the one of the ticket's first reply_sent audit row: exact even
        # when two replies are sent back to back and their events are published late.
        first = next((e for e in await app.service.audit_trail(event.ticket_id)
                      if e.kind == EventKind.REPLY_SENT), None)
        if first is None or first.details.get("reply_id") != event.details.get("reply_id"):
            return
        ticket = await app.service.get_ticket(event.ticket_id)
        answered = ticket.first_response_at or event.at
        self.first_response.labels(platform=ticket.platform).observe(
            max(0.0, (answered - ticket.created_at).total_seconds()))


class _EventObserver:
    """The desk's own ``socialdesk_ticket_event`` observer (failures are logged by the facade)."""

    def __init__(self, metrics: DeskMetrics) -> None:
        self._metrics = metrics

    @hookimpl
    async def socialdesk_ticket_event(self, event: TicketEvent, app: DeskApp) -> None:
        await self._metrics.observe(event, app)


_metrics: weakref.WeakKeyDictionary[DeskApp, DeskMetrics] = weakref.WeakKeyDictionary()


def metrics_for(app: DeskApp) -> DeskMetrics:
    """The metrics of ``app``, made (and its event observer registered) on first use."""
    metrics = _metrics.get(app)
    if metrics is None:
        metrics = _metrics[app] = DeskMetrics()
        if app.pm.get_plugin(OBSERVER_NAME) is None:
            app.pm.register(_EventObserver(metrics), name=OBSERVER_NAME)
    return metrics
