"""Report periods as people type them: ``7d``, ``24h``, ``2w``, ``2026-11-01``, ``2026-11-01T08:00``.

A relative amount counts back from now; a date is midnight in the desk's time zone
(``desk.timezone``); a date and time without an offset is read in that zone too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from socialdesk.core.errors import DeskError

_AMOUNT = re.compile(r"^(\d{1,5})\s*(h|d|w)$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SPAN = timedelta(days=3660)
PERIOD_HELP = "7d, 24h, 2w, a date (2026-11-01) or a date and time (2026-11-01T08:00)"


class BadPeriod(DeskError):
    """A period that cannot be read; the message says what is accepted."""


def amount(text: str) -> timedelta | None:
    """``7d`` -> 7 days; ``None`` if ``text`` is not an amount."""
    match = _AMOUNT.match(text.strip().lower())
    if not match:
        return None
    span = int(match.group(1)) * _UNITS[match.group(2)]
    return span if timedelta(0) < span <= MAX_SPAN else None


def moment(text: str, now: datetime, tz_name: str, *, what: str) -> datetime:
    """An aware UTC moment from ``text`` (see the module docstring); ``what`` names the option."""
    text = text.strip()
    back = amount(text)
    if back is not None:
        return now - back
    tz = ZoneInfo(tz_name)
    try:
        if len(text) == 10:
            local = datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        else:
            parsed = datetime.fromisoformat(text)
            local = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    except ValueError:
        raise BadPeriod(f"{what} {text!r} is not understood; use {PERIOD_HELP}") from None
    return local.astimezone(timezone.utc)


def period(since: str, until: str | None, now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """``[since, until)`` in UTC; ``until`` defaults to now."""
    start = moment(since, now, tz_name, what="--since")
    end = moment(until, now, tz_name, what="--until") if until else now
    if start >= end:
        raise BadPeriod(f"--since ({start:%Y-%m-%d %H:%M} UTC) must be before --until ({end:%Y-%m-%d %H:%M} UTC)")
    if end - start > MAX_SPAN:
        raise BadPeriod(f"a report covers at most {MAX_SPAN.days} days")
    return start, end


def local_day_start(now: datetime, tz_name: str) -> datetime:
    """Midnight today in the desk's time zone, as UTC."""
    tz = ZoneInfo(tz_name)
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(timezone.utc)
