"""The reply modal: the customer's message, the platform's limit, macros, "close after
sending", takeover, server-side validation shown in the modal, and platform errors."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.platform import PermanentPlatformError
from socialdesk.core.slack import submissions
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from tests.slack.conftest import ALICE, BOB, CAROL, CHANNEL, Desk, eventually
from tests.store_queries import Reply, count, jobs

BOX = f"{Inputs.REPLY_TEXT}_0"


async def open_reply(desk: Desk, tid: int, user: str = ALICE):  # type: ignore[no-untyped-def]
    await desk.click(tid, Actions.REPLY, user=user)
    return await desk.view(user, Callbacks.REPLY)


async def test_too_long_reply_is_refused_in_the_modal_before_anything_is_sent(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    view = await open_reply(desk, tid)
    box = next(b for b in view.blocks if b.get("block_id") == BOX)
    assert box["element"]["max_length"] == 280  # the platform counts plain characters
    delivery = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "x" * 281}})
    assert delivery.outcome == "errors"
    assert view.errors == {BOX: "Not sent: 280 characters at most on testnet, this reply has 281"}
    assert not view.closed
    empty = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "   "}})
    assert empty.outcome == "errors" and "the reply is empty" in view.errors[BOX]
    await asyncio.sleep(0.2)
    assert await count(desk.app, Reply) == 0 and await jobs(desk.app, JobKind.SEND_REPLY) == []
    assert desk.platform.posted == []
    ok = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "x" * 280}})
    assert ok.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)


async def test_a_macro_fills_the_reply_with_its_variables(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention(handle="jo_customer")
    await desk.card(tid)
    view = await open_reply(desk, tid)
    await desk.pick_in_view(view.id, Inputs.MACRO_ACTION, "thanks")
    await eventually(lambda: view.history)  # views.update refilled the box under a new block id
    box = next(b for b in view.blocks if b.get("block_id", "").startswith(Inputs.REPLY_TEXT))
    expected = f"Thanks jo_customer! alice from the team here, we are on it (#{tid})."
    assert box["block_id"] == f"{Inputs.REPLY_TEXT}_1" and box["element"]["initial_value"] == expected
    delivery = await desk.driver.submit_view(view.id, {})  # sent as filled in
    assert delivery.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == expected


async def test_a_macro_picked_without_text_is_sent_filled_in(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention(handle="sam")
    await desk.card(tid)
    view = await open_reply(desk, tid)
    delivery = await desk.driver.submit_view(view.id, {Inputs.MACRO: {Inputs.MACRO_ACTION: "refund"}})
    assert delivery.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == "Hi @sam, refunds take 5-7 days."


async def test_replying_to_a_ticket_someone_else_holds_needs_an_explicit_takeover(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    await desk.app.service.claim(tid, Actor(ALICE))
    view = await open_reply(desk, tid, user=BOB)
    assert any(b.get("block_id") == Inputs.TAKEOVER for b in view.blocks)
    refused = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "On it"}})
    assert refused.outcome == "errors"
    assert view.errors == {Inputs.TAKEOVER: f"#{tid} is claimed by @alice; take it over to reply — tick the box, then send"}
    taken = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "On it"},
                                                    Inputs.TAKEOVER: {Inputs.TAKEOVER_ACTION: ["yes"]}})
    assert taken.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert (await desk.app.service.get_ticket(tid)).assignee == BOB
    # an admin replies without taking over
    view = await open_reply(desk, tid, user=CAROL)
    assert not any(b.get("block_id") == Inputs.TAKEOVER for b in view.blocks)


async def test_a_platform_error_shows_on_the_card_and_the_ticket_stays_open(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    card = await desk.card(tid)
    desk.platform.script.append(PermanentPlatformError("Status is a duplicate"))
    view = await open_reply(desk, tid)
    await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "Hello again"}})
    await desk.settled()
    ticket = await desk.app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.OPEN and ticket.assignee == ALICE
    text = desk.card_text(desk.slack.message(CHANNEL, card.ts))
    assert f"<@{ALICE}>'s reply failed:* Status is a duplicate" in text and "stays open" in text
    assert Actions.RESEND in text and Actions.DISCARD in text
    [notice] = desk.slack.thread(CHANNEL, card.ts)[1:]
    assert notice.text.startswith(f"⚠️ <@{ALICE}> your reply to #{tid} was *not posted* on testnet")
    assert desk.platform.posted == []

    await desk.click(tid, Actions.RESEND, user=ALICE)
    assert (await desk.told(ALICE))[-1] == f"The reply to #{tid} will be sent again."
    await desk.settled()
    assert [p.text for p in desk.platform.posted] == ["Hello again"]
    [reply] = await desk.app.service.replies_of(tid)
    assert reply.status == ReplyStatus.SENT
    text = desk.card_text(desk.slack.message(CHANNEL, card.ts))
    assert f"<@{ALICE}> replied" in text and Actions.RESEND not in text


async def test_a_failed_reply_can_be_discarded(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    card = await desk.card(tid)
    desk.platform.script.append(PermanentPlatformError("Account suspended"))
    await desk.command(f"reply {tid} Hello")
    await desk.settled()
    await desk.click(tid, Actions.DISCARD, user=ALICE)
    assert (await desk.told(ALICE, 2))[-1] == f"The reply to #{tid} is discarded; nothing more will be sent."
    await desk.settled()
    text = desk.card_text(desk.slack.message(CHANNEL, card.ts))
    assert "reply failed" not in text and Actions.DISCARD not in text
    assert (await desk.app.service.get_ticket(tid)).status == TicketStatus.OPEN


async def test_a_reply_slower_than_slacks_deadline_closes_the_form_and_a_refusal_quotes_the_text(
        start_desk, monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded database: the reply is still being written when Slack's 3 seconds run out. The
    # form closes at once (one left open after a timeout invites a second Send), and the
    # refusal that follows comes as a message that gives the agent their text back.
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    view = await open_reply(desk, tid)
    monkeypatch.setattr(submissions, "SUBMIT_ACK_BUDGET_SECONDS", 0.05)
    write = desk.app.service.reply

    async def slow_write(*args: object, **kwargs: object) -> object:
        await asyncio.sleep(0.5)
        return await write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk.app.service, "reply", slow_write)
    delivery = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "<!channel> " + "x" * 280}})
    assert delivery.outcome == "closed"
    told = (await desk.told(ALICE))[-1]
    assert told.startswith(f"Reply to #{tid} not sent: 280 characters at most on testnet, this reply has 291")
    assert "> &lt;!\u2060channel&gt; " + "x" * 280 in told  # the text back, never a ping
    await desk.settled()
    assert await count(desk.app, Reply) == 0 and desk.platform.posted == []
