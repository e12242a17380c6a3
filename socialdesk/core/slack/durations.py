"""Snooze times as agents type them: ``30m``, ``2h``, ``1d``, ``tomorrow``."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MORNING = time(9, 0)
MAX_SNOOZE = timedelta(days=30)
_AMOUNT = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$")
SNOOZE_CHOICES = (("30m", "30 minutes"), ("2h", "2 hours"), ("tomorrow", "Tomorrow at 9:00"))


def snooze_until(spec: str, now: datetime, tz_name: str) -> datetime | None:
    """When a snooze of ``spec`` ends, in UTC; ``None`` if ``spec`` is not understood.

    ``tomorrow`` is 9:00 the next day in the desk's time zone (``desk.timezone``).
    """
    spec = spec.strip().lower()
    if spec == "tomorrow":
        local = now.astimezone(ZoneInfo(tz_name))
        wake = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=local.tzinfo)
        return wake.astimezone(timezone.utc)
    match = _AMOUNT.match(spec)
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)[0]
    delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    if delta <= timedelta(0) or delta > MAX_SNOOZE:
        return None
    return now + delta
