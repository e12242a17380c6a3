"""Answers go back as signed POSTs to the source's callback, applied exactly once."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import ReplyStatus
from socialdesk.sandbox.webhook import WebhookEmulator
from tests.store_queries import Reply, count
from tests.webhook_plugin.conftest import AGENT, push_url


async def claimed_ticket(desk, sender: WebhookEmulator) -> int:  # type: ignore[no-untyped-def]
    await sender.send_mention(push_url(desk), id="r-1", conversation_id="order-1042", text="Where is my parcel?")
    (ticket,) = await desk.service.queue(platform="webhook")
    await desk.service.claim(ticket.id, AGENT)
    return ticket.id


def callback_posts(sender: WebhookEmulator) -> list[dict]:
    return [r for r in sender.recorder.of("webhook", method="POST") if r.get("path") == "/callback/shop"]


async def test_an_answer_is_delivered_once_signed_to_the_callback(desk, sender):
    ticket_id = await claimed_ticket(desk, sender)
    reply = await desk.service.reply(ticket_id, AGENT, "It ships today, sorry for the wait.")
    for _ in range(3):
        await desk.outbox_runner().drain()
    (applied,) = sender.applied
    assert applied["document"]["type"] == "reply.created"
    assert applied["document"]["data"] == {"reply_id": f"reply_{reply.id}", "conversation_id": "order-1042",
                                           "in_reply_to_id": "r-1", "text": "It ships today, sorry for the wait."}
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == applied["receipt"]["id"]
    assert stored.platform_url == applied["receipt"]["url"]
    assert len(callback_posts(sender)) == 1


async def test_too_long_is_refused_before_anything_is_sent(make_webhook_desk, sender):
    desk = await make_webhook_desk(max_reply_length=40)
    ticket_id = await claimed_ticket(desk, sender)
    with pytest.raises(ReplyRejected, match="40 characters at most for shop, this reply has 41"):
        await desk.service.reply(ticket_id, AGENT, "x" * 41)
    await desk.outbox_runner().drain()
    assert callback_posts(sender) == [] and await count(desk, Reply) == 0


async def test_server_errors_are_retried_and_a_refusal_shows_on_the_card(desk, sender, clock):
    ticket_id = await claimed_ticket(desk, sender)
    reply = await desk.service.reply(ticket_id, AGENT, "On its way.")
    sender.faults.set(server_error=1.0, only_paths=("/callback/",))
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    sender.faults.clear()
    clock.advance(minutes=10)
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert len(sender.applied) == 1

    # A 4xx is final: the ticket stays open with the error on the reply.
    second = await desk.service.reply(ticket_id, AGENT, "Anything else?")
    desk_settings_secret = "whsec_" + "QUJD" * 8  # the receiver no longer shares the desk's secret
    sender.secret = desk_settings_secret
    await desk.outbox_runner().drain()
    failed = await desk.service.get_reply(second.id)
    assert failed.status == ReplyStatus.FAILED and "401" in failed.error
    assert len(sender.applied) == 1


async def test_a_lost_answer_is_redelivered_under_the_same_id_and_applied_once(make_webhook_desk, sender):
    desk = await make_webhook_desk()
    ticket_id = await claimed_ticket(desk, sender)
    reply = await desk.service.reply(ticket_id, AGENT, "Refund issued.")
    sender.loser.arm("/callback/shop")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    await desk.outbox_runner().drain()  # never sent again on its own
    assert len(callback_posts(sender)) == 1

    restarted = await make_webhook_desk()
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    settled = await restarted.service.get_reply(reply.id)
    (applied,) = sender.applied
    assert settled.status == ReplyStatus.SENT and settled.platform_id == applied["receipt"]["id"]
    assert len(callback_posts(sender)) == 2  # asked twice, applied once


async def test_killed_between_send_and_record_the_answer_is_applied_once(make_webhook_desk, sender, clock):
    first = await make_webhook_desk()
    ticket_id = await claimed_ticket(first, sender)
    reply = await first.service.reply(ticket_id, AGENT, "Refund issued.")
    runner = first.outbox_runner("doomed")
    (job, _token), = [t for t in await runner.take() if t[0].kind == JobKind.SEND_REPLY]
    # The worker marks the reply sending, the POST is applied, and the process dies before recording.
    request = await first.service.begin_sending(reply.id)
    assert not isinstance(request, str)
    await first.hooks.send_reply(request)
    assert len(sender.applied) == 1
    clock.advance(seconds=first.config.desk.outbox.lease_seconds + 1)

    restarted = await make_webhook_desk()
    await restarted.outbox_runner("survivor").drain()
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.SENT
    await restarted.outbox_runner().drain()
    assert len(sender.applied) == 1
