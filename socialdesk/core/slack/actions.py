"""Clicks on a card: Claim, Reply, Note, Snooze, Close, the overflow (Assign, Unclaim,
Spam, Reopen), Resend/Discard of a failed reply, and picking a macro in the reply modal.

Every click is acknowledged at once; the work and the (ephemeral) answer follow. The
card itself changes through the outbox, like every other change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.slack import ticket_actions
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.history_modal import build_history_view
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, id_in, tell
from socialdesk.core.slack.macros import MacroContext, fill
from socialdesk.core.slack.masking import masked_message
from socialdesk.core.slack.modals import (
    Callbacks,
    Inputs,
    ModalState,
    assign_modal,
    triage_modal,
    note_modal,
    reply_modal,
    reply_text_block,
    selected,
    snooze_modal,
)
from socialdesk.core.slack.past_answers import past_answer_blocks, past_answers_of
from socialdesk.core.slack.reply_counter import counter_line
from socialdesk.core.slack.runtime import SlackRuntime
from socialdesk.core.ticket import ENDED_STATUSES
from socialdesk.core.triage import CATEGORIES

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
_OVERFLOW = re.compile(r"^(assign|unclaim|triage|spam|reopen|history):(\d{1,12})$")

Work = Callable[[Actor, int], Awaitable[str]]
MakeView = Callable[[Actor, int, str | None], Awaitable[View]]


async def build_reply_view(app: DeskApp, rt: SlackRuntime, ticket_id: int, actor: Actor, channel: str | None,
                           *, text: str = "", macro: str | None = None, close_after: bool = False,
                           generation: int = 0) -> View:
    details = await app.service.ticket_details(ticket_id)
    ticket = details.ticket
    inbound = [m for m in await app.service.messages_of(ticket_id) if m.direction == "inbound"]
    holder = ticket.assignee if ticket.assignee and ticket.assignee != actor.user_id and not actor.is_admin else None
    macros = await rt.macros()
    if macro is None and not text and ticket.suggested_macro in macros:
        macro = ticket.suggested_macro  # triage suggested one: preselect, and fill it in
        text = await _filled(app, rt, ticket_id, actor, macros[macro])
    shown = inbound[-1] if inbound else details.opening
    if shown is not None:
        shown, _ = await masked_message(app, shown)  # the form shows it masked too; Reveal is on the card
    limits = await app.hooks.reply_limits(ticket.platform)
    counter = counter_line(app.hooks.reply_length(ticket.platform, text), limits) if limits else None
    return reply_modal(ticket=ticket, author=details.author, message=shown,
                       inbound_count=len(inbound), limits=limits,
                       macros=macros, holder=holder, state=ModalState(ticket_id, channel, generation),
                       text=text, macro=macro, close_after=close_after, counter=counter,
                       extra_blocks=await app.hooks.reply_form_blocks(ticket, actor.user_id, generation),
                       trailing_blocks=past_answer_blocks(await past_answers_of(app, ticket)))


async def _filled(app: DeskApp, rt: SlackRuntime, ticket_id: int, actor: Actor, text: str) -> str:
    details = await app.service.ticket_details(ticket_id)
    context = MacroContext(details.author, await rt.agent_name(actor.user_id), details.ticket.ref,
                           details.ticket.platform)
    return fill(text, context)


async def fill_macro(app: DeskApp, rt: SlackRuntime, ticket_id: int, actor: Actor, name: str) -> str | None:
    text = (await rt.macros()).get(name)
    return await _filled(app, rt, ticket_id, actor, text) if text is not None else None


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    service = app.service

    def simple(action_id: str, work: Work) -> None:
        """A click that changes the ticket and answers in one line."""

        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            actor = await actor_or_refuse(rt, body, respond)
            number = id_in(body["actions"][0].get("value"))
            if actor is None or number is None:
                return
            try:
                answer = await work(actor, number)
            except DeskError as exc:
                answer = str(exc)
            await tell(respond, answer)

        bolt.action(action_id)(listener)

    async def close(actor: Actor, number: int) -> str:
        return await ticket_actions.close(service, actor, number)

    async def reopen(actor: Actor, number: int) -> str:
        return await ticket_actions.reopen(service, actor, number)

    async def unclaim(actor: Actor, number: int) -> str:
        return await ticket_actions.unclaim(service, actor, number)

    async def spam(actor: Actor, number: int) -> str:
        return await ticket_actions.spam(service, actor, number)

    async def resend(actor: Actor, reply_id: int) -> str:
        reply = await service.retry_reply(reply_id, actor)
        return f"The reply to #{reply.ticket_id} will be sent again."

    async def discard(actor: Actor, reply_id: int) -> str:
        reply = await service.discard_reply(reply_id, actor)
        return f"The reply to #{reply.ticket_id} is discarded; nothing more will be sent."

    # Claim (and the takeover it may offer) is registered by socialdesk.core.slack.takeover.
    simple(Actions.CLOSE, close)
    simple(Actions.REOPEN, reopen)
    simple(Actions.RESEND, resend)
    simple(Actions.DISCARD, discard)

    async def open_modal(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond,
                         make: MakeView) -> None:
        actor = await actor_or_refuse(rt, body, respond)
        number = id_in((body["actions"][0].get("selected_option") or {}).get("value", "").partition(":")[2]
                         if body["actions"][0].get("type") == "overflow" else body["actions"][0].get("value"))
        if actor is None or number is None:
            return
        try:
            view = await make(actor, number, channel_of(body))
            opened = await client.views_open(trigger_id=body["trigger_id"], view=view)
            if view.callback_id == Callbacks.REPLY:  # plugins may fill the open form in (drafts)
                await app.hooks.reply_form_opened(number, actor.user_id, opened["view"], channel_of(body))
        except DeskError as exc:
            await tell(respond, str(exc))
        except SlackApiError as exc:
            # Most often an expired trigger (the click is 3 seconds old): the agent clicks again.
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
            await tell(respond, "Slack would not open the form in time; please click again.")

    async def reply_view(actor: Actor, number: int, channel: str | None) -> View:
        return await build_reply_view(app, rt, number, actor, channel)

    async def note_view(actor: Actor, number: int, channel: str | None) -> View:
        details = await service.ticket_details(number)
        return note_modal(details.ticket, details.author, ModalState(number, channel))

    async def snooze_view(actor: Actor, number: int, channel: str | None) -> View:
        return snooze_modal(await service.get_ticket(number), ModalState(number, channel))

    async def assign_view(actor: Actor, number: int, channel: str | None) -> View:
        return assign_modal(await service.get_ticket(number), ModalState(number, channel))

    async def triage_view(actor: Actor, number: int, channel: str | None) -> View:
        ticket = await service.get_ticket(number)
        if ticket.status in ENDED_STATUSES:
            raise DeskError(f"#{number} is {ticket.status}; reopen it to correct its triage")
        return triage_modal(ticket, ModalState(number, channel), CATEGORIES)

    async def history_view(actor: Actor, number: int, channel: str | None) -> View:
        return await build_history_view(app, rt, number)

    def modal_button(action_id: str, make: MakeView) -> None:
        """A click that opens a form for the ticket."""

        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                           respond: AsyncRespond) -> None:
            await ack()
            await open_modal(body, client, respond, make)

        bolt.action(action_id)(listener)

    modal_button(Actions.REPLY, reply_view)
    modal_button(Actions.NOTE, note_view)
    modal_button(Actions.SNOOZE, snooze_view)

    @bolt.action(Actions.MORE)
    async def overflow(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        match = _OVERFLOW.match(str((body["actions"][0].get("selected_option") or {}).get("value", "")))
        if match is None:
            return
        choice, number = match.group(1), int(match.group(2))
        if choice == "assign":
            await open_modal(body, client, respond, assign_view)
            return
        if choice == "triage":
            await open_modal(body, client, respond, triage_view)
            return
        if choice == "history":
            await open_modal(body, client, respond, history_view)
            return
        actor = await actor_or_refuse(rt, body, respond)
        if actor is None:
            return
        work = {"unclaim": unclaim, "spam": spam, "reopen": reopen}[choice]
        try:
            answer = await work(actor, number)
        except DeskError as exc:
            answer = str(exc)
        await tell(respond, answer)

    @bolt.action(Actions.LINK)
    async def link_clicked(ack: AsyncAck) -> None:
        await ack()  # a link button opens its URL in the browser; Slack still reports the click

    @bolt.action(Inputs.MACRO_ACTION)
    async def macro_picked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A macro picked in the reply modal: refill the reply box with it."""
        await ack()
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        view = body.get("view") or {}
        choice = (body["actions"][0].get("selected_option") or {}).get("value")
        if actor is None or not choice or view.get("callback_id") is None:
            return
        state = ModalState.loads(view.get("private_metadata"))
        text = await fill_macro(app, rt, state.ticket_id, actor, str(choice))
        if text is None:
            return
        close_after = Inputs.CLOSE_AFTER in selected(view, Inputs.OPTIONS, Inputs.OPTIONS_ACTION)
        updated = await build_reply_view(app, rt, state.ticket_id, actor, state.channel, text=text, macro=str(choice),
                                         close_after=close_after, generation=state.generation + 1)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
        except SlackApiError as exc:  # the agent typed meanwhile (hash_conflict) or closed it
            log.info("reply modal not refilled", extra={"error": exc.response.get("error"),
                                                        "block": reply_text_block(view)})
