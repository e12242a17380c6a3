"""Downtime, paging, 429s, crashes and sessions: every mention exactly once, logins kept rare."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select

from socialdesk.core.store.models import Message
from socialdesk.plugins.bluesky.notification_cursor import NotificationCursor
from socialdesk.plugins.bluesky.poller import CURSOR_KEY
from socialdesk.plugins.bluesky.runtime import runtime_for
from socialdesk.sandbox.bluesky import Limit, RateLimits, SessionSettings
from tests.bluesky_plugin.conftest import BRAND, DANA, FOX, calls, poll

LIST = "app.bsky.notification.listNotifications"


async def stored_uris(app) -> list[str]:  # type: ignore[no-untyped-def]
    async with app.database.sessions() as session:
        return list((await session.scalars(select(Message.external_id).where(Message.platform == "bluesky"))).all())


async def cursor_of(app, bsky) -> NotificationCursor | None:  # type: ignore[no-untyped-def]
    return NotificationCursor.loads(await app.cursors.get("bluesky", CURSOR_KEY.format(did=bsky.brand_did)))


def post_mentions(bsky, clock, count: int, start: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    uris = []
    for n in range(start, start + count):
        clock.advance(seconds=7)
        uris.append(bsky.post_as(DANA if n % 2 else FOX, f"@{BRAND} question {n}")["uri"])
    return uris


def assert_each_once(uris: list[str], expected: list[str]) -> None:
    assert sorted(uris) == sorted(expected)
    assert not [u for u, n in Counter(uris).items() if n > 1]


async def test_fifty_mentions_while_the_desk_was_stopped_arrive_once_after_restart(make_bsky_desk, bsky, clock):
    desk = await make_bsky_desk(page_size=10)
    assert (await poll(desk)).caught_up  # the floor is set; then the desk stops
    posted = post_mentions(bsky, clock, 50)

    restarted = await make_bsky_desk(page_size=10)
    report = await poll(restarted)
    assert (report.new, report.duplicates, report.caught_up) == (50, 0, True)
    assert_each_once(await stored_uris(restarted), posted)
    assert len(await restarted.service.queue(platform="bluesky")) == 50  # one card each: separate threads
    newest = datetime.fromisoformat(bsky.post(posted[-1])["indexedAt"].replace("Z", "+00:00"))
    assert await cursor_of(restarted, bsky) == NotificationCursor(floor=newest)
    # updateSeen after the commit, with the newest notification's time
    (seen,) = calls(bsky, "app.bsky.notification.updateSeen")
    assert seen["body"] == {"seenAt": bsky.post(posted[-1])["indexedAt"]}
    assert bsky.network.by_handle(BRAND).seen_at == bsky.post(posted[-1])["indexedAt"]

    again = await poll(restarted)  # nothing new: one page, nothing stored, no updateSeen
    assert (again.pages, again.new) == (1, 0) and len(calls(bsky, "app.bsky.notification.updateSeen")) == 1


async def test_killed_between_fetching_and_committing_loses_and_duplicates_nothing(make_bsky_desk, bsky, clock):
    desk = await make_bsky_desk(page_size=10)
    await poll(desk)
    posted = post_mentions(bsky, clock, 25)
    ingest = desk.service.ingest_many
    pages: list[int] = []

    async def dies_on_the_second_page(mentions, cursor=None):  # type: ignore[no-untyped-def]
        pages.append(len(mentions))
        if len(pages) == 2:
            raise ConnectionError("the desk's database went away")  # page two is never committed
        return await ingest(mentions, cursor=cursor)

    desk.service.ingest_many = dies_on_the_second_page  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await runtime_for(desk).poller.poll()
    assert len(await stored_uris(desk)) == 10
    run = (await cursor_of(desk, bsky)).run
    assert run is not None  # the first page's run is committed with it
    assert calls(bsky, "app.bsky.notification.updateSeen") == []  # nothing marked seen before the commit

    restarted = await make_bsky_desk(page_size=10)
    report = await poll(restarted)
    assert report.caught_up and report.new == 15 and report.duplicates == 0
    assert calls(bsky, LIST)[-report.pages]["query"]["cursor"] == run.page  # resumed where it stopped
    assert_each_once(await stored_uris(restarted), posted)


async def test_an_exhausted_window_stops_paging_before_a_429_and_resumes_after_the_reset(make_bsky_desk, bsky, clock):
    desk = await make_bsky_desk(page_size=10)
    await poll(desk)
    posted = post_mentions(bsky, clock, 30)
    bsky.rate_limits = RateLimits(global_ip=Limit(2, 300))  # 2 requests per 5 minutes from the desk's address
    bsky.reset_rate_limits()
    report = await poll(desk)
    # RateLimit-Remaining said 0 after the second page: the desk stopped instead of asking for a 429
    assert (report.stopped, report.new) == ("rate budget", 20)
    assert [r["status"] for r in calls(bsky, LIST)][-2:] == [200, 200]
    clock.advance(seconds=301)
    bsky.rate_limits = RateLimits()
    report = await poll(desk)
    assert report.caught_up and report.new == 10 and report.duplicates == 0
    assert_each_once(await stored_uris(desk), posted)


async def test_a_429_waits_for_the_reset_the_pds_names(make_bsky_desk, bsky, clock):
    desk = await make_bsky_desk(page_size=10)
    await poll(desk)
    posted = post_mentions(bsky, clock, 5)
    bsky.faults.set(rate_limited=1.0, retry_after_seconds=200, only_paths=(f"/xrpc/{LIST}",))
    report = await poll(desk)
    assert report.stopped == "rate limited (429)" and report.new == 0
    bsky.faults.clear()
    requests = len(calls(bsky, LIST))
    assert (await poll(desk)).stopped == "rate budget" and len(calls(bsky, LIST)) == requests
    clock.advance(seconds=202)
    report = await poll(desk)
    assert report.caught_up and report.new == 5
    assert_each_once(await stored_uris(desk), posted)


async def test_the_desk_logs_in_once_and_lets_atproto_refresh_the_session(make_bsky_desk, bsky, clock):
    bsky.sessions.settings = SessionSettings(access_lifetime_seconds=60)  # refreshed before every call
    desk = await make_bsky_desk()
    for n in range(4):
        bsky.post_as(DANA, f"@{BRAND} ping {n}")
        clock.advance(seconds=30)
        await poll(desk)
    assert bsky.logins == 1 and bsky.refreshes >= 4
    assert len(await stored_uris(desk)) == 4


async def test_a_session_the_server_dropped_costs_one_new_login(desk, bsky):
    await poll(desk)
    bsky.expire_sessions()
    bsky.post_as(DANA, f"@{BRAND} are you there?")
    report = await poll(desk)
    assert report.new == 1 and bsky.logins == 2
    await poll(desk)
    assert bsky.logins == 2


async def test_a_wrong_app_password_stops_polling_without_a_login_storm(make_bsky_desk, bsky, clock, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "aaaa-bbbb-cccc-dddd")
    desk = await make_bsky_desk()
    report = await poll(desk)
    assert report.stopped == "credentials refused"
    for _ in range(5):
        assert (await poll(desk)).stopped in ("login deferred", "rate budget")
    assert len(calls(bsky, "com.atproto.server.createSession")) == 1
    clock.advance(seconds=61)
    await poll(desk)
    assert len(calls(bsky, "com.atproto.server.createSession")) == 2
