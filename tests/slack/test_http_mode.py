"""The Bolt app in HTTP mode: signed commands, clicks and modal submissions from the
sandbox Slack, with the outcome read back from the emulator's channel timeline."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.core.slack.runtime import runtime_for
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from tests.slack.conftest import ALICE, BOB, CHANNEL, RACERS, eventually
from tests.store_queries import audit_kinds


async def test_a_signed_command_is_answered_only_to_the_agent(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("Where is my parcel?")
    await desk.card(tid)
    answer = await desk.command("queue")
    assert f"|#{tid}>" in answer and "Where is my parcel?" in answer and "unclaimed" in answer
    assert desk.ephemerals(BOB) == []  # ephemeral: only Alice saw it
    assert [m.text for m in desk.slack.timeline(CHANNEL)][1:] == []  # nothing posted in the channel


async def test_unsigned_or_stale_requests_are_refused_and_change_nothing(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    card = await desk.card(tid)
    forged = await desk.driver.slash_command("/desk", f"claim {tid}", user=ALICE, channel=CHANNEL, bad_signature=True)
    stale = await desk.driver.slash_command("/desk", f"claim {tid}", user=ALICE, channel=CHANNEL,
                                            timestamp=int(time.time()) - 600)
    clicked = await desk.driver.click(CHANNEL, card.ts, Actions.CLAIM, user=ALICE, bad_signature=True)
    assert (forged.status, stale.status, clicked.status) == (401, 401, 401)
    await asyncio.sleep(0.3)
    assert (await desk.app.service.get_ticket(tid)).assignee is None
    assert desk.ephemerals(ALICE) == ['/desk failed with the error "dispatch_failed"'] * 2


async def test_claim_button_updates_the_card_in_place(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    card = await desk.card(tid)
    assert "Open — unclaimed" in desk.card_text(card)
    await desk.click(tid, Actions.CLAIM, user=ALICE)
    assert await desk.told(ALICE) == [f"You have #{tid} now."]
    await desk.settled()
    [message] = desk.slack.timeline(CHANNEL)  # the same message, edited: no second card
    assert message.ts == card.ts and len(message.history) == 1
    assert f"Claimed by <@{ALICE}>" in desk.card_text(message)
    assert "Open — unclaimed" in str(message.history[0].blocks)


async def test_twenty_simultaneous_claims_have_one_winner(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("Checkout is down!")
    card = await desk.card(tid)
    calls_before = len(desk.slack.api_calls)
    deliveries = await asyncio.gather(*(desk.driver.click(CHANNEL, card.ts, Actions.CLAIM, user=u) for u in RACERS))
    assert all(d.acked for d in deliveries) and max(d.seconds for d in deliveries) < 3.0

    def answered() -> bool:
        return all(desk.ephemerals(u) for u in RACERS)

    await eventually(answered)
    asked = [c.method for c in desk.slack.api_calls[calls_before:]]
    # The losers all name the same holder, and the bot's identity is asked once: one call each at most.
    assert asked.count("users.info") <= 1 and asked.count("auth.test") <= 1
    winner = (await desk.app.service.get_ticket(tid)).assignee
    assert winner in RACERS
    answers = {u: desk.ephemerals(u) for u in RACERS}
    assert answers[winner] == [f"You have #{tid} now."]
    for user in RACERS:
        if user != winner:
            assert len(answers[user]) == 1 and answers[user][0].startswith(f"#{tid} is claimed by <@{winner}>")
    assert (await audit_kinds(desk.app, tid)).count("claimed") == 1
    await desk.settled()
    assert f"Claimed by <@{winner}>" in desk.card_text(desk.slack.message(CHANNEL, card.ts))


async def test_reply_through_the_modal_is_posted_on_the_platform_and_shown_on_the_card(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("My order never arrived")
    await desk.card(tid)
    await desk.click(tid, Actions.REPLY, user=ALICE)
    view = await desk.view(ALICE, Callbacks.REPLY)
    shown = str(view.blocks)
    assert "My order never arrived" in shown and "280 characters at most on testnet" in shown
    delivery = await desk.driver.submit_view(view.id, {
        f"{Inputs.REPLY_TEXT}_0": {Inputs.TEXT_ACTION: "So sorry! A new parcel left today."},
        Inputs.OPTIONS: {Inputs.OPTIONS_ACTION: [Inputs.CLOSE_AFTER]},
    })
    assert delivery.acked and delivery.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == "So sorry! A new parcel left today."
    await desk.settled()
    ticket = await desk.app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.CLOSED and ticket.assignee == ALICE
    [card] = desk.slack.timeline(CHANNEL)
    text = desk.card_text(card)
    assert f"<@{ALICE}> replied" in text and "A new parcel left today" in text and "view it" in text
    assert f"Closed by <@{ALICE}>" in text and "closed after reply" in text
    thread = desk.slack.thread(CHANNEL, card.ts)[1:]
    assert len(thread) == 1 and thread[0].text.startswith(f"Reply sent by <@{ALICE}>")


async def test_health_endpoint_for_the_load_balancer(start_desk) -> None:
    desk = await start_desk("http")
    url = runtime_for(desk.app).listener.request_url  # type: ignore[union-attr]
    base = url.rsplit("/slack/events", 1)[0]
    async with aiohttp.ClientSession() as session, session.get(base + "/healthz") as answer:
        assert answer.status == 200 and await answer.text() == "ok"


async def test_reply_by_command_is_sent_once(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    answer = await desk.command(f"reply {tid} Sorted, thanks for your patience")
    assert answer.startswith(f"Your reply to #{tid} is on its way")
    await desk.settled()
    replies = await desk.app.service.replies_of(tid)
    assert [r.status for r in replies] == [ReplyStatus.SENT] and len(desk.platform.posted) == 1
