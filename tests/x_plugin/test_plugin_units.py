"""The plugin's pure parts: cursor arithmetic, the rate budget, post mapping, URL rewriting, cost."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from yarl import URL

from socialdesk.plugins.x.cost import poll_cost, shortest_interval
from socialdesk.plugins.x.http import ApiSession
from socialdesk.plugins.x.mentions import to_mention
from socialdesk.plugins.x.rate_budget import MAX_BACKOFF_SECONDS, RateBudget
from socialdesk.plugins.x.reconcile import comparable
from socialdesk.plugins.x.snowflake import TWITTER_EPOCH_MS, minted_at
from socialdesk.plugins.x.timeline_cursor import OVERLAP_SECONDS, PageRun, Segment, TimelineCursor

NOW = 1_793_610_000.0
README = Path(__file__).parents[2] / "socialdesk" / "plugins" / "x" / "README.md"


# --- the cursor ---------------------------------------------------------------------------

def test_a_run_records_its_place_until_it_reaches_the_floor() -> None:
    start = TimelineCursor(since_id="100")
    assert start.segment(overlap_seconds=0) == Segment("100", None, None)
    page_one = start.after_page(["190", "180", "170"], more=True)
    assert page_one == TimelineCursor(since_id="100", run=PageRun("190", "170"))
    assert page_one.segment(overlap_seconds=0) == Segment("100", None, "170")
    page_two = page_one.after_page(["160", "150"], more=True)
    assert page_two.run == PageRun("190", "150")
    assert page_two.after_page([], more=True) == page_two  # an empty page with a token moves nothing
    assert page_two.after_page(["120"], more=False) == TimelineCursor(since_id="190")


def test_nothing_new_changes_nothing_and_the_first_floor_is_a_time() -> None:
    floor = TimelineCursor(start_time=datetime(2026, 11, 2, 8, tzinfo=timezone.utc))
    assert floor.after_page([], more=False) == floor
    assert floor.segment() == Segment(None, floor.start_time, None)  # no overlap below a time floor
    assert floor.after_page(["5"], more=False) == TimelineCursor(since_id="5")


def test_requests_reach_a_little_below_the_floor_for_late_posts() -> None:
    floor = str(((1_790_000_000_000 - TWITTER_EPOCH_MS) << 22) | 4096 | 7)  # minted at 1_790_000_000 s
    cursor = TimelineCursor(since_id=floor)
    asked = cursor.segment().since_id
    assert asked is not None and minted_at(asked).timestamp() == 1_790_000_000 - OVERLAP_SECONDS
    late = str(int(floor) - 5)  # indexed late: below the floor, inside the overlap
    assert cursor.after_page([floor, late], more=False) == cursor  # re-read posts never move the floor back
    assert cursor.after_page([late], more=False) == cursor
    newer = str(int(floor) + (1 << 22))
    assert cursor.after_page([newer, floor, late], more=False) == TimelineCursor(since_id=newer)


def test_cursor_round_trips_through_its_stored_form() -> None:
    cursor = TimelineCursor(since_id="1", start_time=datetime(2026, 11, 2, tzinfo=timezone.utc),
                            run=PageRun("9", "4"))
    assert TimelineCursor.loads(cursor.dumps()) == cursor
    assert TimelineCursor.loads(None) is None


def test_search_never_asks_for_more_than_seven_days() -> None:
    old = TimelineCursor(start_time=datetime(2026, 10, 1, tzinfo=timezone.utc))
    earliest = datetime(2026, 10, 26, tzinfo=timezone.utc)
    assert old.with_start_time_at_least(earliest).start_time == earliest
    assert TimelineCursor(since_id="7").with_start_time_at_least(earliest).since_id == "7"


# --- the rate budget ------------------------------------------------------------------------

def headers(remaining: int, reset_in: float, limit: int = 450) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(NOW + reset_in))}


def test_surplus_is_spent_at_once_and_a_tight_window_is_spread() -> None:
    budget = RateBudget("mentions", pace_seconds=60)
    budget.observe(headers(remaining=400, reset_in=900), NOW)
    assert budget.wait_seconds(NOW) == 0  # 15 polls to come, 400 left: catch up freely
    budget.observe(headers(remaining=10, reset_in=900), NOW)
    assert budget.wait_seconds(NOW) == pytest.approx(90)  # 10 left for 900 s: one every 90 s
    budget.observe(headers(remaining=0, reset_in=300), NOW)
    assert budget.wait_seconds(NOW) == pytest.approx(300)
    assert budget.wait_seconds(NOW + 301) == 0


def test_a_429_waits_for_xs_reset_and_posting_for_its_daily_cap() -> None:
    budget = RateBudget("create_tweet", pace_seconds=None)
    assert budget.rate_limited(headers(remaining=0, reset_in=120), NOW) == NOW + 120
    daily = {**headers(remaining=0, reset_in=120), "x-user-limit-24hour-remaining": "0",
             "x-user-limit-24hour-reset": str(int(NOW + 7200))}
    assert budget.rate_limited(daily, NOW) == NOW + 7200
    budget.observe(headers(remaining=5, reset_in=900), NOW)
    assert budget.wait_seconds(NOW) == 0  # no pacing for posting


def test_failures_without_news_back_off_exponentially_up_to_a_window() -> None:
    budget = RateBudget("mentions", pace_seconds=60)
    waits = [budget.failed(NOW) - NOW for _ in range(6)]
    assert waits == [60, 120, 240, 480, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS]
    assert budget.rate_limited({}, NOW) - NOW == MAX_BACKOFF_SECONDS  # a 429 without a reset: back off too
    budget.observe(headers(remaining=100, reset_in=900), NOW)
    assert budget.failures == 0 and budget.wait_seconds(NOW) == 0


# --- posts -> mentions -----------------------------------------------------------------------

POST = {
    "id": "1850000000000000001", "author_id": "42", "conversation_id": "1850000000000000000",
    "created_at": "2026-11-02T09:00:00.000Z", "text": "@acme 1 &lt; 2 &amp; see https://t.co/abc",
    "entities": {"urls": [{"url": "https://t.co/abc", "expanded_url": "https://shop.example/order/7"}]},
    "referenced_tweets": [{"type": "replied_to", "id": "1850000000000000000"},
                          {"type": "quoted", "id": "1849999999999999999"}],
}
USERS = {"42": {"id": "42", "username": "dana", "name": "Dana", "verified": False,
                "public_metrics": {"followers_count": 7}}}


def test_a_post_becomes_a_mention_as_written() -> None:
    m = to_mention(POST, USERS)
    assert m is not None
    assert m.text == "@acme 1 < 2 & see https://shop.example/order/7"
    assert (m.conversation_id, m.in_reply_to_id) == ("1850000000000000000", "1850000000000000000")
    assert m.url == "https://x.com/dana/status/1850000000000000001"
    assert (m.author.handle, m.author.display_name, m.author.followers) == ("dana", "Dana", 7)
    assert m.attachments == ("quotes https://x.com/i/web/status/1849999999999999999",)


def test_long_posts_unknown_authors_and_unreadable_posts() -> None:
    long = {**POST, "note_tweet": {"text": "the whole long text", "entities": {}}, "created_at": None}
    m = to_mention(long, {})
    assert m is not None and m.text == "the whole long text"
    assert m.author.handle == "42" and m.url == "https://x.com/i/web/status/1850000000000000001"
    assert m.created_at.year >= 2024  # from the snowflake id when created_at is missing
    assert to_mention({"id": "1", "text": "no author"}, {}) is None


# --- the base URL seam -------------------------------------------------------------------------

async def test_requests_are_rewritten_only_when_the_base_is_not_xs() -> None:
    signed = URL("https://api.twitter.com/2/tweets?a=1%3A2", encoded=True)
    default = ApiSession("https://api.twitter.com", 30)
    sandbox = ApiSession("http://127.0.0.1:8123", 30)
    proxy = ApiSession("https://proxy.corp.example/x-api/", 30)
    try:
        assert default.redirect(signed) is signed
        assert str(sandbox.redirect(signed)) == "http://127.0.0.1:8123/2/tweets?a=1%3A2"
        assert str(proxy.redirect("https://api.twitter.com/2/users/me")) == "https://proxy.corp.example/x-api/2/users/me"
        assert str(proxy.redirect(signed)) == "https://proxy.corp.example/x-api/2/tweets?a=1%3A2"
    finally:
        for session in (default, sandbox, proxy):
            await session.close()


# --- reconcile's text comparison -----------------------------------------------------------------

def test_reply_texts_compare_as_x_stores_them() -> None:
    ours = "Fixed: see https://status.acme.com/42 & retry"
    stored = "@dana Fixed: see https://t.co/AbC123 &amp; retry"
    assert comparable(ours) == comparable(stored)
    assert comparable("Fixed") != comparable("Fixed!")


# --- cost -----------------------------------------------------------------------------------------

def test_what_an_interval_costs() -> None:
    assert (poll_cost(60).per_window, poll_cost(60).per_day, poll_cost(60).per_month) == (15, 1440, 43_200)
    assert poll_cost(15, timelines=2).per_day == 11_520
    assert shortest_interval(15) == 60 and shortest_interval(450) == 2


def test_the_readme_cost_table_is_the_modules_arithmetic() -> None:
    rows = re.findall(r"^\| (\d+) s \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", README.read_text(), re.M)
    assert len(rows) >= 5
    for interval, window, day, month, month_with_search in rows:
        cost, both = poll_cost(int(interval)), poll_cost(int(interval), timelines=2)
        assert [window, day, month, month_with_search] == [
            f"{cost.per_window:,}", f"{cost.per_day:,}", f"{cost.per_month:,}", f"{both.per_month:,}"]
