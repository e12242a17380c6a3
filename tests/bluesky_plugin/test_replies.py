"""Answers from the desk appear on Bluesky exactly once, in the customer's thread."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.platform import PermanentPlatformError, ReplyRequest
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from socialdesk.plugins.bluesky.post_length import grapheme_length
from socialdesk.plugins.bluesky.replies import send_reply
from socialdesk.plugins.bluesky.runtime import runtime_for
from socialdesk.sandbox.bluesky import Limit, RateLimits
from tests.bluesky_plugin.conftest import BRAND, DANA, FOX, calls, poll, records_created
from tests.store_queries import Reply, count

AGENT = Actor("U1")


def refs(post: dict) -> dict[str, dict[str, str]]:
    """The reply's strong refs, without the ``$type`` atproto adds to them."""
    return {part: {"uri": ref["uri"], "cid": ref["cid"]} for part, ref in post["record"]["reply"].items()
            if part in ("root", "parent")}


async def ticket_for(desk, bsky, text: str = f"@{BRAND} my order never arrived",  # type: ignore[no-untyped-def]
                     author: str = DANA) -> tuple[int, dict]:
    post = bsky.post_as(author, text)
    await poll(desk)
    (ticket,) = [t for t in await desk.service.queue(platform="bluesky") if t.conversation_id == post["uri"]]
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id, post


async def test_a_reply_appears_once_in_the_customers_thread_with_strong_refs(desk, bsky):
    ticket_id, question = await ticket_for(desk, bsky)
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry about that! Could you DM us the order number?")
    for _ in range(3):
        await desk.outbox_runner().drain()

    (posted,) = bsky.replies_by(BRAND)
    ref = {"uri": question["uri"], "cid": question["cid"]}
    assert refs(posted) == {"root": ref, "parent": ref}
    assert posted["record"]["text"] == "Sorry about that! Could you DM us the order number?"
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == posted["uri"]
    assert stored.platform_url == f"https://bsky.app/profile/{BRAND}/post/{posted['uri'].rsplit('/', 1)[1]}"
    assert len(records_created(bsky)) == 1
    assert (await desk.service.get_ticket(ticket_id)).status == TicketStatus.WAITING


async def test_a_reply_answers_the_latest_post_and_keeps_the_threads_root(desk, bsky, clock):
    ticket_id, question = await ticket_for(desk, bsky)
    ours = bsky.post_as(BRAND, "which order?", reply_to=question["uri"])
    clock.advance(seconds=30)
    latest = bsky.post_as(DANA, "the blue one", reply_to=ours["uri"])
    await poll(desk)
    await desk.service.reply(ticket_id, AGENT, "Found it, it ships today.")
    await desk.outbox_runner().drain()
    (sent,) = [p for p in bsky.replies_by(BRAND) if p["uri"] != ours["uri"]]
    assert refs(sent) == {"parent": {"uri": latest["uri"], "cid": latest["cid"]},
                          "root": {"uri": question["uri"], "cid": question["cid"]}}
    assert [p["uri"] for p in bsky.thread(question["uri"])][-1] == sent["uri"]


async def test_links_and_mentions_become_facets_with_utf8_byte_offsets(desk, bsky):
    ticket_id, question = await ticket_for(desk, bsky)
    text = f"Grüße 👋 @{FOX} — details: https://status.acme.com/incident/42 and @nobody.example.org"
    await desk.service.reply(ticket_id, AGENT, text)
    await desk.outbox_runner().drain()
    (posted,) = bsky.replies_by(BRAND)
    raw = text.encode()
    features = {}
    for facet in posted["record"]["facets"]:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        (feature,) = facet["features"]
        features[raw[start:end].decode()] = feature
    assert features == {
        f"@{FOX}": {"$type": "app.bsky.richtext.facet#mention", "did": bsky.network.by_handle(FOX).did},
        "https://status.acme.com/incident/42": {"$type": "app.bsky.richtext.facet#link",
                                                 "uri": "https://status.acme.com/incident/42"},
    }  # an unknown handle stays plain text


async def test_301_graphemes_with_emoji_and_combining_marks_are_refused_before_any_request(desk, bsky):
    ticket_id, _ = await ticket_for(desk, bsky)
    # 300 graphemes from 1000+ code points: families of four joined by ZWJ, flags, e + two accents.
    exactly = "👨‍👩‍👧‍👦" * 100 + "🇫🇷" * 100 + "e\u0301\u0302" * 100
    assert grapheme_length(exactly) == 300 and len(exactly) == 1200
    requests_before = len(bsky.recorder.of("bluesky"))
    with pytest.raises(ReplyRejected, match="300 characters at most on Bluesky, this reply has 301"):
        await desk.service.reply(ticket_id, AGENT, exactly + "e\u0301")
    await desk.outbox_runner().drain()
    assert len(bsky.recorder.of("bluesky")) == requests_before and await count(desk, Reply) == 0

    # 300 graphemes is allowed, but this one is 3,800 UTF-8 bytes: Bluesky's other limit.
    with pytest.raises(ReplyRejected, match="3000 bytes at most on Bluesky, this reply has"):
        await desk.service.reply(ticket_id, AGENT, exactly)
    fits = "👨‍👩‍👧‍👦" * 50 + "e\u0301" * 250  # 300 graphemes, 2,000 bytes
    await desk.service.reply(ticket_id, AGENT, fits)
    await desk.outbox_runner().drain()
    (posted,) = bsky.replies_by(BRAND)
    assert posted["record"]["text"] == fits


async def test_the_plugin_refuses_too_long_text_itself_without_a_request(desk, bsky):
    _, question = await ticket_for(desk, bsky)
    before = len(bsky.recorder.of("bluesky"))
    request = ReplyRequest(reply_id=1, ticket_id=1, platform="bluesky", conversation_id=question["uri"],
                           in_reply_to_id=question["uri"], text="é" * 301, agent="U1")
    with pytest.raises(PermanentPlatformError, match="this reply has 301"):
        await send_reply(runtime_for(desk), request)
    assert len(bsky.recorder.of("bluesky")) == before


async def test_limits_are_graphemes(desk):
    limits = await desk.hooks.reply_limits("bluesky")
    assert (limits.max_length, limits.unit) == (300, "characters (graphemes)")


async def test_a_lost_answer_makes_the_reply_uncertain_and_reconcile_finds_it_in_the_thread(make_bsky_desk, bsky):
    desk = await make_bsky_desk()
    ticket_id, question = await ticket_for(desk, bsky)
    reply = await desk.service.reply(ticket_id, AGENT, "We're on it, https://status.acme.com/incident/42")
    bsky.lose_next_response("com.atproto.repo.createRecord")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.UNCERTAIN and "may have been posted" in stored.error
    for _ in range(2):  # never sent again on its own
        await desk.outbox_runner().drain()
    assert len(records_created(bsky)) == 1 and len(bsky.replies_by(BRAND)) == 1

    restarted = await make_bsky_desk()  # start-up reconciles uncertain replies
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    (lost,) = bsky.lost_answers
    settled = await restarted.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT and settled.platform_id == lost["response"]["uri"]
    await restarted.outbox_runner().drain()
    assert len(records_created(bsky)) == 1 and len(bsky.replies_by(BRAND)) == 1
    assert calls(bsky, "app.bsky.feed.getPostThread")[-1]["query"]["uri"] == question["uri"]


async def test_killed_between_send_and_record_posts_once_and_is_recorded_after_restart(make_bsky_desk, bsky, clock):
    first = await make_bsky_desk()
    ticket_id, question = await ticket_for(first, bsky)
    reply = await first.service.reply(ticket_id, AGENT, "Refund issued, 3-5 days.")
    runner = first.outbox_runner("doomed")
    ((job, _token),) = [t for t in await runner.take() if t[0].kind == JobKind.SEND_REPLY]
    request = await first.service.begin_sending(reply.id)  # pending -> sending, committed
    assert isinstance(request, ReplyRequest)
    posted = await send_reply(runtime_for(first), request)  # it reaches Bluesky...
    # ...and the process is killed before record_sent: nothing more of `first` runs.
    clock.advance(seconds=first.config.desk.outbox.lease_seconds + 1)

    restarted = await make_bsky_desk()
    await restarted.outbox_runner("survivor").drain()  # finds "sending": uncertain, never resent
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    settled = await restarted.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT and settled.platform_id == posted.platform_id
    await restarted.outbox_runner().drain()
    (only,) = bsky.replies_by(BRAND)
    assert only["uri"] == posted.platform_id and len(records_created(bsky)) == 1
    assert only["record"]["reply"]["parent"]["uri"] == question["uri"]


async def test_reconcile_does_not_claim_a_reply_already_recorded_for_another(desk, bsky):
    ticket_id, _ = await ticket_for(desk, bsky)
    first = await desk.service.reply(ticket_id, AGENT, "Thanks!")
    await desk.outbox_runner().drain()
    second = await desk.service.reply(ticket_id, AGENT, "Thanks!")
    bsky.faults.set(dropped=1.0, only_paths=("/xrpc/com.atproto.repo.createRecord",))  # closed before the PDS did anything
    await desk.outbox_runner().drain()
    bsky.faults.clear()
    assert (await desk.service.get_reply(first.id)).status == ReplyStatus.SENT
    assert (await desk.service.get_reply(second.id)).status == ReplyStatus.UNCERTAIN
    # The thread holds one "Thanks!" by the brand, and it is the first reply's.
    assert await desk.service.reconcile_uncertain_replies() == {second.id: False}
    await desk.service.retry_reply(second.id, AGENT)  # an agent who checked resends it
    await desk.outbox_runner().drain()
    assert len(bsky.replies_by(BRAND)) == 2
    assert (await desk.service.get_reply(second.id)).status == ReplyStatus.SENT


async def test_a_reply_to_a_deleted_post_fails_visibly_and_the_ticket_stays_open(desk, bsky):
    ticket_id, question = await ticket_for(desk, bsky)
    bsky.delete(question["uri"])
    reply = await desk.service.reply(ticket_id, AGENT, "Hello?")
    await desk.outbox_runner().drain()
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and "deleted" in stored.error
    assert records_created(bsky) == []
    assert (await desk.service.get_ticket(ticket_id)).status != TicketStatus.CLOSED


async def test_the_write_budget_and_429_are_respected_and_the_reply_posts_once(desk, bsky, clock):
    ticket_id, _ = await ticket_for(desk, bsky)
    # 7 points an hour: two posts (3 each), then 429 until the window resets.
    bsky.rate_limits = RateLimits(repo_write=(Limit(7, 3600),))
    for n in range(3):
        await desk.service.reply(ticket_id, AGENT, f"update {n}")
    await desk.outbox_runner().drain()
    assert len(bsky.replies_by(BRAND)) == 2
    # The budget read RateLimit-Remaining (1 < 3 points): the third waits without a request.
    assert [r["status"] for r in records_created(bsky)] == [200, 200]
    replies = await desk.service.replies_of(ticket_id)
    assert [r.status for r in replies].count(ReplyStatus.PENDING) == 1
    clock.advance(seconds=3601)
    for _ in range(3):
        await desk.outbox_runner().drain()
    assert sorted(p["record"]["text"] for p in bsky.replies_by(BRAND)) == ["update 0", "update 1", "update 2"]


async def test_a_429_from_the_pds_waits_for_its_reset(desk, bsky, clock):
    ticket_id, _ = await ticket_for(desk, bsky)
    bsky.faults.set(rate_limited=1.0, retry_after_seconds=120, only_paths=("/xrpc/com.atproto.repo.createRecord",))
    reply = await desk.service.reply(ticket_id, AGENT, "On it.")
    await desk.outbox_runner().drain()
    bsky.faults.clear()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    await desk.outbox_runner().drain()
    assert len(records_created(bsky)) == 1  # the budget holds it until the reset, without asking
    clock.advance(seconds=125)
    for _ in range(3):
        await desk.outbox_runner().drain()
    assert len(bsky.replies_by(BRAND)) == 1
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT
