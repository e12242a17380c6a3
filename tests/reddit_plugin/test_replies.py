"""Answers appear once as comments under the right parent, within Reddit's rules."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import ReplyStatus
from tests.reddit_plugin.conftest import AGENT, poll_all
from tests.store_queries import Reply, count


async def claimed(desk, reddit):  # type: ignore[no-untyped-def]
    await poll_all(desk)
    post = reddit.submit("dana", "acme", "acme order missing", "Two weeks late")
    reddit.site.clock = lambda base=reddit.site.clock: base() + 30  # the comment comes half a minute later
    latest = reddit.comment("dana", post, "Order number is 1042, acme please help")
    reddit.site.clock = reddit.clock
    await poll_all(desk)
    (ticket,) = await desk.service.queue(platform="reddit")
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id, post, latest


def comment_posts(reddit) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in reddit.recorder.of("reddit", method="POST") if r["path"].startswith("/api/comment")]


async def test_an_answer_is_one_comment_under_the_customers_latest_comment(desk, reddit):
    ticket_id, post, latest = await claimed(desk, reddit)
    reply = await desk.service.reply(ticket_id, AGENT, "**Sorry!** It ships today, tracking in your DMs.")
    for _ in range(3):
        await desk.outbox_runner().drain()
    (ours,) = reddit.comments_by("acme_support")
    assert ours.parent_id == latest.name and ours.link_id == post.name
    assert ours.body == "**Sorry!** It ships today, tracking in your DMs."
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == ours.name
    assert stored.platform_url == f"{reddit.base_url}{reddit.site.permalink(ours)}"
    assert len(comment_posts(reddit)) == 1


async def test_too_long_is_refused_before_anything_is_sent(desk, reddit):
    ticket_id, _, _ = await claimed(desk, reddit)
    with pytest.raises(ReplyRejected, match="10000 characters at most on Reddit, this reply has 10001"):
        await desk.service.reply(ticket_id, AGENT, "x" * 10_001)
    await desk.outbox_runner().drain()
    assert comment_posts(reddit) == [] and await count(desk, Reply) == 0


async def test_reddits_ratelimit_answer_is_waited_out_and_a_lock_shows_on_the_card(desk, reddit, clock):
    ticket_id, post, _ = await claimed(desk, reddit)
    reddit.api.action_wait_minutes = 3
    reply = await desk.service.reply(ticket_id, AGENT, "Looking into it now.")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    clock.advance(minutes=2)
    await desk.outbox_runner().drain()
    assert reddit.comments_by("acme_support") == []  # Reddit said 3 minutes
    clock.advance(minutes=2)
    await desk.outbox_runner().drain()
    assert len(reddit.comments_by("acme_support")) == 1

    post.locked = True
    second = await desk.service.reply(ticket_id, AGENT, "One more thing.")
    await desk.outbox_runner().drain()
    failed = await desk.service.get_reply(second.id)
    assert failed.status == ReplyStatus.FAILED and "THREAD_LOCKED" in failed.error
    assert len(reddit.comments_by("acme_support")) == 1


async def test_a_lost_answer_is_found_under_the_parent_not_sent_again(make_reddit_desk, reddit):
    desk = await make_reddit_desk()
    ticket_id, _, latest = await claimed(desk, reddit)
    reply = await desk.service.reply(ticket_id, AGENT, "Refund issued, sorry for the trouble.")
    reddit.loser.arm("/api/comment")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    await desk.outbox_runner().drain()
    assert len(comment_posts(reddit)) == 1
    restarted = await make_reddit_desk()
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    (ours,) = reddit.comments_by("acme_support")
    assert ours.parent_id == latest.name
    assert (await restarted.service.get_reply(reply.id)).platform_id == ours.name


async def test_a_server_error_after_posting_is_not_posted_twice(desk, reddit, clock):
    ticket_id, _, _ = await claimed(desk, reddit)
    reply = await desk.service.reply(ticket_id, AGENT, "We refunded you today.")
    reddit.faults.set(server_error=1.0, only_paths=("/api/comment",))
    await desk.outbox_runner().drain()  # nothing posted: searched, not found, retried later
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    reddit.faults.clear()
    clock.advance(minutes=10)
    await desk.outbox_runner().drain()
    assert len(reddit.comments_by("acme_support")) == 1
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT


async def test_killed_between_send_and_record_the_comment_appears_once(make_reddit_desk, reddit, clock):
    first = await make_reddit_desk()
    ticket_id, _, _ = await claimed(first, reddit)
    reply = await first.service.reply(ticket_id, AGENT, "Refund issued, sorry for the trouble.")
    runner = first.outbox_runner("doomed")
    (job, _token), = [t for t in await runner.take() if t[0].kind == JobKind.SEND_REPLY]
    request = await first.service.begin_sending(reply.id)
    assert not isinstance(request, str)
    await first.hooks.send_reply(request)  # posted; the process dies before recording it
    clock.advance(seconds=first.config.desk.outbox.lease_seconds + 1)
    restarted = await make_reddit_desk()
    await restarted.outbox_runner("survivor").drain()
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    await restarted.outbox_runner().drain()
    assert len(reddit.comments_by("acme_support")) == 1
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.SENT
