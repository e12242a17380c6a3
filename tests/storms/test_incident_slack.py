"""The incident card in Slack (the emulator, the real Bolt app): posted once, follow-ups in its
thread, Close all for agents only, Reply to all through the modal."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from socialdesk.core.outbox.jobs import RetryJob
from socialdesk.core.slack.incident_actions import REPLY_ALL_CALLBACK, IncidentInputs
from socialdesk.core.slack.incident_card import IncidentActions
from socialdesk.core.slack.incident_delivery import _find_incident_card
from socialdesk.core.slack.runtime import runtime_for as slack_runtime
from socialdesk.core.ticket import TicketStatus
from tests.slack.conftest import ALICE, CHANNEL, ERIN, Desk, clock, eventually, start_desk  # noqa: F401
from tests.storms.conftest import COMPLAINT

STORM_SIZE = 5


async def storm(desk: Desk) -> tuple[int, list[int]]:
    tickets = []
    for n in range(STORM_SIZE):
        tickets.append(await desk.mention(COMPLAINT.format(n=50000 + n), author_id=f"p{n}", handle=f"person{n}"))
        if n < 2:  # the first two cards are up before the third person makes it a storm
            await desk.card(tickets[-1])
    incident = await desk.app.incidents.of_ticket(tickets[-1])
    assert incident is not None

    async def posted() -> bool:
        return (await desk.app.incidents.get(incident.id)).card_ts is not None

    await eventually(posted, 15, "incident card")
    await desk.settled()
    return incident.id, tickets


async def test_one_incident_card_and_follow_ups_in_its_thread(start_desk) -> None:
    desk = await start_desk("http")
    incident_id, tickets = await storm(desk)
    incident = await desk.app.incidents.get(incident_id)
    top = [m for m in desk.slack.timeline(CHANNEL) if m.blocks]
    assert len(top) == 3  # two cards from before the storm was recognised, and the incident's
    card = desk.slack.message(CHANNEL, incident.card_ts or "")
    assert card is not None and f"incident #{incident_id}" in card.text
    assert f"*{STORM_SIZE}* mentions from *{STORM_SIZE}* people" in desk.card_text(card)
    # the early tickets' own cards say they are part of the incident
    early = desk.slack.message(CHANNEL, (await desk.app.service.get_ticket(tickets[0])).card_ts or "")
    assert early is not None

    async def linked_shown() -> bool:
        refreshed = desk.slack.message(CHANNEL, (await desk.app.service.get_ticket(tickets[0])).card_ts or "")
        # plugin field values are escaped: a word joiner follows the "#"
        return refreshed is not None and re.search(rf"part of incident #\W?{incident_id}\b",
                                                   desk.card_text(refreshed)) is not None

    await eventually(linked_shown, 15, "the early card's incident line")
    # a follow-up on a ticket that has no card of its own goes under the incident card
    last = await desk.app.service.get_ticket(tickets[-1])
    await desk.mention("any update? it is still missing", conversation_id=last.conversation_id,
                       author_id=f"p{STORM_SIZE - 1}", handle=f"person{STORM_SIZE - 1}")
    await desk.settled()
    thread = desk.slack.thread(CHANNEL, incident.card_ts or "")
    assert any("it is still missing" in json.dumps(m.blocks) for m in thread[1:])


async def test_close_all_is_for_agents_and_closes_every_ticket(start_desk) -> None:
    desk = await start_desk("http")
    incident_id, tickets = await storm(desk)
    incident = await desk.app.incidents.get(incident_id)
    clicked = await desk.driver.click(CHANNEL, incident.card_ts or "", IncidentActions.CLOSE_ALL, user=ERIN)
    assert clicked.acked, clicked
    await desk.told(ERIN)
    assert (await desk.app.service.get_ticket(tickets[0])).status == TicketStatus.OPEN
    await desk.driver.click(CHANNEL, incident.card_ts or "", IncidentActions.CLOSE_ALL, user=ALICE)
    told = await desk.told(ALICE)
    assert f"Closed {STORM_SIZE} tickets of incident #{incident_id}" in told[-1]
    for ticket_id in tickets:
        assert (await desk.app.service.get_ticket(ticket_id)).status == TicketStatus.CLOSED

    async def card_closed() -> bool:
        card = desk.slack.message(CHANNEL, incident.card_ts or "")
        return card is not None and "Closed" in desk.card_text(card) and "Reply to all" not in desk.card_text(card)

    await eventually(card_closed, 15, "the closed incident card")


async def test_reply_to_all_refuses_a_template_that_does_not_fit_and_sends_one_that_does(start_desk) -> None:
    desk = await start_desk("http")
    incident_id, tickets = await storm(desk)
    incident = await desk.app.incidents.get(incident_id)
    await desk.driver.click(CHANNEL, incident.card_ts or "", IncidentActions.REPLY_ALL, user=ALICE)
    view = await desk.view(ALICE, REPLY_ALL_CALLBACK)
    refused = await desk.driver.submit_view(view.id, {IncidentInputs.TEXT: {IncidentInputs.TEXT_ACTION: "Sorry!"}})
    assert refused.outcome == "errors" and "{name} or {handle}" in view.errors[IncidentInputs.TEXT]
    # a macro, filled per author ({author}, {handle}) and with the agent's own name
    sent = await desk.driver.submit_view(view.id, {IncidentInputs.MACRO: {IncidentInputs.MACRO_ACTION: "thanks"}})
    assert sent.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == STORM_SIZE, 15, "replies sent")
    texts = sorted(r.text for r in desk.platform.posted)
    assert texts[0].startswith("Thanks person0! alice from the team here, we are on it (#")
    assert len(set(texts)) == STORM_SIZE
    told = await desk.told(ALICE)
    assert f"{STORM_SIZE} replies to incident #{incident_id} are on their way" in told[-1]


async def test_a_slow_agent_lookup_still_closes_the_form_in_time_and_the_outcome_follows(start_desk) -> None:
    # Everything before the answer runs under the ack budget: here the agent lists answer
    # slowly (a busy database or Slack), so the form closes first and the outcome is told.
    desk = await start_desk("http")
    incident_id, _ = await storm(desk)
    incident = await desk.app.incidents.get(incident_id)
    permissions = slack_runtime(desk.app).permissions
    prompt = permissions.actor

    async def slow_actor(user_id: str):  # noqa: ANN202
        await asyncio.sleep(2.5)  # past the 2 s budget, within Slack's 3 s
        return await prompt(user_id)

    await desk.driver.click(CHANNEL, incident.card_ts or "", IncidentActions.REPLY_ALL, user=ALICE)
    view = await desk.view(ALICE, REPLY_ALL_CALLBACK)
    permissions.actor = slow_actor  # type: ignore[method-assign]
    refused = await desk.driver.submit_view(view.id, {IncidentInputs.TEXT: {IncidentInputs.TEXT_ACTION: "Sorry!"}})
    assert refused.outcome == "closed" and refused.seconds < 3.0  # answered in time, no error shown inline
    told = await desk.told(ALICE)
    assert told[-1].startswith(f"Nothing was sent to incident #{incident_id}:") and "> Sorry!" in told[-1]
    assert desk.platform.posted == []


async def test_a_rate_limited_search_for_an_uncertain_incident_card_waits_it_out(start_desk) -> None:
    # After an unanswered post the next attempt looks for the card first; a 429 on that
    # search defers the job by Slack's Retry-After without spending an attempt.
    desk = await start_desk("http")
    incident_id, _ = await storm(desk)
    incident = await desk.app.incidents.get(incident_id)
    rt = slack_runtime(desk.app)
    desk.slack.faults.set(rate_limited=1.0, retry_after_seconds=2, only_paths=("/api/conversations.history",))
    with pytest.raises(RetryJob) as deferred:
        await _find_incident_card(rt, incident)
    assert deferred.value.delay == 2.0 and not deferred.value.counts
    desk.slack.faults.clear()
    assert await _find_incident_card(rt, incident) == incident.card_ts
