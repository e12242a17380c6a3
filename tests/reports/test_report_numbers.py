"""The report's numbers against a hand-computed day (tests/reports/fixture.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from socialdesk.core.extensions import Actor
from socialdesk.core.reports.period import BadPeriod, amount, moment, period
from socialdesk.core.reports.report import Durations, build_report, daily_series, percentile
from tests.conftest import FakeClock, mention
from tests.reports.fixture import AGENT_A, EXPECTED, SINCE, UNTIL, seed


def summary(report) -> dict:
    return {
        "created": report.created, "tickets": report.tickets, "auto_closed": report.auto_closed,
        "spam": report.spam, "by_platform": report.by_platform, "by_category": report.by_category,
        "by_priority": report.by_priority,
        "first_response": (report.first_response.count, report.first_response.median, report.first_response.p90),
        "unanswered": report.unanswered,
        "resolution": (report.resolution.count, report.resolution.median, report.resolution.p90),
        "sla": {s.kind: (s.met, s.missed, s.attainment) for s in report.sla},
        "agents": [(a.agent, a.claimed, a.replies, a.closed) for a in report.agents],
        "csat": (report.csat.sent, report.csat.responses, report.csat.average, report.csat.satisfied),
        "open_now": report.open_now, "unclaimed_now": report.unclaimed_now,
    }


async def test_numbers_match_the_hand_computed_day(make_app) -> None:
    app = await make_app(with_platform=False)
    await seed(app.database)
    report = await build_report(app.database, SINCE, UNTIL, now=UNTIL)
    assert summary(report) == EXPECTED
    assert list(report.by_platform) == ["x", "discord"]  # most first


async def test_an_empty_period_has_counts_of_zero_and_no_times(make_app) -> None:
    app = await make_app(with_platform=False)
    await seed(app.database)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    report = await build_report(app.database, start, start + timedelta(days=7), now=start + timedelta(days=7))
    assert (report.created, report.tickets, report.auto_closed, report.spam) == (0, 0, 0, 0)
    assert report.by_platform == report.by_category == report.by_priority == {}
    assert report.first_response == report.resolution == Durations(0, None, None)
    assert report.sla == () and report.agents == ()
    assert (report.csat.sent, report.csat.responses, report.csat.average, report.csat.satisfied) == (0, 0, None, None)
    assert (report.open_now, report.unclaimed_now) == (3, 2)  # the queue now does not depend on the period


async def test_a_running_timer_is_not_judged_before_its_due_time(make_app) -> None:
    """#5's first-response timer (due 12:15, unmet) is still running at noon: not counted yet."""
    app = await make_app(with_platform=False)
    await seed(app.database)
    noon = SINCE + timedelta(hours=12)
    report = await build_report(app.database, SINCE, noon, now=noon)
    first = {s.kind: s for s in report.sla}["first_response"]
    assert (first.met, first.missed) == (2, 2)  # #1 #4 met; #2 #3 missed; #5 undecided


async def test_daily_series_buckets_days_in_the_desk_time_zone(make_app) -> None:
    app = await make_app(with_platform=False)
    await seed(app.database)
    utc = await daily_series(app.database, date(2026, 11, 2), 2, "UTC")
    assert [d.day for d in utc] == [date(2026, 11, 1), date(2026, 11, 2)]
    assert utc[0].mentions == {"x": 1}  # #8 at 20:00
    assert utc[1].mentions == {"discord": 4, "x": 4}  # #1 #2 #5 #6; #3 #4 #7 and #3's follow-up at 23:30
    # 1 Nov: #8 (10 min = 600 s) and #10 (1 h = 3600 s): median 2100, p90 = 600 + 0.9 * 3000 = 3300
    assert utc[0].first_response == Durations(2, 2100.0, 3300.0)
    assert utc[1].first_response == Durations(4, 450.0, 1440.0)  # the report's #1..#4
    # Berlin is UTC+1 in November: the follow-up at 23:30 UTC belongs to 3 November there.
    berlin = await daily_series(app.database, date(2026, 11, 2), 2, "Europe/Berlin")
    assert berlin[1].mentions == {"discord": 3, "x": 4}


async def test_claims_replies_and_closes_through_the_desk(make_app, clock: FakeClock) -> None:
    """The agent counts and times come from what the desk itself writes, not only from seeded rows."""
    app = await make_app()
    start = clock()
    ticket = (await app.service.ingest(mention(text="Where is my parcel?"))).ticket_id
    agent = Actor("U0AGENTAAA", is_admin=False)
    clock.advance(minutes=2)
    await app.service.claim(ticket, agent)
    clock.advance(minutes=3)
    await app.service.reply(ticket, agent, "It ships today")
    await app.outbox_runner().drain()  # the testnet platform sends it: first response at +5 min
    clock.advance(minutes=10)
    await app.service.close(ticket, agent)
    report = await build_report(app.database, start, clock() + timedelta(seconds=1), now=clock())
    assert [(a.agent, a.claimed, a.replies, a.closed) for a in report.agents] == [(AGENT_A, 1, 1, 1)]
    assert report.first_response == Durations(1, 300.0, 300.0)
    assert report.resolution == Durations(1, 900.0, 900.0)
    assert report.tickets == 1 and report.by_platform == {"testnet": 1}


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([5.0], 0.9, 5.0),
    ([1.0, 2.0], 0.5, 1.5),
    ([10.0, 20.0, 30.0, 40.0, 50.0], 0.9, 46.0),  # h = 4 * 0.9 = 3.6 -> 40 + 0.6 * 10
    ([3.0, 1.0, 2.0], 0.5, 2.0),  # sorted first
])
def test_percentile_interpolates_linearly(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)
    assert percentile([], p) is None


def test_periods_as_people_type_them() -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    assert amount("7d") == timedelta(days=7) and amount("24h") == timedelta(hours=24)
    assert amount("2w") == timedelta(weeks=2) and amount("0d") is None and amount("soon") is None
    assert moment("7d", now, "UTC", what="--since") == now - timedelta(days=7)
    # A date is midnight in the desk's zone: Berlin is UTC+1 on 1 November.
    assert moment("2026-11-01", now, "Europe/Berlin", what="--since") == datetime(2026, 10, 31, 23,
                                                                                 tzinfo=timezone.utc)
    assert moment("2026-11-01T08:00+00:00", now, "Europe/Berlin", what="--since") == datetime(
        2026, 11, 1, 8, tzinfo=timezone.utc)
    with pytest.raises(BadPeriod, match="--until 'yesterday' is not understood; use 7d"):
        period("7d", "yesterday", now, "UTC")
    with pytest.raises(BadPeriod, match="must be before --until"):
        period("2026-11-03", "2026-11-02", now, "UTC")
