"""Answers from the desk appear on Mastodon exactly once, in the customer's thread, never wider than asked."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.platform import ReplyRequest, SurveyRequest
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from socialdesk.plugins.mastodon.plugin import socialdesk_send_survey
from socialdesk.plugins.mastodon.reconcile import find_posted_reply
from socialdesk.plugins.mastodon.replies import idempotency_key
from socialdesk.plugins.mastodon.runtime import runtime_for
from socialdesk.plugins.mastodon.status_length import status_length
from tests.mastodon_plugin.conftest import DANA, catch_up_once, posts_sent
from tests.store_queries import Reply, count

AGENT = Actor("U1")


async def ticket_for(desk, masto, text: str = "@acme my order never arrived", author: str = DANA,  # type: ignore[no-untyped-def]
                     visibility: str = "public") -> tuple[int, dict]:
    status = masto.post_as(author, text, visibility=visibility)
    await catch_up_once(desk)
    (ticket,) = [t for t in await desk.service.queue(platform="mastodon") if t.conversation_id == status["id"]]
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id, status


async def test_a_reply_appears_once_in_the_customers_thread(desk, masto):
    ticket_id, question = await ticket_for(desk, masto)
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry about that! Which order number?")
    for _ in range(3):
        await desk.outbox_runner().drain()

    (posted,) = masto.replies_by("acme")
    assert posted["in_reply_to_id"] == question["id"]
    assert posted["visibility"] == "public"
    assert [m["acct"] for m in posted["mentions"]] == [DANA]  # addressed, so Dana is notified
    assert "Sorry about that! Which order number?" in posted["content"]
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == posted["id"]
    assert stored.platform_url == posted["url"]
    (request,) = posts_sent(masto)
    assert request["body"]["status"] == f"@{DANA} Sorry about that! Which order number?"
    assert (await desk.service.get_ticket(ticket_id)).status == TicketStatus.WAITING


async def test_a_reply_answers_the_latest_status_of_the_thread(desk, masto, clock):
    ticket_id, question = await ticket_for(desk, masto)
    ours = masto.post_as("acme", f"@{DANA} which order?", in_reply_to=question["id"])
    clock.advance(seconds=30)
    latest = masto.post_as(DANA, "@acme the blue one", in_reply_to=ours["id"])
    await catch_up_once(desk)
    await desk.service.reply(ticket_id, AGENT, "Found it, it ships today.")
    await desk.outbox_runner().drain()
    (sent,) = [s for s in masto.replies_by("acme") if s["id"] != ours["id"]]
    assert sent["in_reply_to_id"] == latest["id"]
    assert {s["id"] for s in masto.thread(question["id"])} >= {sent["id"], latest["id"]}


@pytest.mark.parametrize(("customer", "allowed", "expected"), [
    ("direct", "public", "direct"),
    ("private", "public", "private"),
    ("unlisted", "public", "unlisted"),
    ("public", "unlisted", "unlisted"),
    ("direct", "unlisted", "direct"),
])
async def test_the_customers_visibility_is_kept_or_narrowed_never_widened(make_masto_desk, masto, customer,
                                                                          allowed, expected):
    desk = await make_masto_desk(max_visibility=allowed)
    ticket_id, _ = await ticket_for(desk, masto, visibility=customer)
    await desk.service.reply(ticket_id, AGENT, "We have sent you the details.")
    await desk.outbox_runner().drain()
    (posted,) = masto.replies_by("acme")
    assert posted["visibility"] == expected
    assert [m["acct"] for m in posted["mentions"]] == [DANA]  # a direct reply reaches only who it mentions


async def test_a_direct_mention_is_never_answered_publicly(desk, masto):
    ticket_id, question = await ticket_for(desk, masto, text="@acme my card number is 4111 1111 1111 1111",
                                           visibility="direct")
    await desk.service.reply(ticket_id, AGENT, "Thanks, we have blocked it.")
    await desk.outbox_runner().drain()
    (request,) = posts_sent(masto)
    assert request["body"]["visibility"] == "direct"
    assert all(s["visibility"] == "direct" for s in masto.statuses_by("acme"))


async def test_over_the_instances_limit_is_refused_before_any_request(make_masto_desk, masto):
    masto.max_characters = 120  # this instance's admin chose 120
    desk = await make_masto_desk()
    ticket_id, _ = await ticket_for(desk, masto)
    posts_before = len(masto.recorder.records)
    # Counted as Mastodon counts: "@dana " (the remote mention counts as @dana) + text, each link 23.
    link = "https://example.com/orders/status/tracking/a-very-long-path-that-mastodon-counts-as-23"
    fits = f"See {link} " + "x" * (120 - len("@dana ") - 4 - 23 - 1)
    assert status_length(f"@{DANA} {fits}") == 120
    with pytest.raises(ReplyRejected, match="120 characters at most on this Mastodon instance, this reply has 121"):
        await desk.service.reply(ticket_id, AGENT, fits + "!")
    await desk.outbox_runner().drain()
    assert posts_sent(masto) == [] and await count(desk, Reply) == 0
    assert len(masto.recorder.records) - posts_before <= 1  # at most one GET of the instance, nothing sent

    await desk.service.reply(ticket_id, AGENT, fits)
    await desk.outbox_runner().drain()
    assert len(masto.replies_by("acme")) == 1


async def test_graphemes_count_once(make_masto_desk, masto):
    masto.max_characters = 20
    desk = await make_masto_desk()
    ticket_id, _ = await ticket_for(desk, masto)
    family = "👩‍👩‍👧‍👦"  # seven code points, one character to Mastodon
    text = family * 14  # "@dana " is 6: 6 + 14 = 20
    assert len(text) == 98
    await desk.service.reply(ticket_id, AGENT, text)
    with pytest.raises(ReplyRejected, match="this reply has 21"):
        await desk.service.reply(ticket_id, AGENT, text + "e\u0301")
    await desk.outbox_runner().drain()
    assert len(masto.replies_by("acme")) == 1


async def test_a_lost_answer_is_settled_by_the_idempotency_key_without_a_second_status(desk, masto):
    ticket_id, _ = await ticket_for(desk, masto)
    reply = await desk.service.reply(ticket_id, AGENT, "We're on it, https://status.acme.example/incident/42")
    masto.lose_next_response("/api/v1/statuses", method="POST")
    await desk.outbox_runner().drain()

    (lost,) = masto.lost_answers
    first, second = posts_sent(masto)
    assert first["status"] is None and second["status"] == 200  # the answer never arrived; the retry's did
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == lost["response"]["id"]  # ...the retry said it
    assert len(masto.replies_by("acme")) == 1


async def test_killed_between_send_and_record_is_found_once_at_restart(make_masto_desk, masto, clock):
    desk = await make_masto_desk()
    ticket_id, _ = await ticket_for(desk, masto)
    reply = await desk.service.reply(ticket_id, AGENT, "Refund issued, 3-5 days.")
    runtime = runtime_for(desk)
    connection = await runtime.connection()
    real_post = connection.client.status_post

    class Killed(BaseException):
        """The process dies: nothing after the request runs, not even error handling."""

    def posts_then_dies(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_post(*args, **kwargs)
        raise Killed

    connection.client.status_post = posts_then_dies  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENDING
    assert len(masto.replies_by("acme")) == 1

    restarted = await make_masto_desk()  # a new process on the same database
    clock.advance(minutes=15)  # the dead worker's lease on the job runs out
    await restarted.outbox_runner().drain()  # finds the reply "sending": uncertain, not sent again
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    settled = await restarted.service.get_reply(reply.id)
    (posted,) = masto.replies_by("acme")
    assert settled.status == ReplyStatus.SENT and settled.platform_id == posted["id"]
    for _ in range(2):
        await restarted.outbox_runner().drain()
    assert len(masto.replies_by("acme")) == 1 and len(posts_sent(masto)) == 1


async def test_reconcile_does_not_claim_a_status_already_recorded_for_another_reply(desk, masto):
    ticket_id, question = await ticket_for(desk, masto)
    first = await desk.service.reply(ticket_id, AGENT, "Thanks!")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(first.id)).status == ReplyStatus.SENT
    request = ReplyRequest(reply_id=first.id + 1000, ticket_id=ticket_id, platform="mastodon",
                           conversation_id=question["id"], in_reply_to_id=question["id"], text="Thanks!", agent="U1")
    assert await find_posted_reply(runtime_for(desk), request, f"@{DANA} Thanks!") is None


async def test_a_deleted_customer_status_is_a_permanent_error_on_the_card(desk, masto):
    ticket_id, question = await ticket_for(desk, masto)
    masto.delete(question["id"])
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry to hear that.")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and "deleted" in stored.error
    assert posts_sent(masto) == []
    assert (await desk.service.get_ticket(ticket_id)).status != TicketStatus.CLOSED


async def test_rate_limited_replies_wait_for_the_reset_and_go_once(desk, masto, clock):
    ticket_id, _ = await ticket_for(desk, masto)
    masto.limiter.limit = len(masto.recorder.records)  # the account's window is used up
    reply = await desk.service.reply(ticket_id, AGENT, "On it.")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.PENDING and "rate limit" in (stored.error or "") and masto.replies_by("acme") == []
    clock.advance(minutes=6)  # the window has reset
    masto.limiter.limit = 300
    for _ in range(3):
        await desk.outbox_runner().drain()
        clock.advance(minutes=1)
    assert len(masto.replies_by("acme")) == 1
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT


def test_the_idempotency_key_names_one_reply():
    a = ReplyRequest(1, 1, "mastodon", "10", "11", "hello", "U1")
    assert idempotency_key(a, "11") == idempotency_key(a, "11")
    assert idempotency_key(a, "11") != idempotency_key(ReplyRequest(2, 1, "mastodon", "10", "11", "hello", "U1"), "11")


async def test_the_csat_survey_is_a_reply_in_the_thread_with_the_same_visibility(desk, masto):
    ticket_id, question = await ticket_for(desk, masto, visibility="private")
    survey = SurveyRequest(survey_id=7, ticket_id=ticket_id, platform="mastodon", conversation_id=question["id"],
                           author_external_id=question["account"]["id"], in_reply_to_id=question["id"],
                           text="How did we do? Reply 1-5.")
    sent = await socialdesk_send_survey(survey, desk)
    (posted,) = masto.replies_by("acme")
    assert sent.platform_id == posted["id"] and posted["in_reply_to_id"] == question["id"]
    assert posted["visibility"] == "private" and [m["acct"] for m in posted["mentions"]] == [DANA]
    other = SurveyRequest(7, ticket_id, "x", "1", None, None, "?")
    assert await socialdesk_send_survey(other, desk) is None  # another platform's survey is not ours
