"""Ingest is exactly-once: unique keys, not luck, decide — also under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import TicketStatus
from socialdesk.core.extensions import Actor
from tests.conftest import mention
from socialdesk.core.store.models import Author
from tests.store_queries import AuditEvent, Message, Ticket, count, jobs


async def test_new_mention_opens_ticket_with_one_card_job(app):
    result = await app.service.ingest(mention("t1", text="The app is down for everyone"))
    assert result.outcome == IngestOutcome.CREATED
    ticket = await app.service.get_ticket(result.ticket_id)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.priority == 1 and ticket.category == "outage"  # default keyword triage ran
    assert "keyword 'down'" in ticket.priority_reasons
    card_jobs = await jobs(app, JobKind.POST_CARD)
    assert [j.payload for j in card_jobs] == [{"ticket_id": result.ticket_id}]
    assert card_jobs[0].priority == 1


async def test_same_mention_twice_is_one_message_one_ticket_one_card(app):
    first = await app.service.ingest(mention("dup"))
    second = await app.service.ingest(mention("dup"))
    assert second.outcome == IngestOutcome.DUPLICATE
    assert (second.ticket_id, second.message_id) == (first.ticket_id, first.message_id)
    assert await count(app, Message) == 1
    assert await count(app, Ticket) == 1
    assert len(await jobs(app, JobKind.POST_CARD)) == 1


async def test_a_lone_duplicate_writes_nothing_even_on_an_active_conversation(app):
    # A lone mention is written without a look first: its duplicate meets the message's
    # unique key, and everything the first attempt wrote (the author's refresh, the
    # follow-up's ticket update, audit, jobs) is rolled back before the retry finds it.
    opening = await app.service.ingest(mention("open-1", conversation_id="conv-dup"))
    follow_up = mention("follow-1", conversation_id="conv-dup", followers=10)
    await app.service.ingest(follow_up)
    before = (await app.service.get_ticket(opening.ticket_id)).version
    audit_before, jobs_before = await count(app, AuditEvent), len(await jobs(app))

    again = await app.service.ingest(mention("follow-1", conversation_id="conv-dup", followers=99_999))

    assert again.outcome == IngestOutcome.DUPLICATE and again.ticket_id == opening.ticket_id
    assert (await app.service.get_ticket(opening.ticket_id)).version == before
    assert (await count(app, AuditEvent), len(await jobs(app))) == (audit_before, jobs_before)
    assert await count(app, Author, Author.followers == 99_999) == 0
    assert await count(app, Message) == 2


async def test_same_mention_concurrently_from_two_replicas(make_app):
    # Two desks on one database race to store the same mentions: the unique index and
    # the retry make exactly one of them the writer.
    desks = [await make_app(), await make_app()]
    mentions = [mention(f"race{i}") for i in range(10)]
    results = await asyncio.gather(*(d.service.ingest(m) for m in mentions for d in desks for _ in range(2)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(IngestOutcome.CREATED) == 10
    assert outcomes.count(IngestOutcome.DUPLICATE) == 30
    assert await count(desks[0], Message) == 10
    assert await count(desks[0], Ticket) == 10
    assert len(await jobs(desks[0], JobKind.POST_CARD)) == 10


async def test_concurrent_first_mentions_of_one_conversation_make_one_ticket(make_app):
    desks = [await make_app(), await make_app()]
    mentions = [mention(f"c{i}", conversation_id="shared-conv") for i in range(12)]
    results = await asyncio.gather(*(desks[i % 2].service.ingest(m) for i, m in enumerate(mentions)))
    assert len({r.ticket_id for r in results}) == 1
    assert [r.outcome for r in results].count(IngestOutcome.CREATED) == 1
    assert await count(desks[0], Ticket) == 1
    assert await count(desks[0], Message) == 12
    assert len(await jobs(desks[0], JobKind.POST_CARD)) == 1
    assert len(await jobs(desks[0], JobKind.POST_TO_CARD_THREAD)) == 11


async def test_follow_up_joins_the_open_ticket_and_threads_on_its_card(app):
    root = await app.service.ingest(mention("r1", conversation_id="conv-A", text="where is my parcel"))
    follow = await app.service.ingest(mention("r2", conversation_id="conv-A", text="hello?? site is down too"))
    assert follow.outcome == IngestOutcome.JOINED
    assert follow.ticket_id == root.ticket_id
    ticket = await app.service.get_ticket(root.ticket_id)
    assert ticket.priority == 1  # the follow-up made it more urgent
    thread = await jobs(app, JobKind.POST_TO_CARD_THREAD)
    assert [j.payload for j in thread] == [{"ticket_id": root.ticket_id, "message_id": follow.message_id}]
    assert len(await jobs(app, JobKind.UPDATE_CARD)) == 1
    assert len(await jobs(app, JobKind.POST_CARD)) == 1


async def test_a_card_refresh_raised_later_in_the_same_batch_is_written_raised(app):
    root = await app.service.ingest(mention("b1", conversation_id="conv-B", text="where is my parcel"))
    await app.service.ingest_many([
        mention("b2", conversation_id="conv-B", text="any news?"),  # queues the refresh at P3
        mention("b3", conversation_id="conv-B", text="and now the site is down"),  # makes the ticket P1
    ])
    assert (await app.service.get_ticket(root.ticket_id)).priority == 1
    [refresh] = await jobs(app, JobKind.UPDATE_CARD)  # one refresh for both, at the ticket's new priority
    assert refresh.priority == 1


async def test_follow_up_never_lowers_priority(app):
    root = await app.service.ingest(mention("p1", conversation_id="conv-P", text="site is down"))
    await app.service.ingest(mention("p2", conversation_id="conv-P", text="thanks, love you"))
    assert (await app.service.get_ticket(root.ticket_id)).priority == 1


async def test_follow_up_after_close_opens_a_new_ticket(app):
    first = await app.service.ingest(mention("x1", conversation_id="conv-B"))
    await app.service.close(first.ticket_id, Actor("U1"), "answered")
    again = await app.service.ingest(mention("x2", conversation_id="conv-B"))
    assert again.outcome == IngestOutcome.CREATED
    assert again.ticket_id != first.ticket_id


async def test_follow_up_wakes_a_waiting_or_snoozed_ticket(app, clock):
    root = await app.service.ingest(mention("w1", conversation_id="conv-W"))
    await app.service.snooze(root.ticket_id, Actor("U1"), clock.now.replace(hour=18))
    await app.service.ingest(mention("w2", conversation_id="conv-W"))
    ticket = await app.service.get_ticket(root.ticket_id)
    assert ticket.status == TicketStatus.OPEN and ticket.snoozed_until is None


async def test_cursor_advances_with_the_mentions_it_covers(app):
    cursor = CursorAdvance("testnet", "since_id", "105")
    results = await app.service.ingest_many([mention("105"), mention("104")], cursor=cursor)
    assert [r.outcome for r in results] == [IngestOutcome.CREATED, IngestOutcome.CREATED]
    assert await app.cursors.get("testnet", "since_id") == "105"


async def test_cursor_does_not_advance_when_the_batch_fails(app, monkeypatch):
    await app.cursors.set(CursorAdvance("testnet", "since_id", "100"), app.clock())

    async def broken_triage(mention):
        raise RuntimeError("triage exploded")

    monkeypatch.setattr(app.hooks, "triage", broken_triage)
    with pytest.raises(RuntimeError):
        await app.service.ingest_many([mention("201")], cursor=CursorAdvance("testnet", "since_id", "201"))
    assert await app.cursors.get("testnet", "since_id") == "100"
    assert await count(app, Message) == 0


async def test_failure_inside_the_transaction_leaves_nothing(app, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("crash between message and card job")

    monkeypatch.setattr(app.outbox, "enqueue", explode)
    with pytest.raises(RuntimeError):
        await app.service.ingest(mention("boom"))
    assert await count(app, Message) == 0
    assert await count(app, Ticket) == 0
    monkeypatch.undo()
    # The poller retries the same mention: it is stored exactly once.
    assert (await app.service.ingest(mention("boom"))).outcome == IngestOutcome.CREATED
    assert len(await jobs(app, JobKind.POST_CARD)) == 1


async def test_author_is_stored_once_and_refreshed(app):
    from tests.store_queries import count as count_rows
    from socialdesk.core.store.models import Author

    await app.service.ingest(mention("a1", author_id="42", handle="old", followers=5))
    await app.service.ingest(mention("a2", author_id="42", handle="new", followers=12000))
    assert await count_rows(app, Author) == 1
    async with app.database.sessions() as session:
        from sqlalchemy import select

        author = await session.scalar(select(Author))
    assert (author.handle, author.followers) == ("new", 12000)


async def test_mention_text_is_bounded(app):
    huge = "a" * 50_000
    result = await app.service.ingest(mention("big", text=huge))
    async with app.database.sessions() as session:
        stored = await session.get(Message, result.message_id)
    assert len(stored.text) == 10_000 and stored.text.endswith("…")
