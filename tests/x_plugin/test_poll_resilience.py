"""Paging, 429s and crashes: every mention exactly once, whatever stops a poll halfway."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from socialdesk.core.store.models import Message
from socialdesk.plugins.x.poller import MAX_PAGES_PER_POLL
from socialdesk.plugins.x.runtime import runtime_for
from socialdesk.plugins.x.timeline_cursor import PageRun, TimelineCursor
from socialdesk.sandbox.x import RateLimits
from tests.test_metrics import sample
from tests.x_plugin.conftest import MENTIONS_JOB, brand_id, mention_requests, poll, spend_app_quota


async def stored_ids(app) -> list[str]:  # type: ignore[no-untyped-def]
    async with app.database.sessions() as session:
        return list((await session.scalars(select(Message.external_id).where(Message.platform == "x"))).all())


async def cursor_of(app, x) -> TimelineCursor | None:  # type: ignore[no-untyped-def]
    return TimelineCursor.loads(await app.cursors.get("x", f"mentions:{brand_id(x)}"))


def api_failures(app, kind: str) -> tuple[float | None, float | None]:  # type: ignore[no-untyped-def]
    """(X API failures of ``kind``, X 429s) as /metrics reports them."""
    return (sample(app, "socialdesk_platform_api_errors_total", platform="x", kind=kind),
            sample(app, "socialdesk_platform_rate_limited_total", platform="x"))


def post_mentions(x, count: int, start: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    return [x.post_as("dana" if n % 2 else "fox", f"@acme question {n}")["id"] for n in range(start, start + count)]


def assert_each_once(ids: list[str], expected: list[str]) -> None:
    assert sorted(ids, key=int) == sorted(expected, key=int)
    assert not [i for i, n in Counter(ids).items() if n > 1]


async def test_pages_until_caught_up(make_x_desk, x):
    desk = await make_x_desk(max_results=10)
    posted = post_mentions(x, 25)
    report = await poll(desk)
    assert (report.pages, report.new, report.caught_up) == (3, 25, True)
    assert_each_once(await stored_ids(desk), posted)
    assert await cursor_of(desk, x) == TimelineCursor(since_id=posted[-1])
    requests = mention_requests(x)
    assert "pagination_token" not in requests[0]["query"]
    assert requests[1]["query"]["pagination_token"] and requests[2]["query"]["pagination_token"]


async def test_a_429_mid_pagination_resumes_without_loss_or_duplicates(make_x_desk, x, clock, x_secrets):
    x.rate_limits = RateLimits().with_limit("mentions", app=40)  # 900 s windows
    desk = await make_x_desk(max_results=10)
    first_batch = post_mentions(x, 25)

    # Another tool on the same app spends the window right after the desk's first page.
    ingest = desk.service.ingest_many
    spent: list[int] = []

    async def ingest_then_someone_spends(mentions, cursor=None):  # type: ignore[no-untyped-def]
        results = await ingest(mentions, cursor=cursor)
        if mentions and not spent:
            spent.append(await spend_app_quota(x, x_secrets["bearer"]))
        return results

    desk.service.ingest_many = ingest_then_someone_spends  # type: ignore[method-assign]
    report = await poll(desk)
    assert report.stopped == "rate limited (429)" and report.new == 10
    assert api_failures(desk, "transient") == (1.0, 1.0)
    assert report.resume_at is not None and report.resume_at.timestamp() == pytest.approx(clock().timestamp() + 900, abs=1)
    page_one = sorted(first_batch, key=int)[-10:]
    assert await cursor_of(desk, x) == TimelineCursor(
        since_id=None, start_time=(await cursor_of(desk, x)).start_time, run=PageRun(first_batch[-1], page_one[0]))

    # Before the reset nothing is asked: the desk keeps its place instead of hammering X.
    clock.advance(seconds=300)
    asked = len(mention_requests(x))
    assert (await poll(desk)).stopped == "rate budget" and len(mention_requests(x)) == asked

    second_batch = post_mentions(x, 3, start=100)  # arrive while the desk waits
    clock.advance(seconds=601)
    resumed = await poll(desk)
    assert resumed.caught_up and resumed.new == 15
    resume_request = mention_requests(x)[asked]
    assert resume_request["query"]["until_id"] == page_one[0]  # from the stored place, not from the top
    assert await cursor_of(desk, x) == TimelineCursor(since_id=first_batch[-1])

    assert (await poll(desk)).new == 3
    assert_each_once(await stored_ids(desk), first_batch + second_batch)


async def test_a_tight_window_is_spread_over_its_length(make_x_desk, x, clock):
    x.rate_limits = RateLimits(window_seconds=60).with_limit("mentions", app=2)
    desk = await make_x_desk(poll_interval=15)
    x.post_as("dana", "@acme hi")
    await poll(desk)  # one request left for 60 s: the next one waits ~60 s, not 15 s
    budget = runtime_for(desk).budgets["mentions"]
    assert budget.remaining == 1 and budget.wait_seconds(clock().timestamp()) == pytest.approx(60, abs=1)
    for _ in range(3):
        clock.advance(seconds=15)
        assert (await poll(desk)).stopped == "rate budget"
    assert len(mention_requests(x)) == 1
    clock.advance(seconds=16)
    later = x.post_as("fox", "@acme hello?")
    assert (await poll(desk)).new == 1
    assert not [r for r in x.recorder.of("x") if r["status"] == 429]  # spread, never refused
    assert later["id"] in await stored_ids(desk)


async def test_server_errors_back_off_and_keep_the_place(make_x_desk, x, clock):
    desk = await make_x_desk(max_results=10, poll_interval=30)
    posted = post_mentions(x, 12)
    x.faults.set(server_error=1.0, only_paths=("/2/users/",))
    report = await poll(desk)
    assert report.stopped.startswith("X answered 500") and report.new == 0
    clock.advance(seconds=30)
    assert (await poll(desk)).stopped.startswith("X answered 500")
    clock.advance(seconds=30)  # the second failure doubled the wait: 60 s
    assert (await poll(desk)).stopped == "rate budget"
    assert api_failures(desk, "transient") == (2.0, None)  # counted, and not as rate limits
    x.faults.clear()
    clock.advance(seconds=31)
    assert (await poll(desk)).new == 12
    assert_each_once(await stored_ids(desk), posted)


async def test_killed_between_fetching_and_committing_loses_and_duplicates_nothing(make_x_desk, x):
    desk = await make_x_desk(max_results=10)
    posted = post_mentions(x, 25)
    ingest = desk.service.ingest_many
    calls: list[int] = []

    async def dies_on_the_second_page(mentions, cursor=None):  # type: ignore[no-untyped-def]
        calls.append(len(mentions))
        if len(calls) == 3:  # [] for the first-poll floor, page one, then page two is fetched...
            raise ConnectionError("the desk's database went away")  # ...and never committed
        return await ingest(mentions, cursor=cursor)

    desk.service.ingest_many = dies_on_the_second_page  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await runtime_for(desk).poller(MENTIONS_JOB).poll()
    assert len(await stored_ids(desk)) == 10
    fetched_before = len(mention_requests(x))
    assert fetched_before == 2

    restarted = await make_x_desk(max_results=10)  # a new desk process on the same database
    report = await poll(restarted)
    assert report.caught_up and report.new == 15 and report.duplicates == 0
    assert mention_requests(x)[fetched_before]["query"]["until_id"] == min(sorted(posted, key=int)[-10:], key=int)
    assert_each_once(await stored_ids(restarted), posted)
    assert await cursor_of(restarted, x) == TimelineCursor(since_id=posted[-1])


async def test_cancelled_while_committing_loses_and_duplicates_nothing(make_x_desk, x):
    desk = await make_x_desk(max_results=10)
    posted = post_mentions(x, 15)
    ingest = desk.service.ingest_many
    committing = asyncio.Event()
    never = asyncio.Event()

    async def hangs_on_the_first_page(mentions, cursor=None):  # type: ignore[no-untyped-def]
        if mentions:
            committing.set()
            await never.wait()  # the shutdown arrives here, mid-commit
        return await ingest(mentions, cursor=cursor)

    desk.service.ingest_many = hangs_on_the_first_page  # type: ignore[method-assign]
    task = asyncio.create_task(runtime_for(desk).poller(MENTIONS_JOB).poll())
    await asyncio.wait_for(committing.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    assert await stored_ids(desk) == []

    restarted = await make_x_desk(max_results=10)
    assert (await poll(restarted)).new == 15
    assert_each_once(await stored_ids(restarted), posted)


async def test_a_deep_backlog_continues_at_the_next_poll(make_x_desk, x):
    desk = await make_x_desk(max_results=10)
    posted = post_mentions(x, 10 * MAX_PAGES_PER_POLL + 5)
    first = await poll(desk)
    assert first.stopped == "page limit per poll" and first.new == 10 * MAX_PAGES_PER_POLL
    second = await poll(desk)
    assert second.caught_up and second.new == 5
    assert_each_once(await stored_ids(desk), posted)
