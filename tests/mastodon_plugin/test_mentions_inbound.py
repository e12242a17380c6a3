"""Mentions on Mastodon become tickets with cards; a thread is one conversation; the cursor never skips."""

from __future__ import annotations

import json

from sqlalchemy import select

from socialdesk.core.slack.card import build_card
from socialdesk.core.store.models import Message
from socialdesk.plugins.mastodon.catch_up import cursor_key
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME
from tests.mastodon_plugin.conftest import DANA, catch_up_once, notification_requests
from tests.slack.inert import TOKEN, message_problems, text_objects


async def tickets(desk):  # type: ignore[no-untyped-def]
    return await desk.service.queue(platform="mastodon")


async def test_mentions_become_tickets_with_cards(desk, masto, cards):
    status = masto.post_as(DANA, "@acme my order never arrived, see https://example.com/orders/1")
    report = await catch_up_once(desk)
    assert report.caught_up and report.new == 1

    (ticket,) = await tickets(desk)
    assert ticket.conversation_id == status["id"]
    (message,) = await desk.service.messages_of(ticket.id)
    assert message.external_id == status["id"]
    assert message.text == "@acme my order never arrived, see https://example.com/orders/1"
    assert message.public is True
    assert message.url == status["url"]
    author = await desk.service.get_author(message.author_id)
    assert author.handle == DANA and author.followers == 1200
    await desk.outbox_runner().drain()
    assert [p["ticket_id"] for kind, p in cards.done if kind == "post_card"] == [ticket.id]


async def test_follow_ups_join_their_ticket_through_the_thread(desk, masto, clock):
    question = masto.post_as(DANA, "@acme my order never arrived")
    await catch_up_once(desk)
    ours = masto.post_as("acme", f"@{DANA} which order?", in_reply_to=question["id"])
    clock.advance(seconds=30)
    follow_up = masto.post_as(DANA, "@acme the blue one", in_reply_to=ours["id"])
    # A stranger joins the thread deeper down; the desk never stored its parent.
    masto.add_account("gil", domain="other.example")
    aside = masto.post_as(DANA, "@gil@other.example this is about my order", in_reply_to=follow_up["id"])
    masto.post_as("gil@other.example", "@acme same here", in_reply_to=aside["id"])
    await catch_up_once(desk)

    (ticket,) = await tickets(desk)
    texts = [m.text for m in await desk.service.messages_of(ticket.id)]
    assert texts == ["@acme my order never arrived", "@acme the blue one", "@acme same here"]


async def test_a_thread_begun_elsewhere_is_one_conversation_rooted_at_its_first_status(desk, masto):
    root = masto.post_as("fox", "Anyone else's parcel late?")
    middle = masto.post_as(DANA, "@fox mine too", in_reply_to=root["id"])
    masto.post_as(DANA, "@acme @fox what is going on?", in_reply_to=middle["id"])
    await catch_up_once(desk)
    (ticket,) = await tickets(desk)
    assert ticket.conversation_id == root["id"]


async def test_the_cursor_moves_with_committed_pages_only(make_masto_desk, masto):
    desk = await make_masto_desk(page_size=5)
    for i in range(12):
        masto.post_as(DANA, f"@acme question number {i}")
    report = await catch_up_once(desk)
    assert report.new == 12 and report.caught_up
    stored = json.loads(await desk.cursors.get(PLUGIN_NAME, cursor_key(masto.brand["id"])))
    newest = masto.instance.notifications[-1].id
    assert stored == {"min_id": newest}
    # The next catch-up asks only above it, and finds nothing new.
    again = await catch_up_once(desk)
    assert again.new == 0 and again.duplicates == 0
    assert notification_requests(masto)[-1]["query"]["min_id"] == newest
    assert notification_requests(masto)[-1]["query"]["types[]"] == "mention"


async def test_direct_and_followers_only_mentions_are_private_tickets(desk, masto):
    masto.post_as(DANA, "@acme my card number leaked", visibility="direct")
    await catch_up_once(desk)
    (ticket,) = await tickets(desk)
    (message,) = await desk.service.messages_of(ticket.id)
    assert message.public is False
    async with desk.database.sessions() as session:
        attachments = await session.scalar(select(Message.attachments).where(Message.id == message.id))
    assert any("private mention" in a for a in attachments)


async def test_the_brands_own_statuses_and_other_notification_types_are_not_tickets(desk, masto):
    masto.post_as("acme", "@fox hello from us")  # our own: notifies fox, not us
    masto.post_as(DANA, "no mention here")
    masto.post_as(DANA, "@acme a real question")
    report = await catch_up_once(desk)
    assert report.new == 1 and len(await tickets(desk)) == 1


async def test_everyone_pings_and_forged_links_never_reach_slack_as_such(desk, masto, clock):
    evil = "@acme <!channel> <!everyone> <@U0123> <https://evil.example|your invoice> @here &lt;!here&gt;"
    masto.post_as(DANA, evil)
    await catch_up_once(desk)
    (ticket,) = await tickets(desk)
    (message,) = await desk.service.messages_of(ticket.id)
    assert "<!channel>" in message.text and "<https://evil.example|your invoice>" in message.text  # kept as written

    card = build_card(await desk.service.ticket_details(ticket.id), fields=[], now=clock(), preview_chars=500,
                      oncall_group=None)
    blocks = [block.to_dict() for block in card.blocks]
    shown = [card.text, *(obj["text"] for obj in text_objects(blocks))]
    # The only links on the card are the desk's own, to the status and its author.
    ours = tuple(t for text in shown for t in TOKEN.findall(text) if t.startswith("<https://example.social/@dana"))
    assert message_problems(card.text, blocks, allowed=ours) == []


async def test_an_unreadable_status_does_not_stop_the_others(desk, masto):
    masto.post_as(DANA, "@acme first")
    odd = masto.post_as(DANA, "@acme odd one")
    masto.post_as(DANA, "@acme third")
    masto.serve_oddly(odd["id"], created_at="the day before yesterday", account={"username": None})
    report = await catch_up_once(desk)
    assert report.new == 2 and report.skipped == 1 and report.caught_up
