"""Mentions, replies and quotes of the brand on Bluesky become cards; a thread is one ticket."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.slack.escaping import escape_text
from socialdesk.core.store.models import Message
from tests.bluesky_plugin.conftest import BRAND, DANA, FOX, calls, poll


async def test_a_mention_becomes_a_card_with_the_post_and_its_author(desk, bsky, cards):
    post = bsky.post_as(DANA, f"@{BRAND} my order never arrived")
    report = await poll(desk)
    assert (report.new, report.caught_up) == (1, True)
    (ticket,) = await desk.service.queue(platform="bluesky")
    assert ticket.conversation_id == post["uri"]
    (message,) = await desk.service.messages_of(ticket.id)
    assert message.external_id == post["uri"] and message.text == f"@{BRAND} my order never arrived"
    assert message.url == f"https://bsky.app/profile/{DANA}/post/{post['uri'].rsplit('/', 1)[1]}"
    author = await desk.service.get_author(ticket.author_id)
    assert (author.handle, author.display_name, author.external_id) == (DANA, "Dana Scully", post["author"]["did"])
    await desk.outbox_runner().drain()
    assert cards.done == [("post_card", {"ticket_id": ticket.id})]


async def test_a_follow_up_in_the_thread_joins_its_ticket(desk, bsky):
    question = bsky.post_as(DANA, f"@{BRAND} my order never arrived")
    await poll(desk)
    ours = bsky.post_as(BRAND, "Sorry! Which order?", reply_to=question["uri"])
    follow_up = bsky.post_as(DANA, "the blue one, #4411", reply_to=ours["uri"])  # a reply: no @mention needed
    report = await poll(desk)
    assert report.new == 1
    (ticket,) = await desk.service.queue(platform="bluesky")
    texts = [m.text for m in await desk.service.messages_of(ticket.id)]
    assert texts == [f"@{BRAND} my order never arrived", "the blue one, #4411"]
    assert ticket.conversation_id == question["uri"]
    stored = (await desk.service.messages_of(ticket.id))[-1]
    assert stored.external_id == follow_up["uri"]


async def test_a_quote_is_a_mention_of_its_own_thread(desk, bsky):
    ours = bsky.post_as(BRAND, "We ship to Canada now!")
    quote = bsky.post_as(FOX, "do you ship to Yukon though?", quote=ours["uri"])
    await poll(desk)
    (ticket,) = await desk.service.queue(platform="bluesky")
    assert ticket.conversation_id == quote["uri"]
    async with desk.database.sessions() as session:
        attachments = await session.scalar(select(Message.attachments).where(Message.external_id == quote["uri"]))
    assert attachments == [f"quotes https://bsky.app/profile/{bsky.brand_did}/post/"
                                   f"{ours['uri'].rsplit('/', 1)[1]}"]


async def test_the_brands_own_posts_and_other_notifications_are_not_tickets(desk, bsky):
    bsky.post_as(BRAND, f"hello from @{BRAND}")
    bsky.post_as(DANA, "nothing about acme")
    assert (await poll(desk)).new == 0
    assert await desk.service.queue(platform="bluesky") == []
    (listing,) = calls(bsky, "app.bsky.notification.listNotifications")
    assert listing["status"] == 200


async def test_a_forged_link_shows_its_real_target_and_nothing_pings(desk, bsky):
    text = f"@{BRAND} help! see bsky.app/support @channel <!everyone>"
    start = len(text.encode()) - len("bsky.app/support @channel <!everyone>".encode())
    facets = [
        {"$type": "app.bsky.richtext.facet", "index": {"byteStart": 0, "byteEnd": len(BRAND) + 1},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bsky.brand_did}]},
        {"$type": "app.bsky.richtext.facet", "index": {"byteStart": start, "byteEnd": start + len("bsky.app/support")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/login"}]},
    ]
    bsky.post_as(DANA, text, facets=facets)
    await poll(desk)
    (ticket,) = await desk.service.queue(platform="bluesky")
    (message,) = await desk.service.messages_of(ticket.id)
    assert "bsky.app/support (https://evil.example/login)" in message.text
    shown = escape_text(message.text)
    assert "<" not in shown and "@channel" not in shown and "everyone" in shown  # shown, never a ping


async def test_an_odd_record_is_skipped_and_the_rest_of_the_page_is_ingested(desk, bsky):
    good = bsky.post_as(DANA, f"@{BRAND} first")
    odd = bsky.post_as(FOX, f"@{BRAND} \u202e odd bytes \x00 " + "é" * 50)
    bsky.network.posts[odd["uri"]].record["reply"] = "not a reply ref"  # what a hand-written record may hold
    after = bsky.post_as(DANA, f"@{BRAND} third")
    report = await poll(desk)
    assert report.caught_up
    uris = {m.external_id for t in await desk.service.queue(platform="bluesky")
            for m in await desk.service.messages_of(t.id)}
    assert {good["uri"], odd["uri"], after["uri"]} <= uris  # NUL stored as sent, even on PostgreSQL
