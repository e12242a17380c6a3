"""The desk's APScheduler: core sweeps plus the jobs plugins register."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

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
