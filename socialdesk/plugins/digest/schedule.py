"""When a digest is due, and queueing it: one ``post_digest`` outbox job per day.

The job's dedupe key ``digest:<date>`` is unique in the outbox, so the daily trigger
firing on two replicas, or again after a restart, queues the day's digest once. The
period the digest covers is fixed when it is queued, so a retry reports the same numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from socialdesk.core.errors import DeskError
from socialdesk.core.store.models import OutboxJob
from socialdesk.plugins.digest.settings import PLUGIN_NAME, DigestSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

POST_DIGEST = "post_digest"
# After every card and reply: a digest can wait a few seconds, a P4 card should not.
DIGEST_PRIORITY = 9


@dataclass(frozen=True, slots=True)
class DigestJob:
    """What one day's digest covers; the outbox job's payload."""

    day: date
    channel: str
    since: datetime
    until: datetime

    def payload(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "channel": self.channel,
                "since": self.since.isoformat(), "until": self.until.isoformat()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DigestJob:
        return cls(date.fromisoformat(payload["date"]), str(payload["channel"]),
                   datetime.fromisoformat(payload["since"]), datetime.fromisoformat(payload["until"]))

    @property
    def dedupe_key(self) -> str:
        return f"digest:{self.day.isoformat()}"


def digest_settings(app: DeskApp) -> DigestSettings:
    settings = app.settings(PLUGIN_NAME)
    return settings if isinstance(settings, DigestSettings) else DigestSettings()


def digest_channel(app: DeskApp) -> str:
    """The channel the digest goes to; a start-up error naming the keys when there is none."""
    channel = digest_settings(app).channel or app.config.desk.channel
    if channel is None:
        raise DeskError(f"plugins.{PLUGIN_NAME}.channel: the digest needs a channel; set it, or desk.channel")
    return channel


def digest_moment(day: date, settings: DigestSettings, tz_name: str) -> datetime:
    """When the digest of ``day`` is due, in UTC (``time`` on that day in desk.timezone)."""
    return datetime.combine(day, settings.at, tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc)


def latest_due_day(now: datetime, settings: DigestSettings, tz_name: str) -> date:
    """The newest day whose digest time has come: today once it is past ``time``, else yesterday."""
    today = now.astimezone(ZoneInfo(tz_name)).date()
    return today if digest_moment(today, settings, tz_name) <= now else today - timedelta(days=1)


def digest_for(app: DeskApp, day: date) -> DigestJob:
    settings = digest_settings(app)
    until = digest_moment(day, settings, app.config.desk.timezone)
    return DigestJob(day, digest_channel(app), until - settings.span, until)


async def queue_digest(app: DeskApp, day: date) -> bool:
    """Queue the digest of ``day`` unless it was queued before; whether this call queued it."""
    job = digest_for(app, day)
    async with app.database.sessions() as session:
        if await session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == job.dedupe_key)) is not None:
            return False
    try:
        async with app.database.transaction() as session:
            app.outbox.enqueue(session, POST_DIGEST, job.payload(), now=app.clock(), priority=DIGEST_PRIORITY,
                               dedupe_key=job.dedupe_key)
    except IntegrityError:
        return False  # another replica queued it between our look and our insert
    log.info("digest queued", extra={"date": day.isoformat(), "channel": job.channel})
    return True


async def queue_latest_digest(app: DeskApp) -> bool:
    """The scheduled job: queue the newest digest that is due (a restart catches up on it)."""
    day = latest_due_day(app.clock(), digest_settings(app), app.config.desk.timezone)
    return await queue_digest(app, day)
