"""BusinessCalendar: opening hours, holidays and DST, and the laws add/between obey."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.core.business_time import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")
H = 3600
NINE_TO_FIVE = {d: [(9 * H, 17 * H)] for d in range(5)}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def office(holidays: tuple[date, ...] = (), tz: str = "Europe/Paris") -> BusinessCalendar:
    return BusinessCalendar(tz, NINE_TO_FIVE, holidays)


def test_friday_afternoon_over_a_holiday_monday() -> None:
    cal = office((date(2026, 11, 9),))  # Monday 9 November
    friday_4pm = paris(2026, 11, 6, 16, 0)
    assert cal.add(friday_4pm, 3 * H) == paris(2026, 11, 10, 11, 0)  # 1 h Friday, 2 h Tuesday
    assert cal.add(friday_4pm, 4 * H) == paris(2026, 11, 10, 12, 0)
    assert cal.between(friday_4pm, paris(2026, 11, 10, 12, 0)) == 4 * H
    assert cal.between(paris(2026, 11, 9, 0, 0), paris(2026, 11, 10, 0, 0)) == 0  # the holiday
    assert cal.add(friday_4pm, 4 * H).tzinfo == timezone.utc


def test_outside_hours_and_exact_edges() -> None:
    cal = office()
    saturday = paris(2026, 11, 7, 12, 0)
    assert cal.add(saturday, 1) == paris(2026, 11, 9, 9, 0, 1)
    assert cal.add(saturday, 0) == saturday  # nothing to add: nothing moves
    assert cal.add(paris(2026, 11, 6, 9, 0), 8 * H) == paris(2026, 11, 6, 17, 0)  # ends at closing, not Monday
    assert cal.between(paris(2026, 11, 6, 17, 0), paris(2026, 11, 9, 9, 0)) == 0
    assert cal.between(paris(2026, 11, 9, 10, 0), paris(2026, 11, 6, 16, 0)) == -2 * H
    assert cal.is_open(paris(2026, 11, 6, 16, 59)) and not cal.is_open(paris(2026, 11, 6, 17, 0))


def test_several_ranges_a_day() -> None:
    cal = BusinessCalendar("UTC", {0: [(13 * H, 17 * H), (9 * H, 12 * H)]})  # Mondays, lunch closed
    monday = datetime(2026, 11, 2, 11, 0, tzinfo=timezone.utc)
    assert cal.add(monday, 2 * H) == datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)
    assert cal.add(monday, 6 * H) == datetime(2026, 11, 9, 10, 0, tzinfo=timezone.utc)  # next Monday


def test_wall_clock_hours_follow_dst() -> None:
    cal = office()  # Paris: summer time ends Sunday 25 October 2026
    friday = paris(2026, 10, 23, 16, 0)
    due = cal.add(friday, 2 * H)
    assert due == paris(2026, 10, 26, 10, 0)  # still 10:00 on the wall, now UTC+1
    assert due - friday == timedelta(days=2, hours=19)  # 66 + 1 real hours: the repeated hour
    whole = BusinessCalendar("Europe/Paris", {d: [(0, 24 * H)] for d in range(7)})
    assert whole.between(paris(2026, 10, 25, 0, 0), paris(2026, 10, 26, 0, 0)) == 25 * H
    assert whole.between(paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0)) == 23 * H
    new_york = office(tz="America/New_York")  # US clocks go forward on 8 March 2026
    ny = ZoneInfo("America/New_York")
    assert new_york.add(datetime(2026, 3, 6, 16, 0, tzinfo=ny), 2 * H) == datetime(2026, 3, 9, 10, 0, tzinfo=ny)


def test_24x7_is_real_time_and_ignores_holidays() -> None:
    cal = BusinessCalendar.always_open()
    start = paris(2026, 12, 24, 23, 0)
    assert cal.add(start, 2 * H) == start + timedelta(hours=2)
    assert cal.between(start, paris(2026, 12, 26, 23, 0)) == 48 * H
    assert cal.is_24x7 and not office().is_24x7


def test_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one weekday"):
        BusinessCalendar("UTC", {})
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("UTC", {0: [(9 * H, 12 * H), (11 * H, 17 * H)]})
    with pytest.raises(ValueError, match="within one day"):
        BusinessCalendar("UTC", {0: [(17 * H, 9 * H)]})
    with pytest.raises(ValueError, match="aware"):
        office().add(datetime(2026, 11, 2, 9, 0), 60)
    with pytest.raises(ValueError, match="forwards"):
        office().add(paris(2026, 11, 2, 9, 0), -1)


# --- laws ------------------------------------------------------------------------------

ZONES = ("UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo")
START = datetime(2025, 12, 1, tzinfo=timezone.utc)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    weekly = {}
    for day in draw(st.sets(st.integers(0, 6), min_size=1)):
        cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))  # quarter hours
        spans = [(a * 900, b * 900) for a, b in zip(cuts[::2], cuts[1::2])]
        if spans:
            weekly[day] = spans
    if not weekly:
        weekly = {0: [(0, 86_400)]}
    holidays = draw(st.lists(st.dates(date(2025, 11, 20), date(2027, 3, 1)), max_size=40))
    return BusinessCalendar(draw(st.sampled_from(ZONES)), weekly, holidays)


moments = st.integers(0, 400 * 86_400 * 1000).map(lambda ms: START + timedelta(milliseconds=ms))
amounts = st.integers(0, 80 * 3600 * 1000).map(lambda ms: ms / 1000)


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, amounts)
def test_between_undoes_add(cal: BusinessCalendar, start: datetime, seconds: float) -> None:
    end = cal.add(start, seconds)
    assert end >= start
    assert cal.between_delta(start, end) == timedelta(seconds=seconds)
    if seconds > 0:  # the earliest such moment: a moment before it has not had all of it
        assert cal.between_delta(start, end - timedelta(milliseconds=1)) < timedelta(seconds=seconds)


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, moments)
def test_add_of_between_lands_at_or_before(cal: BusinessCalendar, a: datetime, b: datetime) -> None:
    a, b = min(a, b), max(a, b)
    back = cal.add_delta(a, cal.between_delta(a, b))
    assert back <= b
    assert cal.between_delta(back, b) == timedelta(0)  # only closed time in between


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, moments, moments)
def test_between_adds_up_and_is_monotonic(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    ab, bc, ac = cal.between_delta(a, b), cal.between_delta(b, c), cal.between_delta(a, c)
    assert ab + bc == ac
    assert timedelta(0) <= ab <= ac and bc <= ac
    assert ac <= c - a  # never more than real time
    assert cal.between_delta(c, a) == -ac


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, amounts, amounts)
def test_add_is_monotonic(cal: BusinessCalendar, start: datetime, s1: float, s2: float) -> None:
    s1, s2 = min(s1, s2), max(s1, s2)
    assert cal.add(start, s1) <= cal.add(start, s2)
    later = start + timedelta(hours=5)
    assert cal.add(start, s1) <= cal.add(later, s1)


@settings(max_examples=100, deadline=None)
@given(calendars(), st.dates(date(2025, 12, 2), date(2026, 12, 31)), moments, moments)
def test_holidays_contribute_nothing(cal: BusinessCalendar, holiday: date, a: datetime, b: datetime) -> None:
    closed = BusinessCalendar(cal.tz, cal.weekly, cal.holidays | {holiday})
    day_start = datetime.combine(holiday, datetime.min.time(), tzinfo=cal.tz)
    day_end = datetime.combine(holiday + timedelta(days=1), datetime.min.time(), tzinfo=cal.tz)
    assert closed.between(day_start, day_end) == 0
    a, b = min(a, b), max(a, b)
    assert closed.between_delta(a, b) <= cal.between_delta(a, b)
    outside = cal.between_delta(a, b) - closed.between_delta(a, b)
    assert outside == cal.between_delta(max(a, day_start), max(min(b, day_end), max(a, day_start)))


@settings(max_examples=100, deadline=None)
@given(moments, moments)
def test_24x7_between_is_elapsed_time(a: datetime, b: datetime) -> None:
    cal = BusinessCalendar.always_open()
    assert cal.between_delta(a, b) == b - a
    assert cal.add_delta(a, abs(b - a)) == a + abs(b - a)
