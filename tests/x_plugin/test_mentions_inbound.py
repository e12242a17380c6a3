"""Mentions on X become tickets with cards; follow-ups join their ticket; nothing twice."""

from __future__ import annotations

from datetime import timezone

from sqlalchemy import select

from socialdesk.core.store.models import Author, Message
from socialdesk.plugins.x.snowflake import earlier
from socialdesk.plugins.x.timeline_cursor import OVERLAP_SECONDS, TimelineCursor
from tests.store_queries import Ticket, count
from tests.x_plugin.conftest import SEARCH_JOB, brand_id, mention_requests, poll


async def messages(app) -> list[Message]:  # type: ignore[no-untyped-def]
    async with app.database.sessions() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def test_mentions_become_tickets_with_cards(desk, x, cards):
    question = x.post_as("dana", "@acme my order #1234 never arrived &amp; nobody answers")
    x.post_as("fox", "nothing about the brand")
    x.post_as("acme", "@acme a note to self")  # our own post: never a ticket
    other = x.post_as("fox", "@acme is the shop open on sundays?")

    report = await poll(desk)
    assert report.caught_up and report.new == 2 and report.skipped == 1

    stored = await messages(desk)
    assert [m.external_id for m in stored] == [question["id"], other["id"]]  # oldest first
    first = stored[0]
    assert first.url == f"https://x.com/dana/status/{question['id']}"
    assert first.created_at.astimezone(timezone.utc).isoformat().startswith("2026-11-02T09:00")
    ticket = await desk.service.get_ticket(first.ticket_id)
    assert (ticket.platform, ticket.conversation_id) == ("x", question["conversation_id"])
    async with desk.database.sessions() as session:
        dana = await session.scalar(select(Author).where(Author.handle == "dana"))
    assert (dana.display_name, dana.followers, dana.verified) == ("Dana Scully", 1200, True)
    assert dana.profile_url == "https://x.com/dana" and dana.external_id == x.user("dana")["id"]

    await desk.outbox_runner().drain()
    assert sorted(p["ticket_id"] for kind, p in cards.done if kind == "post_card") == sorted(
        {m.ticket_id for m in stored})


async def test_the_request_asks_for_authors_and_conversations(desk, x):
    x.post_as("dana", "@acme hello")
    await poll(desk)
    (request,) = mention_requests(x)
    query = request["query"]
    assert query["expansions"] == "author_id,attachments.media_keys"  # authors, and the media shown on cards
    assert set(query["media.fields"].split(",")) == {"url", "preview_image_url", "alt_text", "type", "width",
                                                      "height"}
    assert set(query["user.fields"].split(",")) >= {"username", "name", "public_metrics", "verified",
                                                    "profile_image_url"}
    assert set(query["tweet.fields"].split(",")) >= {"created_at", "conversation_id", "in_reply_to_user_id",
                                                     "referenced_tweets", "author_id", "lang"}
    assert "start_time" in query and "since_id" not in query  # the first poll's floor is a time


async def test_follow_ups_join_their_ticket_across_polls(desk, x, clock, cards):
    question = x.post_as("dana", "@acme where is my parcel?")
    await poll(desk)
    answer = x.post_as("acme", "@dana checking now", in_reply_to=question["id"])
    clock.advance(seconds=60)
    follow_up = x.post_as("dana", "@acme still nothing", in_reply_to=answer["id"])
    x.post_as("fox", "@dana @acme me too", in_reply_to=question["id"])  # another voice, same thread

    report = await poll(desk)
    assert report.new == 2
    stored = await messages(desk)
    assert len({m.ticket_id for m in stored}) == 1 and await count(desk, Ticket) == 1
    joined = next(m for m in stored if m.external_id == follow_up["id"])
    assert joined.in_reply_to_id == answer["id"]
    await desk.outbox_runner().drain()
    assert [kind for kind, _ in cards.done].count("post_card") == 1
    assert [kind for kind, _ in cards.done].count("post_to_card_thread") == 2


async def test_the_cursor_moves_only_past_what_is_stored(desk, x, clock):
    x.post_as("dana", "@acme one")
    newest = x.post_as("fox", "@acme two")
    await poll(desk)
    stored = TimelineCursor.loads(await desk.cursors.get("x", f"mentions:{brand_id(x)}"))
    assert stored == TimelineCursor(since_id=newest["id"])

    clock.advance(seconds=60)
    report = await poll(desk)  # nothing new: one request, nothing written
    assert report.caught_up and report.new == 0 and report.pages == 1
    # asked from 30 s before the floor: posts X indexes late are not skipped; re-read ones are duplicates
    assert mention_requests(x)[-1]["query"]["since_id"] == earlier(newest["id"], OVERLAP_SECONDS)
    assert report.duplicates == 2 and await count(desk, Message) == 2
    assert TimelineCursor.loads(await desk.cursors.get("x", f"mentions:{brand_id(x)}")) == stored


async def test_recent_search_finds_the_brand_without_its_handle(make_x_desk, x):
    desk = await make_x_desk(search_query="acme")
    talk = x.post_as("fox", "acme support takes ages")
    both = x.post_as("dana", "@acme acme ate my homework")  # found by both timelines: stored once
    x.post_as("dana", "unrelated")

    assert (await poll(desk, SEARCH_JOB)).new == 2
    assert (await poll(desk)).duplicates == 1
    assert [m.external_id for m in await messages(desk)] == [talk["id"], both["id"]]
    search = x.recorder.of("x", method="GET", path="/2/tweets/search/recent")
    assert search[0]["query"]["query"] == "acme"
    assert await desk.cursors.get("x", f"mentions:{brand_id(x)}") is not None
