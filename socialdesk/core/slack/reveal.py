"""Reveal: an agent asks to see the personal data hidden in a customer's message.

Only desk agents may; the reveal is written to the ticket's audit trail (``pii_revealed``,
who and which message) and committed *before* anything is shown, so there is no reveal
without its record. The original text goes only to the agent who asked, in an ephemeral
answer, escaped like every customer text; never into the channel.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from socialdesk.core.errors import DeskError
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import Actor
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.escaping import clean, fit
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, tell
from socialdesk.core.slack.runtime import SlackRuntime
from socialdesk.core.ticket import ticket_ref
from socialdesk.core.store.ticket_queries import MessageSnapshot
from socialdesk.core.store.tickets import ChangeLog

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
CHUNK_CHARS = 2500  # raw characters per section: escaped, they stay under Slack's 3000
MAX_SECTIONS = 8  # mentions are at most 10,000 characters; 8 x 2500 covers them


class NothingToReveal(DeskError):
    """The button points at no customer message (deleted, or not a customer's)."""


async def record_reveal(app: DeskApp, actor: Actor, message: MessageSnapshot, channel: str | None) -> TicketEvent:
    """Write the audit event (committed), then tell the observers, like every ticket event."""
    changes = ChangeLog()
    async with app.database.transaction() as session:
        changes.record(session, EventKind.PII_REVEALED, message.ticket_id, actor.user_id, app.clock(),
                       message_id=message.id, channel=channel)
    for event in changes.events:
        await app.hooks.ticket_event(event)
    return changes.events[0]


async def revealable_message(app: DeskApp, message_id: int) -> MessageSnapshot:
    message = await app.service.get_message(message_id)
    if message is None or message.direction != "inbound":
        raise NothingToReveal(f"There is no customer message {message_id} to reveal.")
    return message


def reveal_blocks(message: MessageSnapshot) -> list[Block]:
    raw = clean(message.text).strip() or "(no text)"
    chunks = [raw[i:i + CHUNK_CHARS] for i in range(0, len(raw), CHUNK_CHARS)][:MAX_SECTIONS]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"🔓 *Only you can see this.* The original message of {ticket_ref(message.ticket_id)}, personal "
             "data included. Your reveal is recorded in the ticket's audit trail.", verbatim=True))]
    blocks += [SectionBlock(text=PlainTextObject(text=fit(chunk, 3000), emoji=False)) for chunk in chunks]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Do not copy it into the card, a note or a public reply.", verbatim=True)]))
    return blocks


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    @bolt.action(Actions.REVEAL)
    async def reveal(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        value = str(body["actions"][0].get("value") or "")
        if actor is None or not value.isdigit():
            return
        try:
            message = await revealable_message(app, int(value))
            await record_reveal(app, actor, message, channel_of(body))
        except DeskError as exc:
            await tell(respond, str(exc))
            return
        log.info("personal data revealed", extra={"ticket": message.ticket_id, "message_id": message.id,
                                                  "user": actor.user_id})
        await tell(respond, f"The original message of {ticket_ref(message.ticket_id)} (only you can see it).",
                   blocks=[b.to_dict() for b in reveal_blocks(message)])
