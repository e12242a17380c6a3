"""The ticket state machine: each transition, its guard, its audit event and its card job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.core.errors import ClaimedByOther, DeskError, IllegalTransition
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import TicketStatus
from tests.conftest import mention
from tests.store_queries import audit_kinds, jobs

AGENT, OTHER, ADMIN = Actor("U1"), Actor("U2"), Actor("U9", is_admin=True)


async def new_ticket(app) -> int:
    return (await app.service.ingest(mention())).ticket_id


async def card_updates(app, ticket_id: int) -> int:
    return sum(1 for j in await jobs(app, JobKind.UPDATE_CARD) if j.ticket_id == ticket_id)


async def test_every_transition_writes_its_audit_event_and_refreshes_the_card(app, clock, platform):
    tid = await new_ticket(app)
    runner = app.outbox_runner()
    steps = [
        ("claimed", lambda: app.service.claim(tid, AGENT)),
        ("note_added", lambda: app.service.note(tid, AGENT, "VIP, be nice")),
        ("assigned", lambda: app.service.assign(tid, AGENT, "U3")),
        ("unclaimed", lambda: app.service.unclaim(tid, Actor("U3"))),
        ("snoozed", lambda: app.service.snooze(tid, AGENT, clock.now + timedelta(minutes=30))),
        ("closed", lambda: app.service.close(tid, AGENT, "duplicate")),
        ("reopened", lambda: app.service.reopen(tid, AGENT)),
        ("marked_spam", lambda: app.service.mark_spam(tid, AGENT)),
        ("reopened", lambda: app.service.reopen(tid, AGENT)),
        ("reply_queued", lambda: app.service.reply(tid, AGENT, "Hello!")),
    ]
    expected = ["created"]
    for kind, step in steps:
        await runner.drain()  # earlier card updates are done, so each change queues a new one
        before = await card_updates(app, tid)
        await step()
        # replying to an unclaimed ticket claims it for the agent in the same transaction
        expected += ["claimed", kind] if kind == "reply_queued" else [kind]
        assert await audit_kinds(app, tid) == expected
        assert await card_updates(app, tid) == before + 1, kind
    await runner.drain()
    assert (await audit_kinds(app, tid))[-1] == "reply_sent"


async def test_snooze_and_wake(app, clock):
    tid = await new_ticket(app)
    with pytest.raises(DeskError, match="future"):
        await app.service.snooze(tid, AGENT, clock.now - timedelta(minutes=1))
    await app.service.snooze(tid, AGENT, clock.now + timedelta(hours=2))
    assert await app.service.wake_due() == []
    clock.advance(hours=2)
    assert await app.service.wake_due() == [tid]
    assert await app.service.wake_due() == []  # woken once
    ticket = await app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.OPEN and ticket.snoozed_until is None
    assert (await audit_kinds(app, tid))[-1] == "woken"


async def test_holder_rules(app):
    tid = await new_ticket(app)
    await app.service.claim(tid, AGENT)
    for action in (
        lambda: app.service.close(tid, OTHER),
        lambda: app.service.unclaim(tid, OTHER),
        lambda: app.service.assign(tid, OTHER, "U2"),
        lambda: app.service.mark_spam(tid, OTHER),
    ):
        with pytest.raises(ClaimedByOther, match=f"#{tid} is claimed by <@U1>"):
            await action()
    assert (await app.service.get_ticket(tid)).status == TicketStatus.OPEN
    # an admin may act on anyone's ticket
    assert (await app.service.assign(tid, ADMIN, "U5")).assignee == "U5"
    assert (await app.service.close(tid, ADMIN)).status == TicketStatus.CLOSED


async def test_illegal_transitions_change_nothing(app):
    tid = await new_ticket(app)
    with pytest.raises(IllegalTransition, match="not closed"):
        await app.service.reopen(tid, AGENT)
    with pytest.raises(IllegalTransition, match="not claimed"):
        await app.service.unclaim(tid, AGENT)
    await app.service.close(tid, AGENT)
    with pytest.raises(IllegalTransition, match="already closed"):
        await app.service.close(tid, AGENT)
    with pytest.raises(IllegalTransition, match="reopen it to reply"):
        await app.service.reply(tid, AGENT, "hi")
    with pytest.raises(IllegalTransition, match="reopen it to snooze"):
        from datetime import datetime, timezone
        await app.service.snooze(tid, AGENT, datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert await audit_kinds(app, tid) == ["created", "closed"]


async def test_reopen_refused_when_conversation_has_a_new_ticket(app):
    first = (await app.service.ingest(mention("o1", conversation_id="conv-R"))).ticket_id
    await app.service.close(first, AGENT)
    second = (await app.service.ingest(mention("o2", conversation_id="conv-R"))).ticket_id
    with pytest.raises(IllegalTransition, match=f"#{first} can't be reopened: #{second} is already open"):
        await app.service.reopen(first, AGENT)
    assert (await app.service.get_ticket(first)).status == TicketStatus.CLOSED


async def test_notes_are_validated(app):
    tid = await new_ticket(app)
    with pytest.raises(DeskError, match="needs some text"):
        await app.service.note(tid, AGENT, "   ")
    with pytest.raises(DeskError, match="3000 characters at most"):
        await app.service.note(tid, AGENT, "x" * 3001)


async def test_queue_is_most_urgent_first(app):
    low = (await app.service.ingest(mention(text="love it, thanks"))).ticket_id
    urgent = (await app.service.ingest(mention(text="site is down"))).ticket_id
    closed = (await app.service.ingest(mention(text="question"))).ticket_id
    await app.service.close(closed, AGENT)
    assert [t.id for t in await app.service.queue()] == [urgent, low]
    assert [t.id for t in await app.service.queue(priority=4)] == [low]


async def test_set_card_only_once(app):
    tid = await new_ticket(app)
    assert await app.service.set_card(tid, "C1", "111.222") is True
    assert await app.service.set_card(tid, "C1", "333.444") is False
    assert (await app.service.get_ticket(tid)).card_ts == "111.222"
