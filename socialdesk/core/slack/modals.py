"""The desk's modals: reply, note, snooze, assign and triage correction, and reading what was submitted.

A modal carries its ticket in ``private_metadata`` (JSON). Input blocks have fixed ids
so the server's validation errors appear under the right input (``response_action:
errors``). The reply box's block id changes with each macro fill: Slack keeps what a
person typed in an input whose block id it has seen, so a new id is how the box is
refilled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from socialdesk.core.platform import ReplyLimits
from socialdesk.core.service import MAX_NOTE_CHARS
from socialdesk.core.slack.durations import SNOOZE_CHOICES
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, one_line
from socialdesk.core.slack.reply_counter import CHARACTER_ENTERED, counter_block
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.store.ticket_queries import AuthorSnapshot, MessageSnapshot


class Callbacks:
    REPLY = "desk.reply_modal"
    NOTE = "desk.note_modal"
    SNOOZE = "desk.snooze_modal"
    ASSIGN = "desk.assign_modal"
    TRIAGE = "desk.triage_modal"


class Inputs:
    """block ids (and action ids) of the modals' inputs."""

    REPLY_TEXT = "reply_text"  # + "_<generation>" as block id; action id "text"
    TEXT_ACTION = "text"
    MACRO = "macro"
    MACRO_ACTION = "desk.reply_macro"  # dispatches a block_actions when a macro is picked
    OPTIONS = "options"
    OPTIONS_ACTION = "pick"
    CLOSE_AFTER = "close_after"
    TAKEOVER = "takeover"
    TAKEOVER_ACTION = "confirm"
    NOTE = "note"
    UNTIL = "until"
    ASSIGNEE = "assignee"
    PICK = "pick"
    PRIORITY = "priority"
    CATEGORY = "category"


MAX_SLACK_INPUT = 3000
MAX_MESSAGE_SHOWN = 2900
MAX_MACRO_OPTIONS = 100


@dataclass(frozen=True, slots=True)
class ModalState:
    """What a modal remembers about itself, in ``private_metadata``."""

    ticket_id: int
    channel: str | None = None
    generation: int = 0  # bumped on each macro fill

    def dumps(self) -> str:
        return json.dumps({"t": self.ticket_id, "c": self.channel, "g": self.generation})

    @classmethod
    def loads(cls, raw: str | None) -> ModalState:
        data = json.loads(raw or "{}")
        return cls(int(data["t"]), data.get("c"), int(data.get("g", 0)))


def _title(text: str) -> PlainTextObject:
    return PlainTextObject(text=cut(text, 24))


def _ticket_heading(ticket: TicketSnapshot, author: AuthorSnapshot | None) -> SectionBlock:
    who = escape_mrkdwn(cut(one_line("@" + author.handle), 80)) if author else "the customer"
    return SectionBlock(text=MarkdownTextObject(
        text=f"*{ticket.ref}* on {escape_mrkdwn(ticket.platform)} · *{who}* wrote:", verbatim=True))


def limit_hint(limits: ReplyLimits | None, platform: str) -> str:
    if limits is None:
        return f"No plugin sends replies on {platform}: ask an admin to enable it."
    return f"{limits.max_length} {limits.unit} at most on {platform}."


def reply_modal(*, ticket: TicketSnapshot, author: AuthorSnapshot | None, message: MessageSnapshot | None,
                inbound_count: int, limits: ReplyLimits | None, macros: dict[str, str], holder: str | None,
                state: ModalState, text: str = "", macro: str | None = None, close_after: bool = False,
                extra_blocks: list[Block] | None = None, trailing_blocks: Sequence[Block] = (),
                counter: str | None = None) -> View:
    """``holder``: who else holds the ticket (the agent must confirm a takeover), if anyone.
    ``extra_blocks``: plugins' blocks (``socialdesk_reply_form_blocks``), shown above the reply box;
    ``trailing_blocks`` go at the end of the form (similar past answers);
    ``counter``: the live counter's line for ``text`` (the box then reports typing)."""
    blocks: list[Block] = [_ticket_heading(ticket, author)]
    said = message.text.strip() if message and message.text.strip() else "(no text)"
    blocks.append(SectionBlock(text=PlainTextObject(text=fit(cut(said, 2000), MAX_MESSAGE_SHOWN), emoji=False)))
    if inbound_count > 1:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"The latest of {inbound_count} messages; the card's thread has the conversation.")]))
    if holder:
        blocks.append(InputBlock(
            block_id=Inputs.TAKEOVER, label=f"{ticket.ref} is claimed by someone else", optional=True,
            element=CheckboxesElement(action_id=Inputs.TAKEOVER_ACTION, options=[
                Option(text=MarkdownTextObject(text=f"Take {ticket.ref} over from <@{holder}>"), value="yes")]),
        ))
    blocks.extend(extra_blocks or [])
    box = PlainTextInputElement(action_id=Inputs.TEXT_ACTION, multiline=True, initial_value=text or None,
                                placeholder="Write the public reply (or pick a macro)")
    if limits is not None and limits.unit == "characters":
        # The platform counts plain characters: Slack can stop the agent at the limit as
        # they type. The server checks again (and checks weighted counts) on submit.
        box.max_length = min(limits.max_length, MAX_SLACK_INPUT)
    if counter is not None:
        box.dispatch_action_config = CHARACTER_ENTERED  # the live counter (reply_counter_actions)
    blocks.append(InputBlock(block_id=f"{Inputs.REPLY_TEXT}_{state.generation}", label="Your reply",
                             hint=limit_hint(limits, ticket.platform), element=box, optional=True,
                             dispatch_action=counter is not None))
    if counter is not None:
        blocks.append(counter_block(counter))
    if macros:
        options = [Option(text=cut(name, 75), value=name) for name in sorted(macros)][:MAX_MACRO_OPTIONS]
        chosen = next((o for o in options if o.value == macro), None)
        blocks.append(InputBlock(
            block_id=Inputs.MACRO, label="Macro", optional=True, dispatch_action=True,
            hint="Picking one fills in the reply; {author}, {agent} and the other variables are filled in.",
            element=StaticSelectElement(action_id=Inputs.MACRO_ACTION, placeholder="Pick a macro", options=options,
                                        initial_option=chosen),
        ))
    close_option = Option(text="Close the ticket after sending", value=Inputs.CLOSE_AFTER)
    blocks.append(InputBlock(
        block_id=Inputs.OPTIONS, label="After sending", optional=True,
        element=CheckboxesElement(action_id=Inputs.OPTIONS_ACTION, options=[close_option],
                                  initial_options=[close_option] if close_after else None),
    ))
    blocks.extend(trailing_blocks)
    return View(type="modal", callback_id=Callbacks.REPLY, title=_title(f"Reply to {ticket.ref}"),
                submit=PlainTextObject(text="Send"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=blocks)


def note_modal(ticket: TicketSnapshot, author: AuthorSnapshot | None, state: ModalState) -> View:
    return View(type="modal", callback_id=Callbacks.NOTE, title=_title(f"Note on {ticket.ref}"),
                submit=PlainTextObject(text="Add note"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=[
                    _ticket_heading(ticket, author),
                    InputBlock(block_id=Inputs.NOTE, label="Internal note (never shown to the customer)",
                               element=PlainTextInputElement(action_id=Inputs.TEXT_ACTION, multiline=True,
                                                             max_length=MAX_NOTE_CHARS)),
                ])


def snooze_modal(ticket: TicketSnapshot, state: ModalState) -> View:
    options = [Option(text=label, value=value) for value, label in SNOOZE_CHOICES]
    return View(type="modal", callback_id=Callbacks.SNOOZE, title=_title(f"Snooze {ticket.ref}"),
                submit=PlainTextObject(text="Snooze"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=[
                    InputBlock(block_id=Inputs.UNTIL, label="Hide it until",
                               element=RadioButtonsElement(action_id=Inputs.PICK, options=options,
                                                           initial_option=options[0])),
                ])


def assign_modal(ticket: TicketSnapshot, state: ModalState) -> View:
    return View(type="modal", callback_id=Callbacks.ASSIGN, title=_title(f"Assign {ticket.ref}"),
                submit=PlainTextObject(text="Assign"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=[
                    InputBlock(block_id=Inputs.ASSIGNEE, label="Give it to",
                               element=UserSelectElement(action_id=Inputs.PICK, placeholder="Pick an agent")),
                ])


def triage_modal(ticket: TicketSnapshot, state: ModalState, categories: tuple[str, ...]) -> View:
    """Correct the priority and/or category; what the agent picks is a label the desk's model learns from."""
    priorities = [Option(text=f"P{p}", value=str(p)) for p in range(1, 5)]
    kinds = [Option(text=c, value=c) for c in categories]
    current_kind = next((o for o in kinds if o.value == ticket.category), None)
    return View(type="modal", callback_id=Callbacks.TRIAGE, title=_title(f"Triage {ticket.ref}"),
                submit=PlainTextObject(text="Correct"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=[
                    InputBlock(block_id=Inputs.PRIORITY, label="Priority",
                               element=StaticSelectElement(action_id=Inputs.PICK, options=priorities,
                                                           initial_option=priorities[ticket.priority - 1]
                                                           if 1 <= ticket.priority <= 4 else None)),
                    InputBlock(block_id=Inputs.CATEGORY, label="Category",
                               element=StaticSelectElement(action_id=Inputs.PICK, options=kinds,
                                                           initial_option=current_kind)),
                    ContextBlock(elements=[MarkdownTextObject(
                        text="Your correction is audited, updates the card and teaches this desk's triage model.")]),
                ])


# --- reading a submission ---------------------------------------------------------------------------


def _values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return ((view.get("state") or {}).get("values")) or {}


def text_value(view: dict[str, Any], block_id: str, action_id: str = Inputs.TEXT_ACTION) -> str:
    return str(((_values(view).get(block_id) or {}).get(action_id) or {}).get("value") or "")


def reply_text_block(view: dict[str, Any]) -> str:
    """The block id of the reply box (it changes with macro fills)."""
    for block_id in _values(view):
        if block_id.startswith(Inputs.REPLY_TEXT):
            return block_id
    return f"{Inputs.REPLY_TEXT}_0"


def selected(view: dict[str, Any], block_id: str, action_id: str) -> list[str]:
    state = (_values(view).get(block_id) or {}).get(action_id) or {}
    if state.get("selected_option"):
        return [str(state["selected_option"]["value"])]
    return [str(o["value"]) for o in state.get("selected_options") or []]


def selected_user(view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    state = (_values(view).get(block_id) or {}).get(action_id) or {}
    return state.get("selected_user")


def error_text(message: str) -> str:
    """Slack shows errors under an input; keep them readable there."""
    return cut(message, 280)
