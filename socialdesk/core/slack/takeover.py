"""Claim from a click, and the takeover a click on someone else's ticket offers.

The card's Claim button and the App Home's share this path: one conditional claim in the
desk service, so exactly one of many simultaneous clicks wins. A click that loses to
another agent is told who holds the ticket and offered a "Take over" button whose
``confirm`` dialog (shown by Slack before anything is sent) names the holder; confirming
is the same audited takeover as ``/desk claim N --takeover``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from socialdesk.core.errors import ClaimedByOther, DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.escaping import cut
from socialdesk.core.slack.interaction import actor_or_refuse, id_in, tell
from socialdesk.core.slack.runtime import SlackRuntime
from socialdesk.core.slack.ticket_actions import TAKEOVER

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

TAKEOVER_ACTION = "desk.takeover"  # value: "<ticket id>:<holder the dialog named>"


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What a Claim click did: the line to tell the agent, and who holds it if they lost."""

    text: str
    holder: str | None = None


def takeover_button(ticket_id: int, holder: str, holder_name: str) -> ButtonElement:
    """A "Take over" button; Slack asks for confirmation (naming the holder) before sending the click."""
    return ButtonElement(
        text=f"Take over #{ticket_id}", action_id=TAKEOVER_ACTION, value=f"{ticket_id}:{holder}", style="danger",
        accessibility_label=cut(f"Take #{ticket_id} over from {holder_name}", 75),
        confirm=ConfirmObject(
            title=PlainTextObject(text=cut(f"Take over #{ticket_id}?", 100)),
            text=MarkdownTextObject(text=cut(
                f"#{ticket_id} is claimed by <@{holder}>. Taking it over makes it yours; the change is "
                f"recorded in the ticket's history, as `{TAKEOVER}` does.", 300)),
            confirm=PlainTextObject(text="Take over"),
            deny=PlainTextObject(text="Cancel"),
            style="danger",
        ),
    )


def takeover_offer(text: str, ticket_id: int, holder: str, holder_name: str) -> list[Block]:
    """The ephemeral answer to a lost claim: who holds it, and the confirmed takeover."""
    return [SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(block_id=f"takeover:{ticket_id}",
                         elements=[takeover_button(ticket_id, holder, holder_name)])]


async def claim(app: DeskApp, actor: Actor, ticket_id: int, *, takeover: bool = False,
                expected_holder: str | None = None) -> ClaimOutcome:
    """Claim (or take over) one ticket; the outcome in one line. ``expected_holder``: the
    holder the confirmation dialog named; if someone else holds it by now, nothing changes."""
    try:
        previous = (await app.service.get_ticket(ticket_id)).assignee if takeover else None
        if takeover and previous == actor.user_id:
            return ClaimOutcome(f"#{ticket_id} is already yours")
        if takeover and previous is not None and expected_holder is not None and previous != expected_holder:
            return ClaimOutcome(f"#{ticket_id} is held by <@{previous}> now, not <@{expected_holder}>; "
                                "nothing changed. Claim it again to take it over from them.", holder=previous)
        await app.service.claim(ticket_id, actor, takeover=takeover and previous is not None)
    except ClaimedByOther as exc:
        return ClaimOutcome(f"{exc}.", holder=exc.assignee)
    except DeskError as exc:
        return ClaimOutcome(str(exc))
    if previous and previous != actor.user_id:
        return ClaimOutcome(f"You have #{ticket_id} now (taken over from <@{previous}>).")
    return ClaimOutcome(f"You have #{ticket_id} now.")


def _number(body: dict[str, Any]) -> int | None:
    return id_in(str(body["actions"][0].get("value") or "").partition(":")[0])


def _named_holder(body: dict[str, Any]) -> str | None:
    holder = str(body["actions"][0].get("value") or "").partition(":")[2]
    return holder if holder.isalnum() and len(holder) <= 32 else None


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    @bolt.action(Actions.CLAIM)
    async def claim_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        number = _number(body)
        if actor is None or number is None:
            return
        outcome = await claim(app, actor, number)
        if outcome.holder is None:
            await tell(respond, outcome.text)
            return
        blocks = takeover_offer(outcome.text, number, outcome.holder, await rt.agent_name(outcome.holder))
        await tell(respond, outcome.text, blocks=blocks)

    @bolt.action(TAKEOVER_ACTION)
    async def takeover_confirmed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Slack sends this only after the agent confirmed the dialog."""
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        number = _number(body)
        if actor is None or number is None:
            return
        outcome = await claim(app, actor, number, takeover=True, expected_holder=_named_holder(body))
        if (body.get("container") or {}).get("type") == "view":
            # From the App Home (no response_url there): the outcome tops the republished Home.
            from socialdesk.core.slack.home_publisher import existing_publisher  # the Home builds on this module

            home = existing_publisher(rt)
            if home is not None:
                await home.publish(actor.user_id, notice=outcome.text)
            return
        await tell(respond, outcome.text)
