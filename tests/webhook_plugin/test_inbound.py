"""Signed mentions become cards; forged, unsigned, stale, replayed and oversized ones change nothing."""

from __future__ import annotations

import aiohttp

from socialdesk.core.push.plugin import push_server
from tests.store_queries import Message, Ticket, count
from tests.webhook_plugin.conftest import push_url


async def state(desk) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return await count(desk, Ticket), await count(desk, Message)


async def test_a_signed_mention_becomes_a_card_and_a_follow_up_joins_it(desk, sender, cards):
    status, answer = await sender.send_mention(push_url(desk), id="r-1", conversation_id="order-1042",
                                               text="My parcel never arrived <!channel>")
    assert status == 200 and answer["status"] == "accepted" and answer["stored"] == 1
    status, _ = await sender.send_mention(push_url(desk), id="r-2", conversation_id="order-1042",
                                          text="Any news?", in_reply_to_id="r-1")
    assert status == 200
    (ticket,) = await desk.service.queue(platform="webhook")
    assert ticket.conversation_id == "shop:order-1042"
    messages = await desk.service.messages_of(ticket.id)
    assert [m.external_id for m in messages] == ["shop:r-1", "shop:r-2"]
    await desk.outbox_runner().drain()
    assert [kind for kind, _ in cards.done].count("post_card") == 1
    fields = await desk.hooks.card_fields(ticket)
    assert [(f.label, f.value) for f in fields if f.label == "Source"] == [("Source", "Shop reviews")]


async def test_forged_unsigned_and_stale_requests_are_refused_with_no_state_change(desk, sender, clock):
    url = push_url(desk)
    body = sender.mention_body(id="r-9", conversation_id="c-9", text="hello")
    forged = sender.signed_headers(body, secret="whsec_" + "QUJD" * 8)
    assert (await sender.post(url, body, forged))[0] == 401
    tampered = sender.signed_headers(body)
    assert (await sender.post(url, body.replace(b"hello", b"hellO"), tampered))[0] == 401
    unsigned = {"Content-Type": "application/json"}
    status, answer = await sender.post(url, body, unsigned)
    assert status == 400 and "unsigned" in answer["error"]
    stale = sender.signed_headers(body, timestamp=int(clock().timestamp()) - 301)
    status, answer = await sender.post(url, body, stale)
    assert status == 401 and "stale" in answer["error"]
    future = sender.signed_headers(body, timestamp=int(clock().timestamp()) + 301)
    assert (await sender.post(url, body, future))[0] == 401
    assert await state(desk) == (0, 0)
    # The same body, correctly signed and fresh, goes in.
    assert (await sender.post(url, body, sender.signed_headers(body)))[0] == 200
    assert await state(desk) == (1, 1)


async def test_a_replayed_delivery_changes_nothing(desk, sender):
    url = push_url(desk)
    body = sender.mention_body(id="r-1", conversation_id="c-1", text="hello")
    headers = sender.signed_headers(body, message_id="msg_1")
    assert (await sender.post(url, body, headers))[1]["status"] == "accepted"
    before = await state(desk)
    status, answer = await sender.post(url, body, headers)
    assert status == 200 and answer["status"] == "duplicate"
    # A new message id carrying the same mention (a sender that re-sent it) is stored once too.
    status, answer = await sender.post(url, body, sender.signed_headers(body, message_id="msg_2"))
    assert answer == {"status": "accepted", "delivery_id": "msg_2", "stored": 0, "ignored": 1}
    assert await state(desk) == before == (1, 1)


async def test_a_replica_refuses_a_delivery_another_replica_accepted(make_webhook_desk, sender):
    first, second = await make_webhook_desk(), await make_webhook_desk()
    body = sender.mention_body(id="r-1", conversation_id="c-1", text="hello")
    headers = sender.signed_headers(body, message_id="msg_1")
    assert (await sender.post(push_url(first), body, headers))[1]["status"] == "accepted"
    assert (await sender.post(push_url(second), body, headers))[1]["status"] == "duplicate"
    assert await state(second) == (1, 1)


async def test_an_oversized_body_is_refused_before_it_is_read(desk, sender):
    url = push_url(desk)
    body = sender.mention_body(id="r-1", conversation_id="c-1", text="x" * 5000)
    status, answer = await sender.post(url, body, sender.signed_headers(body))
    assert status == 413 and "4096 bytes" in answer["error"]

    # Without a Content-Length (chunked), reading stops at the limit: the sender is cut off
    # long before it has sent everything it wanted to.
    sent = 0

    async def endless():  # type: ignore[no-untyped-def]
        nonlocal sent
        for _ in range(10_000):
            sent += 1024
            yield b"x" * 1024

    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(url, data=endless(), headers=sender.signed_headers(b"")) as response:
                assert response.status == 413
        except aiohttp.ClientError:
            pass  # the server may close the connection while the client is still writing
    assert sent < 10_000 * 1024
    assert await state(desk) == (0, 0)


async def test_malformed_bodies_name_what_is_wrong(desk, sender):
    url = push_url(desk)
    for body, expected in ((b"not json", "not JSON"),
                           (b'{"type": "mention.created", "data": {"id": "1"}}', "data.author"),
                           (sender.mention_body(id="1", conversation_id="c", text="t", created_at="yesterday"),
                            "data.created_at")):
        status, answer = await sender.post(url, body, sender.signed_headers(body))
        assert status == 400 and expected in answer["error"]
    assert await state(desk) == (0, 0)


async def test_healthz_says_whether_each_source_is_configured(desk, monkeypatch):
    url = push_server(desk).url
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["sources"]["webhook/shop"] == {
                "platform": "webhook", "path": "/push/webhook/shop", "configured": True}
        monkeypatch.delenv("WEBHOOK_SHOP_SECRET")
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 503
            health = (await response.json())["sources"]["webhook/shop"]
            assert health["configured"] is False and "WEBHOOK_SHOP_SECRET" in health["problem"]


async def test_odd_text_is_stored_and_odd_ids_are_refused(desk, sender):
    url = push_url(desk)
    body = sender.mention_body(id="r-odd", conversation_id="c-odd", text="nul \u0000 and half \ud800 a pair")
    status, answer = await sender.post(url, body, sender.signed_headers(body))
    assert status == 200 and answer["stored"] == 1
    (ticket,) = await desk.service.queue(platform="webhook")
    (message,) = await desk.service.messages_of(ticket.id)
    assert message.text == "nul \u0000 and half \ud800 a pair"  # stored as sent, on both databases
    body = sender.mention_body(id="r-\u0000", conversation_id="c-odd", text="hello")
    status, answer = await sender.post(url, body, sender.signed_headers(body))
    assert status == 400 and "data.id" in answer["error"]
