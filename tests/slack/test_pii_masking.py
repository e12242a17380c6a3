"""Personal data on Slack: hidden on the card, in its thread and in the reply form; shown
only to an agent who clicks Reveal, ephemerally, after an audit record is committed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor, TextSpan
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.hooks import MASKING_FAILED
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.escaping import escape_text
from socialdesk.core.slack.masking import FAILED_TEXT, apply_spans, masked, merge_spans
from socialdesk.core.slack.modals import Callbacks
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.reveal import reveal_blocks
from socialdesk.core.store.ticket_queries import MessageSnapshot
from socialdesk.sandbox.slack import payloads, validate_message_blocks
from tests.slack.conftest import ALICE, CHANNEL, ERIN, Desk, eventually, start_running

EMAIL = "jo.doe@example.com"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"
SECRET_TEXT = f"I was charged twice! Mail {EMAIL}, call {PHONE}, card {CARD}"


def everything_shown(desk: Desk) -> str:
    """Every message and thread reply the desk posted in the channel, as JSON."""
    timeline = desk.slack.state.timeline(CHANNEL)
    shown = []
    for message in desk.slack.timeline(CHANNEL):
        for m in timeline.thread(message.ts) or [message]:
            shown.append({"text": m.text, "blocks": m.blocks})
    return json.dumps(shown, ensure_ascii=False)


def reveal_button(blocks: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return next((e for b in blocks or [] if b["type"] == "actions" for e in b["elements"]
                 if e.get("action_id") == Actions.REVEAL), None)


# --- spans to text ----------------------------------------------------------------------------


def test_overlapping_spans_are_merged_and_replaced_before_escaping() -> None:
    text = "card 4111 1111 1111 1111 ok"
    spans = [TextSpan(5, 24, "card number"), TextSpan(10, 19, "phone"), TextSpan(0, 0, "empty"),
             TextSpan(20, 99, "past the end")]
    assert merge_spans(spans, len(text)) == [TextSpan(5, len(text), "card number")]
    assert apply_spans(text, [TextSpan(5, 24, "card number"), TextSpan(10, 19, "phone")]).text == \
        "card [card number hidden] ok"
    two = apply_spans("a@b.io and c@d.io", [TextSpan(11, 17, "email"), TextSpan(0, 6, "email")])
    assert two.text == "[email hidden] and [email hidden]" and two.hidden == 2
    assert apply_spans("nothing", []).changed is False
    assert apply_spans("whole", [TextSpan(0, 5, MASKING_FAILED)]).text == FAILED_TEXT
    # a plugin's label is shown on one line, shortened; the card escapes it with the rest
    assert apply_spans("x", [TextSpan(0, 1, "a\nb " + "z" * 60)]).text.startswith("[a b zzz")


async def test_masked_is_the_one_function_other_cards_use(app) -> None:  # type: ignore[no-untyped-def]
    assert await masked(app, f"write to {EMAIL}\u200b please") == "write to [email hidden] please"
    # a zero-width space inside the address does not hide it from the detector
    assert await masked(app, "jo.doe@exa\u200bmple.com") == "[email hidden]"


def test_the_reveal_answer_is_escaped_and_fits_slack() -> None:
    text = "<!channel> " + EMAIL + " " + "x" * 9000
    message = MessageSnapshot(5, 42, "testnet", "p1", "inbound", 1, None, text, None, True, None)  # type: ignore[arg-type]
    blocks = [b.to_dict() for b in reveal_blocks(message)]
    assert validate_message_blocks(blocks) == []
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in shown and "&lt;!\u2060channel&gt;" in shown and escape_text(EMAIL) in shown
    assert sum(len(b["text"]["text"]) for b in blocks[1:-1]) >= len(text)


# --- on Slack ---------------------------------------------------------------------------------


async def test_the_card_hides_personal_data_and_an_agent_reveals_it_ephemerally(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention(SECRET_TEXT)
    card = await desk.card(tid)
    shown = desk.card_text(card) + card.text
    for secret in ("jo.doe", "example.com", PHONE, CARD, "7946", "1111"):  # raw or escaped, none of it
        assert secret not in shown, secret
    for placeholder in ("[email hidden]", "[phone hidden]", "[card number hidden]"):
        assert placeholder in desk.card_text(card), placeholder
    assert "[email hidden]" in card.text  # the notification text too
    assert "suggest moving to a private channel" in desk.card_text(card)  # triage's reason
    assert "*Personal data*" in desk.card_text(card)  # the plugin's card line
    button = reveal_button(card.blocks)
    assert button is not None
    opening = (await desk.app.service.messages_of(tid))[0]
    assert button["value"] == str(opening.id)

    await desk.click(tid, Actions.REVEAL, user=ALICE)
    await eventually(lambda: desk.slack.ephemerals(CHANNEL, ALICE), message="reveal answer")
    (answer,) = desk.slack.ephemerals(CHANNEL, ALICE)
    revealed = json.dumps(answer.blocks, ensure_ascii=False)
    assert escape_text(EMAIL) in revealed and PHONE in revealed and CARD in revealed
    assert "jo.doe" not in answer.text  # the notification line carries no customer text
    trail = await desk.app.service.audit_trail(tid)
    (event,) = [e for e in trail if e.kind == EventKind.PII_REVEALED]
    assert event.actor == ALICE and event.details["message_id"] == opening.id
    assert event.details["channel"] == CHANNEL
    # nothing of it reached the channel
    await desk.settled()
    assert "jo.doe" not in everything_shown(desk) and CARD not in everything_shown(desk)


async def test_a_card_without_personal_data_has_no_reveal_button(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("Order 2125551234 placed 2026-11-02 at 10:30 never arrived, v1.2.3")
    card = await desk.card(tid)
    assert reveal_button(card.blocks) is None
    assert "hidden]" not in desk.card_text(card)
    assert "2125551234" in desk.card_text(card)
    assert "pii" not in (await desk.app.service.get_ticket(tid)).tags


async def test_someone_who_is_not_an_agent_cannot_reveal(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention(SECRET_TEXT)
    await desk.card(tid)
    await desk.click(tid, Actions.REVEAL, user=ERIN)
    (refusal,) = await desk.told(ERIN)
    assert refusal == REFUSAL
    assert "jo.doe" not in json.dumps([e.blocks for e in desk.slack.ephemerals(CHANNEL, ERIN)])
    assert not [e for e in await desk.app.service.audit_trail(tid) if e.kind == EventKind.PII_REVEALED]


async def test_follow_ups_in_the_thread_are_masked_with_their_own_reveal(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("My order never arrived")
    card = await desk.card(tid)
    conversation = (await desk.app.service.get_ticket(tid)).conversation_id
    await desk.mention(f"you can reach me at {EMAIL}", conversation_id=conversation)
    await desk.settled()
    (follow_up,) = desk.slack.thread(CHANNEL, card.ts)[1:]
    posted = json.dumps({"text": follow_up.text, "blocks": follow_up.blocks}, ensure_ascii=False)
    assert "jo.doe" not in posted and "[email hidden]" in posted
    button = reveal_button(follow_up.blocks)
    assert button is not None
    message_id = int(button["value"])
    assert (await desk.app.service.get_message(message_id)).text.endswith(EMAIL)  # type: ignore[union-attr]
    # the card now carries the tag and the suggestion, but its own (clean) message has no button
    card = desk.slack.message(CHANNEL, card.ts)
    assert reveal_button(card.blocks) is None and "*Personal data*" in desk.card_text(card)

    delivery = await desk.driver.click(CHANNEL, follow_up.ts, Actions.REVEAL, user=ALICE)
    assert delivery.acked
    await eventually(lambda: desk.slack.ephemerals(CHANNEL, ALICE), message="reveal answer")
    assert escape_text(EMAIL) in json.dumps(desk.slack.ephemerals(CHANNEL, ALICE)[0].blocks, ensure_ascii=False)
    (event,) = [e for e in await desk.app.service.audit_trail(tid) if e.kind == EventKind.PII_REVEALED]
    assert event.details["message_id"] == message_id


async def test_a_forged_reveal_of_a_note_reveals_nothing(start_desk) -> None:
    """The button's value is a message id: one that is not a customer's message (here an
    internal note) is refused, and nothing is recorded."""
    desk = await start_desk("http")
    tid = await desk.mention(SECRET_TEXT)
    await desk.card(tid)
    await desk.app.service.note(tid, Actor(ALICE), "internal: customer seems upset")
    note = next(m for m in await desk.app.service.messages_of(tid) if m.direction == "note")
    ticket = await desk.app.service.get_ticket(tid)
    message = desk.slack.message(CHANNEL, ticket.card_ts or "")
    assert message is not None
    block = next(b for b in message.blocks or [] if reveal_button([b]))
    element = {**(reveal_button([block]) or {}), "value": str(note.id)}
    state = desk.slack.state
    channel = state.resolve_channel(CHANNEL, for_posting=False)
    await desk.send_interaction(payloads.message_actions(
        state, user_id=ALICE, channel=channel, message=message,
        action=payloads.element_action(element, block["block_id"], state.ts.next()),
        trigger=desk.slack.trigger_id(ALICE), state_values={},
        response_url=desk.slack.response_url(channel.id, ALICE, kind="actions", message_ts=message.ts)))
    (answer,) = await desk.told(ALICE)
    assert answer == f"There is no customer message {note.id} to reveal."
    assert not [e for e in await desk.app.service.audit_trail(tid) if e.kind == EventKind.PII_REVEALED]


async def test_the_reply_form_shows_the_message_masked(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention(SECRET_TEXT)
    await desk.card(tid)
    await desk.click(tid, Actions.REPLY, user=ALICE)
    view = await desk.view(ALICE, Callbacks.REPLY)
    shown = json.dumps(view.blocks, ensure_ascii=False)
    assert "jo.doe" not in shown and CARD not in shown and "[email hidden]" in shown


class BrokenMasker:
    @hookimpl
    def socialdesk_mask_spans(self, text: str) -> list[TextSpan]:
        raise RuntimeError(f"cannot parse {text}")


class WrongAnswerMasker:
    @hookimpl
    def socialdesk_mask_spans(self, text: str) -> Any:
        return [(0, 3, "email")]  # tuples, not TextSpans


@pytest.mark.parametrize("masker", [BrokenMasker, WrongAnswerMasker])
async def test_a_failing_masking_plugin_hides_the_whole_text(make_app, masker, caplog) -> None:  # type: ignore[no-untyped-def]
    app = await make_app(extra=[PluginEntry("masker", masker(), "test", True)])
    text = f"hello, this is {EMAIL}"
    assert await app.hooks.mask_spans(text) == [TextSpan(0, len(text), MASKING_FAILED)]
    assert await masked(app, text) == FAILED_TEXT
    assert await app.hooks.mask_spans("") == []
    failures = [r for r in caplog.records if r.getMessage().startswith("masking plugin failed")]
    assert failures and all(EMAIL not in str(vars(r)) for r in failures)


async def test_a_failing_masking_plugin_hides_the_card_text(start_desk) -> None:
    desk = await start_desk("http", start=False)
    desk.app.pm.register(BrokenMasker(), name="masker")
    await start_running(desk)
    tid = await desk.mention("Hello! My name is Jo and I live at 1 Main Street")
    card = await desk.card(tid)
    assert FAILED_TEXT in desk.card_text(card) and "Main Street" not in desk.card_text(card) + card.text
    assert reveal_button(card.blocks) is not None  # the agent can still read it, audited
