"""The same Bolt app over Socket Mode: the desk dials out to Slack with the app-level
token and answers every envelope within Slack's 3 seconds."""

from __future__ import annotations

import asyncio

from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.core.ticket import TicketStatus
from tests.slack.conftest import ALICE, BOB, CHANNEL, ERIN, RACERS, eventually


async def test_command_click_and_modal_over_socket_mode(start_desk) -> None:
    desk = await start_desk("socket")
    assert desk.driver.transport == "socket"
    tid = await desk.mention("App crashes on login")
    card = await desk.card(tid)

    assert "App crashes on login" in await desk.command("queue", user=BOB)
    await desk.click(tid, Actions.CLAIM, user=ALICE)
    assert await desk.told(ALICE) == [f"You have #{tid} now."]

    await desk.click(tid, Actions.NOTE, user=ALICE)
    view = await desk.view(ALICE, Callbacks.NOTE)
    submitted = await desk.driver.submit_view(view.id, {Inputs.NOTE: {Inputs.TEXT_ACTION: "VIP customer, be quick"}})
    assert submitted.acked and submitted.outcome == "closed"

    await desk.click(tid, Actions.SNOOZE, user=ALICE)
    view = await desk.view(ALICE, Callbacks.SNOOZE)
    submitted = await desk.driver.submit_view(view.id, {Inputs.UNTIL: {Inputs.PICK: "2h"}})
    assert submitted.outcome == "closed"
    await desk.settled()

    ticket = await desk.app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.SNOOZED and ticket.assignee == ALICE
    [message] = desk.slack.timeline(CHANNEL)
    assert message.ts == card.ts and "Snoozed until <!date^" in desk.card_text(message)
    thread = desk.slack.thread(CHANNEL, card.ts)[1:]
    assert len(thread) == 1 and "Internal note" in thread[0].text and "not visible to the customer" in str(
        thread[0].blocks)
    assert all(a.seconds < 3.0 for a in desk.slack.acks)


async def test_twenty_simultaneous_claims_over_socket_mode(start_desk) -> None:
    desk = await start_desk("socket")
    tid = await desk.mention()
    card = await desk.card(tid)
    deliveries = await asyncio.gather(*(desk.driver.click(CHANNEL, card.ts, Actions.CLAIM, user=u) for u in RACERS))
    assert all(d.acked for d in deliveries)
    await eventually(lambda: all(desk.ephemerals(u) for u in RACERS))
    winner = (await desk.app.service.get_ticket(tid)).assignee
    losers = [desk.ephemerals(u)[0] for u in RACERS if u != winner]
    assert len(losers) == 19 and all(f"is claimed by <@{winner}>" in text for text in losers)


async def test_a_non_agent_is_refused_over_socket_mode(start_desk) -> None:
    desk = await start_desk("socket")
    tid = await desk.mention()
    await desk.card(tid)
    await desk.click(tid, Actions.CLAIM, user=ERIN)
    [refusal] = await desk.told(ERIN)
    assert refusal.startswith("Only desk agents can do that")
    assert (await desk.app.service.get_ticket(tid)).assignee is None
