"""The reply form's similar past answers, through the real Bolt app and the Slack sandbox:
shown escaped and masked, and "Use this answer" fills the reply box for this customer."""

from __future__ import annotations

from typing import Any

from socialdesk.core.extensions import Actor
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.core.slack.past_answers import BLOCK_PREFIX, USE_ACTION
from socialdesk.core.ticket import TicketStatus
from socialdesk.sandbox.slack import payloads
from tests.conftest import mention
from tests.slack.conftest import ALICE, BOB, NO_STORMS, Desk, eventually

# A loaded test machine may be slower than a desk: the form waits as long as Slack allows.
PLUGINS = {**NO_STORMS, "suggestions": {"lookup_budget_seconds": 2.0}}


async def answered_by_bob(desk: Desk, text: str, answer: str, handle: str) -> tuple[int, int]:
    """(ticket id, reply id) of a conversation Bob answered and closed."""
    tid = await desk.mention(text, author_id=f"id-{handle}", handle=handle)
    reply = await desk.app.service.reply(tid, Actor(BOB), answer, close_after=True)

    async def closed() -> bool:
        return (await desk.app.service.get_ticket(tid)).status == TicketStatus.CLOSED

    await eventually(closed, message=f"#{tid} answered and closed")
    return tid, reply.id


async def open_reply(desk: Desk, tid: int) -> Any:
    await desk.card(tid)
    await desk.click(tid, Actions.REPLY, user=ALICE)
    return await desk.view(ALICE, Callbacks.REPLY)


async def use_answer(desk: Desk, view: Any, reply_id: int) -> None:
    block = next(b for b in view.blocks if b.get("block_id") == f"{BLOCK_PREFIX}{reply_id}")
    assert block["accessory"]["action_id"] == USE_ACTION
    state = desk.slack.state
    await desk.send_interaction(payloads.view_actions(
        state, user_id=view.user, view=view, trigger=desk.slack.trigger_id(view.user),
        action=payloads.element_action(block["accessory"], block["block_id"], state.ts.next())))


async def test_use_this_answer_fills_the_box_with_the_variables_of_this_ticket(start_desk) -> None:
    desk = await start_desk("http", plugins=PLUGINS)
    old, reply_id = await answered_by_bob(
        desk, "<!channel> my order never arrived, I want a refund. Mail me: jo@example.com",
        "Hi @jo_customer, sorry! Your refund for the order is issued. — bob", handle="jo_customer")
    tid = (await desk.app.service.ingest(mention(text="my order never arrived, refund please", author_id="id-sam",
                                                 handle="sam"))).ticket_id
    view = await open_reply(desk, tid)
    shown = next(b for b in view.blocks if b.get("block_id") == f"{BLOCK_PREFIX}{reply_id}")
    text = shown["text"]["text"]
    assert text.startswith(f"*#{old}* on testnet · no CSAT · ")
    assert "[email hidden]" in text and "jo@example.com" not in text
    assert "<!channel>" not in text and "&lt;!\u2060channel&gt;" in text  # shown, never a ping
    assert "Hi {author}, sorry! Your refund for the order is issued." in text

    await use_answer(desk, view, reply_id)
    await eventually(lambda: view.history, message="views.update refilled the box")
    box = next(b for b in view.blocks if b.get("block_id", "").startswith(Inputs.REPLY_TEXT))
    expected = "Hi sam, sorry! Your refund for the order is issued. — alice"
    assert box["block_id"] == f"{Inputs.REPLY_TEXT}_1" and box["element"]["initial_value"] == expected
    delivery = await desk.driver.submit_view(view.id, {})  # sent as filled in, after the agent's Send only
    assert delivery.outcome == "closed"
    await eventually(lambda: any(p.text == expected for p in desk.platform.posted))


async def test_the_form_opens_without_suggestions_when_nothing_alike_was_answered(start_desk) -> None:
    desk = await start_desk("http", plugins=PLUGINS)
    await answered_by_bob(desk, "Love the new dark mode!", "Thank you!", handle="fan")
    tid = await desk.mention("My order never arrived", author_id="id-sam", handle="sam")
    view = await open_reply(desk, tid)
    assert not any(str(b.get("block_id", "")).startswith(BLOCK_PREFIX) for b in view.blocks)
    assert view.blocks[-1]["block_id"] == Inputs.OPTIONS  # the form as it was
