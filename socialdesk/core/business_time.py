"""Business time: weekly opening hours and holidays in the team's time zone.

A :class:`BusinessCalendar` answers two questions, both in *business seconds* (real
elapsed seconds that fall inside opening hours):

* ``add(start, seconds)``: the earliest moment by which ``seconds`` of business time
  have passed since ``start``;
* ``between(a, b)``: how much business time lies in ``[a, b)`` (negative when b < a).

Opening hours are wall-clock times of the team's IANA zone (``zoneinfo``), so they
follow DST: "09:00-17:00" is 8 real hours every day, and "00:00-24:00" is 23 or 25 real
hours on the days the clocks change. Holidays are local dates with no business time.
``BusinessCalendar.always_open()`` is the 24x7 calendar: real time, holidays ignored.
All moments given and returned are aware datetimes (returned in UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY_SECONDS = 86_400
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# add() walks day by day; a calendar with opening hours can never need this many days
# for any sane target, and the guard turns a misconfiguration into an error, not a hang.
MAX_DAYS_SEARCHED = 366 * 20

Span = tuple[int, int]  # seconds since local midnight: [start, end), end <= 86400


class BusinessCalendar:
    """Opening hours per weekday (0 = Monday), holidays, one time zone."""

    def __init__(self, tz: str | ZoneInfo, weekly: Mapping[int, Sequence[Span]],
                 holidays: Iterable[date] = ()) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.weekly: dict[int, tuple[Span, ...]] = {}
        for weekday, spans in weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday}")
            ordered = tuple(sorted(spans))
            for start, end in ordered:
                if not 0 <= start < end <= DAY_SECONDS:
                    raise ValueError(f"opening hours must be within one day and end after they start: {start}-{end}")
            for (_, end), (start, _) in zip(ordered, ordered[1:]):
                if start < end:
                    raise ValueError(f"opening hours of {WEEKDAYS[weekday]} overlap")
            if ordered:
                self.weekly[weekday] = ordered
        if not self.weekly:
            raise ValueError("a business calendar needs opening hours on at least one weekday")
        self.holidays = frozenset(holidays)
        self._always = False

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """24x7: every second counts, whatever the day (holidays included)."""
        calendar = cls("UTC", {d: [(0, DAY_SECONDS)] for d in range(7)})
        calendar._always = True
        return calendar

    @property
    def is_24x7(self) -> bool:
        return self._always

    # --- the two questions ------------------------------------------------------------

    def between(self, a: datetime, b: datetime) -> float:
        """Business seconds in ``[a, b)``; ``-between(b, a)`` when ``b`` is before ``a``."""
        return self.between_delta(a, b).total_seconds()

    def between_delta(self, a: datetime, b: datetime) -> timedelta:
        _require_aware(a, b)
        if b < a:
            return -self.between_delta(b, a)
        if self._always:
            return b - a
        total = timedelta(0)
        for start, end in self._open_spans(a):
            if start >= b:
                break
            lo, hi = max(start, a), min(end, b)
            if hi > lo:
                total += hi - lo
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The earliest moment by which ``seconds`` of business time have passed since ``start``."""
        return self.add_delta(start, timedelta(seconds=seconds))

    def add_delta(self, start: datetime, amount: timedelta) -> datetime:
        _require_aware(start)
        if amount < timedelta(0):
            raise ValueError("business time can only be added forwards")
        start = start.astimezone(timezone.utc)
        if self._always or amount == timedelta(0):
            return start + amount
        remaining = amount
        for span_start, span_end in self._open_spans(start):
            lo = max(span_start, start)
            if span_end <= lo:
                continue
            available = span_end - lo
            if remaining <= available:
                return lo + remaining
            remaining -= available
        raise ValueError("no opening hours found within 20 years; check the business hours and holidays")

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls inside opening hours (not on a holiday)."""
        return self.between_delta(moment, moment + timedelta(microseconds=1)) > timedelta(0)

    # --- opening spans as UTC intervals ------------------------------------------------

    def _open_spans(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC, in order, from the local day before ``after`` onwards.

        Starting a day early catches intervals that reach past local midnight in UTC
        terms. Consecutive intervals never overlap, even around a DST change (a span that
        would start before the previous one ended is clipped).
        """
        day = after.astimezone(self.tz).date() - timedelta(days=1)
        previous_end: datetime | None = None
        for _ in range(MAX_DAYS_SEARCHED):
            if day not in self.holidays:
                for span in self.weekly.get(day.weekday(), ()):
                    start, end = self._local(day, span[0]), self._local(day, span[1])
                    if previous_end is not None and start < previous_end:
                        start = previous_end
                    if end > start:
                        previous_end = end
                        yield start, end
            day += timedelta(days=1)

    def _local(self, day: date, seconds: int) -> datetime:
        """``seconds`` after local midnight of ``day`` as a wall-clock time, in UTC.

        A wall time that does not exist (the hour skipped in spring) or exists twice (the
        hour repeated in autumn) is read with ``fold=0``, zoneinfo's default.
        """
        if seconds >= DAY_SECONDS:
            day, seconds = day + timedelta(days=seconds // DAY_SECONDS), seconds % DAY_SECONDS
        wall = time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(timezone.utc)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("business time needs aware datetimes (with a time zone)")
