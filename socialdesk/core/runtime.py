"""`socialdesk run`: listeners, outbox workers and the scheduler on one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal

from socialdesk.core.app import DeskApp
from socialdesk.core.errors import DeskError
from socialdesk.core.migrate import current_revision, head_revision
from socialdesk.core.scheduler import build_scheduler

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


async def run_desk(app: DeskApp, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; always stops what it started."""
    await require_current_schema(app)
    scheduler = build_scheduler(app)
    settled = await app.service.reconcile_uncertain_replies()
    if settled:
        log.info("uncertain replies reconciled", extra={"replies": settled})
    started = await app.hooks.start_listeners()
    workers: list[asyncio.Task[None]] = []
    try:
        scheduler.start()
        workers = [
            asyncio.create_task(app.outbox_runner(f"outbox-{n}").run_forever(stop), name=f"outbox-{n}")
            for n in range(app.config.desk.outbox.workers)
        ]
        log.info("desk running", extra={"plugins": list(app.config.enabled), "listeners": started,
                                        "database": app.database.safe_url()})
        await stop.wait()
    finally:
        # Workers finish their current job before the listeners (and the platform clients
        # they own) go away: a reply in flight must not lose its client and turn uncertain.
        log.info("desk stopping")
        scheduler.shutdown(wait=False)
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        await app.hooks.stop_listeners(only=started)
        await app.close()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
