"""The desk's APScheduler (3.x ``AsyncIOScheduler``): core sweeps plus the jobs plugins register.

It runs on the leader replica only (:mod:`socialdesk.core.runtime.leadership`); a new one is
built each time a replica gains leadership and shut down when it loses it. Jobs:

* ``core.wake_snoozed`` — every 30 s: snoozed tickets whose time has come reopen;
* ``core.reconcile_uncertain_replies`` — every 300 s: replies that may have been posted
  are looked for on their platform (also once at each gain of leadership);
* whatever plugins add in ``socialdesk_register_jobs``: the X pollers (``x.poll_mentions``,
  ``x.poll_search``) and the other plugins' sweeps (SLA, digests, CSAT, retention).

Every job coalesces and runs one instance at a time: a sweep that overran is not run
twice to catch up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

T = TypeVar("T")

WAKE_SNOOZED_EVERY_SECONDS = 30
# A reply that became uncertain mid-run (a lost answer) is looked for again regularly,
# not only at the next start-up.
RECONCILE_UNCERTAIN_EVERY_SECONDS = 300


def build_scheduler(app: DeskApp) -> AsyncIOScheduler:
    # coalesce + one instance: a sweep that overran is not run twice to catch up.
    scheduler = AsyncIOScheduler(
        timezone=app.config.desk.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    scheduler.add_job(app.service.wake_due, "interval", seconds=WAKE_SNOOZED_EVERY_SECONDS,
                      id="core.wake_snoozed", replace_existing=True)
    scheduler.add_job(app.service.reconcile_uncertain_replies, "interval",
                      seconds=RECONCILE_UNCERTAIN_EVERY_SECONDS, id="core.reconcile_uncertain_replies",
                      replace_existing=True)
    app.hooks.register_jobs(scheduler)
    return scheduler


async def run_logged(logger: logging.Logger, what: str, work: Callable[[], Awaitable[T]],
                     **context: Any) -> T | None:
    """One run of a plugin's scheduled job: an exception is logged on the plugin's
    ``logger``, naming ``what`` with ``context``, and the run gives ``None``. Every such job
    keeps its progress in the database (a cursor, a settled row), so the next run starts
    over from there and nothing is lost; one that raised must not stop the other jobs."""
    try:
        return await work()
    except Exception:
        logger.exception(f"{what} raised; the next run starts over from what was committed", extra=context)
        return None
