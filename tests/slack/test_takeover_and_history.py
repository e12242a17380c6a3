"""A Claim on someone else's ticket offers a confirmed takeover; the History modal shows the
ticket's timeline and the customer's other tickets (through Bolt, against the sandbox)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import Actor
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.history_modal import CALLBACK as HISTORY, EVENTS_PER_PAGE, NEXT_PAGE, event_line
from socialdesk.core.slack.takeover import TAKEOVER_ACTION
from socialdesk.sandbox.slack import payloads
from tests.conftest import mention
from tests.slack.conftest import ALICE, BOB, CHANNEL, ERIN, NO_STORMS, Desk, eventually


def takeover_click(desk: Desk, user: str, ephemeral_blocks: list[dict]) -> dict:
    """What Slack sends once ``user`` confirmed the dialog of the ephemeral's Take over button."""
    block = next(b for b in ephemeral_blocks if b["type"] == "actions")
    button = next(e for e in block["elements"] if e["action_id"] == TAKEOVER_ACTION)
    state = desk.slack.state
    channel = state.resolve_channel(CHANNEL, for_posting=False)
    return {
        **payloads._interaction(state, "block_actions", user, desk.slack.trigger_id(user)),
        "container": {"type": "message", "message_ts": state.ts.next(), "channel_id": channel.id,
                      "is_ephemeral": True},
        "channel": {"id": channel.id, "name": channel.name}, "state": {"values": {}},
        "response_url": desk.slack.response_url(channel.id, user, kind="actions"),
        "actions": [payloads.element_action(button, block["block_id"], state.ts.next())],
    }


async def test_a_lost_claim_offers_a_confirmed_takeover(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    await desk.app.service.claim(tid, Actor(ALICE))

    await desk.click(tid, Actions.CLAIM, user=BOB)
    [answer] = await desk.told(BOB)
    assert answer == f"#{tid} is claimed by <@{ALICE}>."
    offer = desk.slack.ephemerals(CHANNEL, BOB)[-1]
    button = next(e for b in offer.blocks if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"] == TAKEOVER_ACTION and button["value"] == f"{tid}:{ALICE}"
    confirm = button["confirm"]
    assert confirm["title"]["text"] == f"Take over #{tid}?" and f"<@{ALICE}>" in confirm["text"]["text"]
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Take over", "Cancel")
    assert (await desk.app.service.get_ticket(tid)).assignee == ALICE  # nothing changes before confirming

    await desk.send_interaction(takeover_click(desk, BOB, offer.blocks))
    answers = await desk.told(BOB, 2)
    assert answers[-1] == f"You have #{tid} now (taken over from <@{ALICE}>)."
    assert (await desk.app.service.get_ticket(tid)).assignee == BOB
    trail = await desk.app.service.audit_trail(tid)
    assert [(e.actor, e.details.get("takeover")) for e in trail if e.kind == "claimed"] == [(ALICE, False), (BOB, True)]

    # The same confirmation replayed, or from a stranger, changes nothing more.
    await desk.send_interaction(takeover_click(desk, BOB, offer.blocks))
    assert (await desk.told(BOB, 3))[-1] == f"#{tid} is already yours"
    await desk.send_interaction(takeover_click(desk, ERIN, offer.blocks))
    assert (await desk.told(ERIN))[-1].startswith("Only desk agents can do that")
    assert [e.kind for e in await desk.app.service.audit_trail(tid)].count("claimed") == 2


async def test_the_history_modal_shows_the_timeline_and_other_tickets(start_desk) -> None:
    desk = await start_desk("http", desk={"timezone": "Europe/Paris"}, plugins=NO_STORMS)
    tid = await desk.mention("My card was charged twice, mail me at ann@example.com", handle="ann")
    earlier = (await desk.app.service.ingest(mention(text="Older question", handle="Ann", author_id="u9"))).ticket_id
    unrelated = await desk.mention("Someone else", handle="zed", author_id="u7")
    await desk.app.service.claim(tid, Actor(ALICE))
    await desk.app.service.note(tid, Actor(ALICE), "Checked the payment provider")
    triaged = (await desk.app.service.get_ticket(tid)).priority
    await desk.app.service.correct_triage(tid, Actor(ALICE), priority=1)
    await desk.app.service.reply(tid, Actor(ALICE), "Sorry! Refund is on its way.")
    await desk.card(tid)
    await desk.settled()

    await desk.choose_in_overflow(tid, f"history:{tid}")
    view = await desk.view(ALICE, HISTORY)
    text = json.dumps(view.blocks, ensure_ascii=False)
    for expected in ("Ticket opened", "Claimed", "Internal note", "Checked the payment provider",
                     "Triage corrected", f"priority {triaged} → 1", "Reply written", "Reply posted",
                     "Sorry! Refund is on its way.", f"<@{ALICE}>", "CET", "times in Europe/Paris"):
        assert expected in text, expected
    assert "ann@example.com" not in text  # customer text masked, as on the card
    others = text.split("other tickets", 1)[1]
    assert f"#{earlier}" in others and f"#{unrelated}" not in others and f"#{tid} " not in others
    assert len(view.blocks) <= 100


async def test_a_long_history_is_paged(start_desk) -> None:
    desk = await start_desk("http", plugins=NO_STORMS)
    tid = await desk.mention()
    for n in range(EVENTS_PER_PAGE + 5):
        await desk.app.service.note(tid, Actor(ALICE), f"note {n}")
    await desk.card(tid)
    await desk.choose_in_overflow(tid, f"history:{tid}")
    view = await desk.view(ALICE, HISTORY)
    assert len(view.blocks) <= 100 and "Page 1 of 2" in json.dumps(view.blocks)
    assert (await desk.driver.click_in_view(view.id, NEXT_PAGE)).acked
    await eventually(lambda: "Page 2 of 2" in json.dumps(desk.slack.view(view.id).blocks), message="page 2")
    assert f"note {EVENTS_PER_PAGE + 4}" in json.dumps(desk.slack.view(view.id).blocks)


def test_sla_notices_and_system_events_read_plainly() -> None:
    at = datetime(2026, 12, 6, 13, 5, tzinfo=timezone.utc)
    breach = TicketEvent(EventKind.SLA_BREACHED, 42, "system", at, {"timer": "first_response", "due_at": "x"})
    assert event_line(breach, "Europe/Paris") == "*🚨 SLA breached* · first response\nthe desk · 2026-12-06 14:05 CET"
    takeover = TicketEvent(EventKind.CLAIMED, 42, BOB, at, {"takeover": True})
    assert event_line(takeover, "UTC") == f"*🙋 Claimed* · taken over\n<@{BOB}> · 2026-12-06 13:05 UTC"
