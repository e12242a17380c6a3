"""Answers from the desk appear on X exactly once, in the customer's conversation."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.platform import PermanentPlatformError, ReplyRequest
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from socialdesk.plugins.x.replies import send_reply
from socialdesk.plugins.x.runtime import runtime_for
from socialdesk.plugins.x.weighted_length import weighted_length
from socialdesk.sandbox.x import RateLimits
from tests.store_queries import Reply, count
from tests.x_plugin.conftest import poll, posts_sent

AGENT = Actor("U1")


async def ticket_for(desk, x, text: str = "@acme my order never arrived", author: str = "dana") -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    post = x.post_as(author, text)
    await poll(desk)
    (ticket,) = [t for t in await desk.service.queue(platform="x") if t.conversation_id == post["conversation_id"]]
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id, post


async def test_a_reply_appears_once_in_the_customers_conversation(desk, x):
    ticket_id, question = await ticket_for(desk, x)
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry about that! Could you DM us the order number?")
    for _ in range(3):
        await desk.outbox_runner().drain()

    (posted,) = x.replies_by("acme")
    assert posted["referenced_tweets"] == [{"type": "replied_to", "id": question["id"]}]
    assert posted["conversation_id"] == question["conversation_id"]
    assert posted["text"] == "Sorry about that! Could you DM us the order number?"
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == posted["id"]
    assert stored.platform_url == f"https://x.com/acme/status/{posted['id']}"
    assert len(posts_sent(x)) == 1
    assert (await desk.service.get_ticket(ticket_id)).status == TicketStatus.WAITING


async def test_a_reply_answers_the_latest_post_of_the_conversation(desk, x, clock):
    ticket_id, question = await ticket_for(desk, x)
    ours = x.post_as("acme", "@dana which order?", in_reply_to=question["id"])
    clock.advance(seconds=30)
    latest = x.post_as("dana", "@acme the blue one", in_reply_to=ours["id"])
    await poll(desk)
    await desk.service.reply(ticket_id, AGENT, "Found it, it ships today.")
    await desk.outbox_runner().drain()
    (sent,) = [p for p in x.replies_by("acme") if p["id"] != ours["id"]]
    assert sent["referenced_tweets"] == [{"type": "replied_to", "id": latest["id"]}]
    assert sent["conversation_id"] == question["conversation_id"]


async def test_too_long_is_refused_with_xs_count_before_any_request(desk, x):
    ticket_id, _ = await ticket_for(desk, x)
    # 5 links (23 each, whatever their length) + 5 spaces + 80 kana (2 each) = 280: allowed,
    # although it is 295 characters long.
    links = "https://example.com/orders/status/tracking " * 5
    exactly = links + "お" * 80
    assert len(exactly) == 295 and weighted_length(exactly) == 280
    with pytest.raises(ReplyRejected, match="280 weighted characters at most on X, this reply has 281"):
        await desk.service.reply(ticket_id, AGENT, exactly + "!")
    cjk = "您好" * 71  # only 142 characters, but 284 weighted
    with pytest.raises(ReplyRejected, match="this reply has 284"):
        await desk.service.reply(ticket_id, AGENT, cjk)
    await desk.outbox_runner().drain()
    assert posts_sent(x) == [] and await count(desk, Reply) == 0

    # The same text within the weighted limit goes out, long links and all.
    await desk.service.reply(ticket_id, AGENT, exactly)
    await desk.outbox_runner().drain()
    (posted,) = x.replies_by("acme")
    assert posted["text"].count("https://t.co/") == 5


async def test_the_plugin_refuses_too_long_text_itself_without_a_request(desk, x):
    _, question = await ticket_for(desk, x)
    request = ReplyRequest(reply_id=1, ticket_id=1, platform="x", conversation_id=question["conversation_id"],
                           in_reply_to_id=question["id"], text="a" * 281, agent="U1")
    with pytest.raises(PermanentPlatformError, match="this reply has 281"):
        await send_reply(runtime_for(desk), request)
    assert posts_sent(x) == []


async def test_limits_are_the_weighted_ones(desk):
    limits = await desk.hooks.reply_limits("x")
    assert (limits.max_length, limits.unit) == (280, "weighted characters")


async def test_a_lost_answer_makes_the_reply_uncertain_and_reconcile_finds_it(make_x_desk, x):
    desk = await make_x_desk()
    ticket_id, question = await ticket_for(desk, x)
    reply = await desk.service.reply(ticket_id, AGENT, "We're on it, https://status.acme.com/incident/42")
    x.lose_next_response("/2/tweets", method="POST")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.UNCERTAIN and "may have been posted" in stored.error
    for _ in range(2):  # never sent again on its own
        await desk.outbox_runner().drain()
    assert len(posts_sent(x)) == 1 and len(x.replies_by("acme")) == 1
    assert "https://t.co/" in x.replies_by("acme")[0]["text"]  # X rewrote the link; still recognised below

    restarted = await make_x_desk()  # start-up reconciles uncertain replies
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    (lost,) = x.lost_answers
    settled = await restarted.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT and settled.platform_id == lost["response"]["data"]["id"]
    assert settled.platform_url == f"https://x.com/acme/status/{settled.platform_id}"
    await restarted.outbox_runner().drain()
    assert len(posts_sent(x)) == 1 and len(x.replies_by("acme")) == 1


async def test_a_dropped_request_stays_uncertain_when_nothing_is_found(desk, x):
    ticket_id, _ = await ticket_for(desk, x)
    reply = await desk.service.reply(ticket_id, AGENT, "Looking into it.")
    x.faults.set(dropped=1.0, only_paths=("/2/tweets",))  # closed before X did anything
    await desk.outbox_runner().drain()
    x.faults.clear()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await desk.service.reconcile_uncertain_replies() == {reply.id: False}
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert x.replies_by("acme") == []

    # An agent who checked resends it: now it goes out, once.
    await desk.service.retry_reply(reply.id, AGENT)
    await desk.outbox_runner().drain()
    assert len(x.replies_by("acme")) == 1
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT


async def test_a_resend_after_a_lost_answer_finds_the_first_post_instead_of_failing(desk, x):
    ticket_id, _ = await ticket_for(desk, x)
    reply = await desk.service.reply(ticket_id, AGENT, "Refund issued, 3-5 days.")
    x.lose_next_response("/2/tweets", method="POST")
    await desk.outbox_runner().drain()
    await desk.service.retry_reply(reply.id, AGENT)  # the agent resends without reconciling
    await desk.outbox_runner().drain()
    (posted,) = x.replies_by("acme")  # X refused the duplicate; the desk recognised its own post
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == posted["id"]


async def test_the_same_text_in_another_conversation_fails_visibly(desk, x):
    first, _ = await ticket_for(desk, x)
    second, _ = await ticket_for(desk, x, "@acme my order is late too", author="fox")
    await desk.service.reply(first, AGENT, "Thanks, we're on it!")
    await desk.outbox_runner().drain()
    refused = await desk.service.reply(second, AGENT, "Thanks, we're on it!")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(refused.id)
    assert stored.status == ReplyStatus.FAILED
    assert "duplicate content" in stored.error and "change the wording" in stored.error
    assert len(x.replies_by("acme")) == 1


async def test_a_reply_to_a_deleted_post_fails_with_xs_reason(desk, x):
    ticket_id, question = await ticket_for(desk, x)
    x.delete(question["id"])
    reply = await desk.service.reply(ticket_id, AGENT, "Hello?")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and "deleted or not visible" in stored.error
    assert x.replies_by("acme") == []


async def test_posting_limits_and_server_errors_are_retried_and_post_once(desk, x, clock):
    ticket_id, _ = await ticket_for(desk, x)
    x.faults.set(server_error=1.0, only_paths=("/2/tweets",))
    reply = await desk.service.reply(ticket_id, AGENT, "First answer")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.PENDING and "500" in stored.error
    x.faults.clear()

    x.rate_limits = RateLimits(window_seconds=900).with_limit("create_tweet", user=0)
    clock.advance(seconds=600)  # past any retry delay
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.PENDING and "posting limit" in stored.error
    assert x.replies_by("acme") == []

    x.rate_limits = RateLimits()
    clock.advance(seconds=901)  # X's window is over
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert len(x.replies_by("acme")) == 1


async def test_posting_with_an_oauth2_user_token(make_x_desk, x, monkeypatch):
    for name in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(name)  # not needed, and not read
    desk = await make_x_desk(user_access_token_env="X_USER_ACCESS_TOKEN")
    ticket_id, question = await ticket_for(desk, x)
    await desk.service.reply(ticket_id, AGENT, "Posted with OAuth 2.0")
    await desk.outbox_runner().drain()
    (posted,) = x.replies_by("acme")
    assert posted["referenced_tweets"][0]["id"] == question["id"]
    (request,) = posts_sent(x)
    assert request["status"] == 201


async def test_refused_posting_credentials_fail_the_reply_visibly(desk, x, x_secrets):
    ticket_id, _ = await ticket_for(desk, x)
    x.revoke_credentials("acme")  # the brand removed the app's access
    reply = await desk.service.reply(ticket_id, AGENT, "Hello")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED  # nothing was posted: failed, not uncertain
    assert stored.error.startswith("X refused the posting credentials (401")
    assert "X_ACCESS_TOKEN" in stored.error and not [s for s in x_secrets.values() if s in stored.error]


async def test_x_unreachable_means_nothing_was_sent_and_it_is_retried(desk, x, clock):
    ticket_id, _ = await ticket_for(desk, x)
    port = x.port
    await x.stop()  # nobody listens: the connection is refused before anything is sent
    reply = await desk.service.reply(ticket_id, AGENT, "Back soon")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.PENDING and "could not connect to X" in stored.error
    await x.start(port)
    clock.advance(seconds=60)
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert len(x.replies_by("acme")) == 1
