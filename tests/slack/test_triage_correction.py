"""Correcting triage from Slack: the card's overflow opens the form, `/desk triage` does it
in one line; either way the card shows the new priority and category."""

from __future__ import annotations

from socialdesk.core.slack.modals import Callbacks, Inputs
from tests.slack.conftest import ALICE, CHANNEL, eventually
from tests.store_queries import audit_kinds


async def test_correct_from_the_card_overflow(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("what time do you open on sunday?")
    await desk.card(tid)
    await desk.choose_in_overflow(tid, f"triage:{tid}", user=ALICE)
    view = await desk.view(ALICE, Callbacks.TRIAGE)
    delivery = await desk.driver.submit_view(view.id, {Inputs.PRIORITY: {Inputs.PICK: "1"},
                                                       Inputs.CATEGORY: {Inputs.PICK: "outage"}})
    assert delivery.acked and delivery.outcome == "closed"
    ticket = await desk.app.service.get_ticket(tid)
    assert (ticket.priority, ticket.category) == (1, "outage")
    assert "triage_corrected" in await audit_kinds(desk.app, tid)
    await desk.settled()
    await eventually(lambda: "P1 urgent" in desk.card_text(desk.slack.timeline(CHANNEL)[0]))
    assert "corrected by an agent" in desk.card_text(desk.slack.timeline(CHANNEL)[0])


async def test_correct_with_the_command_and_a_closed_ticket_is_refused(start_desk) -> None:
    desk = await start_desk("http", plugins={"learned_triage": {}})  # the plugin that adds `/desk triage`
    tid = await desk.mention("the delivery guy left my parcel in the rain")
    await desk.card(tid)
    answer = await desk.command(f"triage {tid} p2 delivery", user=ALICE)
    assert answer.startswith(f"#{tid} is now P2 · delivery"), answer
    assert (await desk.command(f"triage {tid} p2", user=ALICE)).endswith("nothing to correct")
    assert (await desk.command(f"triage {tid} urgent", user=ALICE)).startswith("`urgent` is neither")
    await desk.command(f"close {tid}", user=ALICE)
    assert await desk.command(f"triage {tid} p1", user=ALICE) == f"#{tid} is closed; reopen it to correct its triage"
    assert await desk.command("triage 99999 p1", user=ALICE) == "#99999 does not exist"
