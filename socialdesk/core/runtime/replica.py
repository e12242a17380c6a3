"""`socialdesk run`: one replica of the desk on one event loop.

Every replica: the schema check, the services (Slack's endpoint), the outbox workers and
the status server (``/healthz``, ``/metrics``). The leader replica
(:mod:`socialdesk.core.runtime.leadership`) also runs the listeners (pollers, the Discord
gateway) and the scheduler, started each time it gains leadership and stopped at once
when it loses it. Shutdown keeps the order a reply in flight needs: the scheduler stops,
the workers finish their current job, then the listeners stop, the lock is given back,
and the services stop last.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from socialdesk.core.app import DeskApp
from socialdesk.core.errors import DeskError
from socialdesk.core.runtime.leadership import Elector, Leadership, elector_for
from socialdesk.core.runtime.metrics import DeskMetrics, metrics_for
from socialdesk.core.store.migrate import current_revision, head_revision
from socialdesk.core.runtime.scheduler import build_scheduler
from socialdesk.core.runtime.status_server import StatusServer

log = logging.getLogger(__name__)


class SchemaOutOfDate(DeskError):
    pass


async def require_current_schema(app: DeskApp) -> None:
    current, head = await current_revision(app.database), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database {app.database.safe_url()} is at schema revision {current or 'none'}, "
            f"this version needs {head}: run `socialdesk db upgrade`"
        )


class LeaderDuties:
    """What only the leader runs: the scheduler and the listeners, for one term at a time."""

    def __init__(self, app: DeskApp, metrics: DeskMetrics) -> None:
        self._app = app
        self._metrics = metrics
        self._scheduler: AsyncIOScheduler | None = None
        self._listeners: list[str] = []

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    async def start(self) -> None:
        app = self._app
        scheduler = build_scheduler(app)  # plugins add their jobs on a fresh scheduler each term
        settled = await app.service.reconcile_uncertain_replies()
        if settled:
            log.info("uncertain replies reconciled", extra={"replies": settled})
        self._listeners = await app.hooks.start_listeners()  # raises with nothing left running
        scheduler.start()
        self._scheduler = scheduler
        self._metrics.leader.set(1)
        log.info("leader duties running", extra={"listeners": self._listeners,
                                                 "jobs": [job.id for job in scheduler.get_jobs()]})

    def stop_scheduler(self) -> None:
        """No new job starts; running coroutine jobs are cancelled (a poll resumes from its
        committed cursor next time, wherever it runs)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def stop(self) -> None:
        self.stop_scheduler()
        listeners, self._listeners = self._listeners, []
        if listeners:
            await self._app.hooks.stop_listeners(only=listeners)
        self._metrics.leader.set(0)


class Replica:
    """One running replica; its parts are attributes for tests and the status server."""

    def __init__(self, app: DeskApp, elector: Elector | None = None, **timing: float) -> None:
        self.app = app
        self.metrics = metrics_for(app)
        self.duties = LeaderDuties(app, self.metrics)
        self.leadership = Leadership(elector or elector_for(app.database), self.duties.start, self.duties.stop,
                                     **timing)
        self.status: StatusServer | None = None
        self.running = asyncio.Event()  # set once services, workers and the status server run

    @property
    def is_leader(self) -> bool:
        return self.leadership.is_leader

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; always stops what it started."""
        app = self.app
        await require_current_schema(app)
        services: list[str] = []
        workers: list[asyncio.Task[None]] = []
        try:
            services = await app.hooks.start_services()
            workers = [
                asyncio.create_task(app.outbox_runner(f"outbox-{n}").run_forever(stop), name=f"outbox-{n}")
                for n in range(app.config.desk.outbox.workers)
            ] + [
                asyncio.create_task(app.outbox_runner(f"urgent-{n}", urgent=True).run_forever(stop),
                                    name=f"outbox-urgent-{n}")
                for n in range(app.config.desk.outbox.urgent_workers)
            ]
            if app.config.desk.status_port is not None:
                self.status = StatusServer(app, lambda: self.is_leader, app.config.desk.status_port)
                await self.status.start()
            log.info("desk running", extra={"plugins": list(app.config.enabled), "services": services,
                                            "database": app.database.safe_url(),
                                            "status_port": self.status.port if self.status else None})
            self.running.set()
            await self.leadership.run(stop)
        finally:
            # Workers finish their current job before the listeners (and the platform clients
            # they own) go away: a reply in flight must not lose its client and turn uncertain.
            log.info("desk stopping")
            self.duties.stop_scheduler()
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
            await self.leadership.resign()  # listeners stop before the lock is given back
            await app.hooks.stop_services(only=services)
            if self.status is not None:
                await self.status.stop()
            await app.close()


async def run_desk(app: DeskApp, stop: asyncio.Event, *, elector: Elector | None = None) -> None:
    """Run one replica of ``app`` until ``stop`` is set (see :class:`Replica`).

    ``elector`` decides leadership (default: the advisory lock on PostgreSQL, always
    the leader on SQLite).
    """
    await Replica(app, elector).run(stop)


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
