"""Forum posts become cards through webhooks; lost and repeated webhooks change nothing."""

from __future__ import annotations

import json

from socialdesk.core.push.signatures import discourse_signature
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.discourse.plugin import run_backfill
from tests.discourse_plugin.conftest import AGENT, backfill, tickets
from tests.store_queries import Message, Ticket, count
from tests.test_metrics import sample


async def test_a_new_topic_becomes_one_card_and_replies_join_it(desk, forum, cards):
    await backfill(desk)  # first run: remembers where the forum is
    topic, first = await forum.create_topic("dana", "Parcel never arrived", "My order 1042 never arrived <!channel>")
    await forum.create_post("fox", topic.id, "Same here, any news?")
    (ticket,) = await tickets(desk)
    assert ticket.conversation_id == str(topic.id)
    messages = await desk.service.messages_of(ticket.id)
    # topic_created and post_created both carried the first post: stored once.
    assert [m.external_id for m in messages] == [str(first.id), str(first.id + 1)]
    assert messages[0].url == f"{forum.base_url}/t/parcel-never-arrived/{topic.id}/1"
    await desk.outbox_runner().drain()
    assert [kind for kind, _ in cards.done].count("post_card") == 1
    statuses = [d.status for d in forum.webhooks.deliveries]
    assert statuses == [200, 200, 200]


async def test_only_posts_for_the_desk_are_taken_and_follow_ups_join(make_discourse_desk, forum):
    support = forum.add_category("Support")
    desk = await make_discourse_desk(categories=[support], tags=["billing"], support_group="support")
    await backfill(desk)
    lounge, _ = await forum.create_topic("dana", "Nice weather", "Anyone going to the meetup?")
    by_category, _ = await forum.create_topic("dana", "Login broken", "I cannot log in", category_id=support)
    by_tag, _ = await forum.create_topic("fox", "Invoice", "Double charged this month", tags=("billing",))
    by_group, _ = await forum.create_topic("eve", "Question", "Hey @support, where is my refund?")
    await forum.create_post("dana", by_category.id, "Still broken today, no mention of anyone")
    await forum.create_post("dana", lounge.id, "See you there")
    assert sorted(t.conversation_id for t in await tickets(desk)) == sorted(
        str(t.id) for t in (by_category, by_tag, by_group))
    (login,) = [t for t in await tickets(desk) if t.conversation_id == str(by_category.id)]
    assert len(await desk.service.messages_of(login.id)) == 2
    # Our own posts never become mentions.
    await forum.create_post("acme_support", by_group.id, "Hi Eve, the refund went out yesterday.")
    assert await count(desk, Message) == 4


async def test_a_lost_webhook_is_backfilled_and_a_repeated_one_stored_once(desk, forum):
    await backfill(desk)
    topic, _ = await forum.create_topic("dana", "App crashes", "The app crashes at start")
    forum.webhooks.lose()
    lost = await forum.create_post("dana", topic.id, "Version 4.2 on Android")
    forum.webhooks.repeat()
    twice = await forum.create_post("fox", topic.id, "Same for me on 4.2")
    assert [d.status for d in forum.webhooks.deliveries[-3:]] == [None, 200, 200]
    (ticket,) = await tickets(desk)
    assert [m.external_id for m in await desk.service.messages_of(ticket.id)] == [
        str(topic.post_ids[0]), str(twice.id)]

    report = await backfill(desk)
    assert report.ingested == 3 and report.cursor == twice.id  # all three seen, only the lost one was new
    external = [m.external_id for m in await desk.service.messages_of(ticket.id)]
    assert sorted(external) == sorted([str(topic.post_ids[0]), str(lost.id), str(twice.id)])
    assert await count(desk, Message) == 3 and await count(desk, Ticket) == 1


async def test_posts_written_while_the_desk_was_down_are_all_taken_once(make_discourse_desk, forum, clock):
    desk = await make_discourse_desk()
    await backfill(desk)
    await desk.hooks.stop_services()  # down: webhooks fail, Discourse gives up on them
    topics = []
    for n in range(12):
        topic, _ = await forum.create_topic(f"user{n}", f"Problem {n}", f"Problem number {n} needs help")
        topics.append(topic)
        for k in range(4):
            await forum.create_post(f"user{n}", topic.id, f"More details {k} about problem {n}")
    assert all(d.status is None for d in forum.webhooks.deliveries)
    restarted = await make_discourse_desk()
    report = await backfill(restarted)
    assert report.ingested == 60 and report.pages == 3  # 50 + 10, then an empty page
    assert await count(restarted, Ticket) == 12 and await count(restarted, Message) == 60
    assert (await backfill(restarted)).ingested == 0
    assert await count(restarted, Message) == 60


async def test_a_backfill_resumes_after_the_last_committed_chunk(desk, forum):
    await backfill(desk)
    start = int(await desk.cursors.get("discourse", "last_post_id"))
    for n in range(3):
        await forum.create_topic(f"u{n}", f"T {n}", f"Body of topic {n}", webhooks=False)
    # As if a chunk had been committed and the process died: the cursor covers the first post.
    await desk.cursors.set(CursorAdvance("discourse", "last_post_id", str(start + 1)), desk.clock())
    report = await backfill(desk)
    assert report.ingested == 2 and await count(desk, Message) == 2


async def test_forged_unsigned_stale_and_replayed_webhooks_change_nothing(desk, forum, clock):
    await backfill(desk)
    topic, post = await forum.create_topic("dana", "Broken", "The checkout is broken", webhooks=False)
    body = json.dumps({"post": forum.forum.webhook_post_json(post, forum.base_url)}).encode()
    headers = {"Content-Type": "application/json", "X-Discourse-Event": "post_created",
               "X-Discourse-Event-Type": "post", "X-Discourse-Event-Id": "900"}
    assert await forum.webhooks.send_raw(body, headers) == 400  # unsigned
    forged = {**headers, "X-Discourse-Event-Signature": discourse_signature("not the secret", body)}
    assert await forum.webhooks.send_raw(body, forged) == 401
    signed = {**headers, "X-Discourse-Event-Signature": discourse_signature(forum.webhooks.secret, body)}
    tampered = body.replace(b"checkout", b"Checkout")
    assert await forum.webhooks.send_raw(tampered, signed) == 401
    assert await count(desk, Message) == 0

    assert await forum.webhooks.send_raw(body, signed) == 200
    assert await count(desk, Message) == 1
    await desk.service.close((await tickets(desk))[0].id, AGENT)
    assert await forum.webhooks.send_raw(body, signed) == 200  # replayed: acknowledged, nothing changes
    assert await count(desk, Ticket) == 1 and await count(desk, Message) == 1

    clock.advance(hours=7)
    old = {**signed, "X-Discourse-Event-Id": "901"}
    assert await forum.webhooks.send_raw(body, old) == 401  # stale: older than stale_after_minutes
    assert await count(desk, Message) == 1


async def test_an_oversized_webhook_is_refused(make_discourse_desk, forum):
    desk = await make_discourse_desk()
    body = b'{"post": {"raw": "' + b"x" * 300_000 + b'"}}'
    headers = {"Content-Type": "application/json", "X-Discourse-Event": "post_created",
               "X-Discourse-Event-Id": "1", "X-Discourse-Event-Signature": discourse_signature(forum.webhooks.secret, body)}
    assert await forum.webhooks.send_raw(body, headers) == 413
    assert await count(desk, Message) == 0


async def test_a_rate_limited_backfill_waits_and_is_counted(desk, forum, clock):
    await backfill(desk)
    await forum.create_topic("u1", "Late parcel", "Where is my parcel?", webhooks=False)
    forum.faults.set(rate_limited=1.0, retry_after_seconds=30, only_paths=("/posts.json",))
    assert await run_backfill(desk) is None
    assert sample(desk, "socialdesk_platform_api_errors_total", platform="discourse", kind="transient") == 1.0
    assert sample(desk, "socialdesk_platform_rate_limited_total", platform="discourse") == 1.0
    forum.faults.clear()
    assert (await backfill(desk)).paused  # the forum's Retry-After is honoured
    clock.advance(seconds=31)
    assert (await backfill(desk)).ingested == 1
