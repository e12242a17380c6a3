"""The ``digest`` plugin: a daily CronTrigger job queues the day's ``post_digest`` outbox
job (dedupe key ``digest:<date>``); the outbox uploads it to Slack.

Registered on the leader at start-up. Besides the daily trigger, a one-off job right
after start-up queues the newest digest that is due, so a desk that was down at the
digest's time posts it when it comes back (the dedupe key keeps it to once a day).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from socialdesk.core.errors import DeskError
from socialdesk.core.extras import OptionalExtra
from socialdesk.core.extensions import JobPerformer
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.slack.settings import PLUGIN_NAME as SLACK_PLUGIN
from socialdesk.plugins.digest.delivery import post_digest
from socialdesk.plugins.digest.schedule import POST_DIGEST, digest_channel, digest_settings, queue_latest_digest
from socialdesk.plugins.digest.settings import PLUGIN_NAME, DigestSettings

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

CATCH_UP_DELAY = timedelta(seconds=5)  # after start-up, once the outbox workers run (wall clock: APScheduler's)
MISFIRE_GRACE_SECONDS = 3600  # a loop busy at the digest's time still queues it within the hour


def socialdesk_optional_extra() -> OptionalExtra:
    """The chart needs matplotlib: ``pip install 'socialdesk[digest]'``."""
    return OptionalExtra("digest", ("matplotlib",))


@hookimpl
def socialdesk_settings_model() -> type[DigestSettings]:
    return DigestSettings


@hookimpl
def socialdesk_outbox_performers() -> Mapping[str, JobPerformer]:
    return {POST_DIGEST: post_digest}


def _slack_problem(app: DeskApp) -> str | None:
    if SLACK_PLUGIN in app.config.enabled:
        return None
    return (f"plugins.{PLUGIN_NAME}: the digest is posted in Slack; enable [plugins.{SLACK_PLUGIN}] "
            f"too, or set plugins.{PLUGIN_NAME}.enabled = false")


@hookimpl
def socialdesk_startup_problems(app: DeskApp) -> list[str]:
    problems = [p for p in [_slack_problem(app)] if p]
    try:
        digest_channel(app)
    except DeskError as exc:
        problems.append(str(exc))
    return problems


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    problem = _slack_problem(app)
    if problem:
        raise DeskError(problem)
    digest_channel(app)  # no channel: fail at start-up, naming the key
    at = digest_settings(app).at
    tz = ZoneInfo(app.config.desk.timezone)
    scheduler.add_job(queue_latest_digest, CronTrigger(hour=at.hour, minute=at.minute, timezone=tz), args=[app],
                      id=f"{PLUGIN_NAME}.daily", replace_existing=True, misfire_grace_time=MISFIRE_GRACE_SECONDS)
    scheduler.add_job(queue_latest_digest, DateTrigger(run_date=datetime.now(timezone.utc) + CATCH_UP_DELAY), args=[app],
                      id=f"{PLUGIN_NAME}.catch_up", replace_existing=True, misfire_grace_time=MISFIRE_GRACE_SECONDS)
