"""Catch-up under Mastodon's rate limit and across a crash: every mention once, the place kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from socialdesk.core.extensions import Actor
from socialdesk.plugins.mastodon.rate_budget import REPLY_RESERVE
from socialdesk.plugins.mastodon.runtime import runtime_for

from socialdesk.core.store.models import Message
from tests.mastodon_plugin.conftest import DANA, catch_up_once, notification_requests


async def stored(desk) -> list[str]:  # type: ignore[no-untyped-def]
    async with desk.database.sessions() as session:
        return list(await session.scalars(select(Message.external_id).where(Message.platform == "mastodon")))


def used_in_window(masto) -> int:  # type: ignore[no-untyped-def]
    return masto.limiter.limit - masto.limiter.standing(masto.brand["id"]).remaining


async def test_a_429_waits_for_the_reset_and_resumes_without_loss(make_masto_desk, masto, clock):
    desk = await make_masto_desk(page_size=5)
    await catch_up_once(desk)  # the first catch-up fixes the cursor
    posted = [masto.post_as(DANA, f"@acme question {n}")["id"] for n in range(12)]
    masto.limiter.limit = used_in_window(masto)  # the account's window is spent (another client, say)

    report = await catch_up_once(desk)
    assert report.new == 0 and report.stopped == "Mastodon answered 429"
    window_end = (clock().timestamp() // 300 + 1) * 300  # X-RateLimit-Reset; its Date header has whole seconds
    assert report.resume_at is not None and abs(report.resume_at.timestamp() - window_end) < 2
    asked = len(notification_requests(masto))
    again = await catch_up_once(desk)  # the budget knows the window is spent: no request at all
    assert again.stopped == "rate budget" and len(notification_requests(masto)) == asked

    clock.advance(minutes=5)  # the window resets
    masto.limiter.limit = 300
    last = await catch_up_once(desk)
    assert last.new == 12 and last.caught_up
    ids = await stored(desk)
    assert sorted(ids) == sorted(posted) and len(ids) == len(set(ids))


async def test_catch_up_leaves_the_end_of_a_window_to_replies(make_masto_desk, masto, clock):
    desk = await make_masto_desk(page_size=5)
    await catch_up_once(desk)
    question = masto.post_as(DANA, "@acme urgent: wrong address on my order")
    for n in range(11):
        masto.post_as("fox", f"@acme question {n}")
    masto.limiter.limit = used_in_window(masto) + REPLY_RESERVE + 1
    report = await catch_up_once(desk)
    assert report.stopped == "rate budget" and 0 < report.new < 12  # paused with requests still left...
    (ticket,) = [t for t in await desk.service.queue(platform="mastodon") if t.conversation_id == question["id"]]
    await desk.service.claim(ticket.id, Actor("U1"))
    await desk.service.reply(ticket.id, Actor("U1"), "Fixed, it ships to the new address.")
    await desk.outbox_runner().drain()
    assert len(masto.replies_by("acme")) == 1  # ...which an agent's reply may use


async def test_killed_between_fetching_and_committing_loses_and_duplicates_nothing(make_masto_desk, masto):
    desk = await make_masto_desk(page_size=5)
    await catch_up_once(desk)
    posted = [masto.post_as(DANA, f"@acme question {n}")["id"] for n in range(12)]
    ingest = desk.service.ingest_many
    calls: list[int] = []

    async def dies_on_the_second_page(mentions, cursor=None):  # type: ignore[no-untyped-def]
        calls.append(len(mentions))
        if len(calls) == 2:
            raise ConnectionError("the desk's database went away")
        return await ingest(mentions, cursor=cursor)

    desk.service.ingest_many = dies_on_the_second_page  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await runtime_for(desk).catch_up.poll()
    assert len(await stored(desk)) == 5

    restarted = await make_masto_desk(page_size=5)  # a new desk process on the same database
    report = await catch_up_once(restarted)
    assert report.caught_up and report.new == 7 and report.duplicates == 0
    ids = await stored(restarted)
    assert sorted(ids) == sorted(posted) and len(ids) == len(set(ids))
