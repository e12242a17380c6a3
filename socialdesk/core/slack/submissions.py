"""Submitted modals: reply, note, snooze, assign, triage correction.

The desk does the change before acknowledging, because its verdict decides the answer:
accepted closes the modal, refused keeps it open with the reason under the input
(``response_action: errors``). These are single short transactions, well within
Slack's 3 seconds; a reply is only written here, and sent later by the outbox. A reply
still being written near the deadline (a loaded database) closes the form and, if it is
then refused, the agent is told by an ephemeral message that quotes their text.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from socialdesk.core.errors import ClaimedByOther, DeskError, ReplyRejected
from socialdesk.core.slack.actions import fill_macro
from socialdesk.core.slack.durations import snooze_until
from socialdesk.core.slack.escaping import cut, escape_text
from socialdesk.core.slack.interaction import tell_privately
from socialdesk.core.slack.modals import (
    Callbacks,
    Inputs,
    ModalState,
    error_text,
    reply_text_block,
    selected,
    selected_user,
    text_value,
)
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.replays import ack_budget
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
# Slack waits 3 seconds for a submission's answer; a reply not written by then closes the form.
SUBMIT_ACK_BUDGET_SECONDS = 2.0
MAX_QUOTED = 2500


def late_refusal(ticket_id: int, refused: DeskError, text: str) -> str:
    """What an agent is told when a reply is refused after its form closed: why, and their
    text (quoted, bounded) so that nothing they wrote is lost."""
    why = str(refused) if isinstance(refused, ReplyRejected) else f"Your reply to #{ticket_id} was not sent: {refused}"
    quoted = "\n".join(f"> {line}" for line in escape_text(cut(text, MAX_QUOTED)).splitlines()) or "> (empty)"
    return f"{why}\nWhat you wrote:\n{quoted}"


def _has_block(view: dict[str, Any], block_id: str) -> bool:
    return any(b.get("block_id") == block_id for b in view.get("blocks") or [])


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    service = app.service

    async def shown(message: str) -> str:
        return error_text(await rt.plain_mentions(message))

    @bolt.view(Callbacks.REPLY)
    async def reply_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                              context: dict[str, Any]) -> None:
        text_block = reply_text_block(view)
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={text_block: error_text(REFUSAL)})
            return
        state = ModalState.loads(view.get("private_metadata"))
        text = text_value(view, text_block)
        macro = selected(view, Inputs.MACRO, Inputs.MACRO_ACTION)
        if not text.strip() and macro:
            text = await fill_macro(app, rt, state.ticket_id, actor, macro[0]) or ""
        close_after = Inputs.CLOSE_AFTER in selected(view, Inputs.OPTIONS, Inputs.OPTIONS_ACTION)
        takeover = "yes" in selected(view, Inputs.TAKEOVER, Inputs.TAKEOVER_ACTION)
        writing = asyncio.ensure_future(
            service.reply(state.ticket_id, actor, text, close_after=close_after, takeover=takeover))
        done, _ = await asyncio.wait({writing}, timeout=ack_budget(context, SUBMIT_ACK_BUDGET_SECONDS))
        if not done:
            # Slower than Slack's deadline: close the form now (a form that timed out stays
            # open and invites a second Send); a refusal then comes as a message, with the text.
            await ack()
            try:
                await writing
            except DeskError as exc:
                await tell_privately(rt, state.channel, actor, late_refusal(state.ticket_id, exc, text))
            return
        try:
            writing.result()
        except ReplyRejected as exc:
            problems = "; ".join(exc.problems)
            await ack(response_action="errors", errors={text_block: await shown(f"Not sent: {problems}")})
        except ClaimedByOther as exc:
            if _has_block(view, Inputs.TAKEOVER):
                errors = {Inputs.TAKEOVER: await shown(f"{exc} — tick the box, then send")}
            else:
                errors = {text_block: await shown(f"{exc} (since this form opened) — cancel, then click Reply "
                                                  "again to take it over")}
            await ack(response_action="errors", errors=errors)
        except DeskError as exc:
            await ack(response_action="errors", errors={text_block: await shown(str(exc))})
        else:
            await ack()

    @bolt.view(Callbacks.NOTE)
    async def note_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={Inputs.NOTE: error_text(REFUSAL)})
            return
        state = ModalState.loads(view.get("private_metadata"))
        try:
            await service.note(state.ticket_id, actor, text_value(view, Inputs.NOTE))
        except DeskError as exc:
            await ack(response_action="errors", errors={Inputs.NOTE: await shown(str(exc))})
        else:
            await ack()

    @bolt.view(Callbacks.SNOOZE)
    async def snooze_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={Inputs.UNTIL: error_text(REFUSAL)})
            return
        state = ModalState.loads(view.get("private_metadata"))
        choice = selected(view, Inputs.UNTIL, Inputs.PICK)
        until = snooze_until(choice[0], app.clock(), app.config.desk.timezone) if choice else None
        if until is None:
            await ack(response_action="errors", errors={Inputs.UNTIL: "Pick how long to snooze it"})
            return
        try:
            await service.snooze(state.ticket_id, actor, until)
        except DeskError as exc:
            await ack(response_action="errors", errors={Inputs.UNTIL: await shown(str(exc))})
        else:
            await ack()

    @bolt.view(Callbacks.ASSIGN)
    async def assign_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={Inputs.ASSIGNEE: error_text(REFUSAL)})
            return
        state = ModalState.loads(view.get("private_metadata"))
        assignee = selected_user(view, Inputs.ASSIGNEE, Inputs.PICK)
        if not assignee:
            await ack(response_action="errors", errors={Inputs.ASSIGNEE: "Pick someone"})
            return
        if await rt.permissions.actor(assignee) is None:
            await ack(response_action="errors", errors={
                Inputs.ASSIGNEE: await shown(f"<@{assignee}> is not a desk agent; pick an agent")})
            return
        try:
            await service.assign(state.ticket_id, actor, assignee)
        except DeskError as exc:
            await ack(response_action="errors", errors={Inputs.ASSIGNEE: await shown(str(exc))})
        else:
            await ack()

    @bolt.view(Callbacks.TRIAGE)
    async def triage_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={Inputs.PRIORITY: error_text(REFUSAL)})
            return
        state = ModalState.loads(view.get("private_metadata"))
        priority = selected(view, Inputs.PRIORITY, Inputs.PICK)
        category = selected(view, Inputs.CATEGORY, Inputs.PICK)
        try:
            await service.correct_triage(state.ticket_id, actor, priority=int(priority[0]) if priority else None,
                                         category=category[0] if category else None)
        except DeskError as exc:
            await ack(response_action="errors", errors={Inputs.PRIORITY: await shown(str(exc))})
        else:
            await ack()
