"""Answers appear once in the topic, under the customer's post, within the site's limits."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import ReplyStatus
from tests.discourse_plugin.conftest import AGENT, backfill, tickets
from tests.store_queries import Reply, count


async def claimed(desk, forum):  # type: ignore[no-untyped-def]
    await backfill(desk)
    topic, _ = await forum.create_topic("dana", "Parcel late", "My order 1042 never arrived")
    latest = await forum.create_post("dana", topic.id, "It was due on Monday")
    (ticket,) = await tickets(desk)
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id, topic, latest


def created_posts(forum) -> list[dict]:  # type: ignore[no-untyped-def]
    return forum.recorder.of("discourse", method="POST", path="/posts.json")


async def test_an_answer_appears_once_under_the_customers_latest_post(desk, forum):
    ticket_id, topic, latest = await claimed(desk, forum)
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry Dana, it ships today with express delivery.")
    for _ in range(3):
        await desk.outbox_runner().drain()
    (ours,) = forum.posts_by("acme_support")
    assert ours.topic_id == topic.id and ours.reply_to_post_number == latest.post_number
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == str(ours.id)
    assert stored.platform_url == f"{forum.base_url}/t/parcel-late/{topic.id}/{ours.post_number}"
    assert len(created_posts(forum)) == 1
    # Discourse sent a post_created webhook for our own answer: it is not a mention.
    assert [m.direction for m in await desk.service.messages_of(ticket_id)] == ["inbound", "inbound", "outbound"]


async def test_too_long_or_too_short_is_refused_before_anything_is_sent(make_discourse_desk, forum):
    desk = await make_discourse_desk(max_post_length=200)
    ticket_id, _, _ = await claimed(desk, forum)
    with pytest.raises(ReplyRejected, match="200 characters at most on Discourse, this reply has 201"):
        await desk.service.reply(ticket_id, AGENT, "x" * 201)
    with pytest.raises(ReplyRejected, match="20 characters at least on Discourse"):
        await desk.service.reply(ticket_id, AGENT, "ok")
    await desk.outbox_runner().drain()
    assert created_posts(forum) == [] and await count(desk, Reply) == 0


async def test_the_sites_own_refusal_shows_and_the_ticket_stays_open(make_discourse_desk, forum):
    desk = await make_discourse_desk(max_post_length=40_000)  # the desk believes more than the site allows
    ticket_id, _, _ = await claimed(desk, forum)
    reply = await desk.service.reply(ticket_id, AGENT, "y" * 33_000)
    await desk.outbox_runner().drain()
    failed = await desk.service.get_reply(reply.id)
    assert failed.status == ReplyStatus.FAILED and "Body is limited to 32000 characters" in failed.error
    assert forum.posts_by("acme_support") == []
    assert (await desk.service.get_ticket(ticket_id)).status in ("open", "claimed", "pending")


async def test_429_is_honoured_and_the_answer_goes_once_later(desk, forum, clock):
    ticket_id, _, _ = await claimed(desk, forum)
    reply = await desk.service.reply(ticket_id, AGENT, "We are on it, give us an hour please.")
    forum.faults.set(rate_limited=1.0, retry_after_seconds=30, only_paths=("/posts.json",))
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    forum.faults.clear()
    await desk.outbox_runner().drain()  # Discourse said 30 s: not before
    assert forum.posts_by("acme_support") == []
    clock.advance(seconds=31)
    await desk.outbox_runner().drain()
    assert len(forum.posts_by("acme_support")) == 1
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT


async def test_a_lost_answer_is_found_in_the_topic_not_sent_again(make_discourse_desk, forum):
    desk = await make_discourse_desk()
    ticket_id, _, _ = await claimed(desk, forum)
    reply = await desk.service.reply(ticket_id, AGENT, "Refund issued, sorry for the trouble.")
    forum.loser.arm("/posts.json", method="POST")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    await desk.outbox_runner().drain()
    restarted = await make_discourse_desk()
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    (ours,) = forum.posts_by("acme_support")
    assert (await restarted.service.get_reply(reply.id)).platform_id == str(ours.id)


async def test_killed_between_send_and_record_the_answer_appears_once(make_discourse_desk, forum, clock):
    first = await make_discourse_desk()
    ticket_id, _, _ = await claimed(first, forum)
    reply = await first.service.reply(ticket_id, AGENT, "Refund issued, sorry for the trouble.")
    runner = first.outbox_runner("doomed")
    (job, _token), = [t for t in await runner.take() if t[0].kind == JobKind.SEND_REPLY]
    request = await first.service.begin_sending(reply.id)
    assert not isinstance(request, str)
    await first.hooks.send_reply(request)  # posted; the process dies before recording it
    clock.advance(seconds=first.config.desk.outbox.lease_seconds + 1)
    restarted = await make_discourse_desk()
    await restarted.outbox_runner("survivor").drain()
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    await restarted.outbox_runner().drain()
    assert len(forum.posts_by("acme_support")) == 1
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.SENT
