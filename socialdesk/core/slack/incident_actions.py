"""Clicks on an incident card: "Reply to all" (a modal, then one bulk reply) and "Close all".

Agents only, like every desk action. The bulk reply's texts are checked before the modal
closes (problems appear under the text box, nothing is written); the replies are then
written in one transaction and the agent is told, ephemerally, how many were queued.
Writing after the acknowledgement keeps Slack's 3-second deadline for any storm size.
A second submission (double click, another agent) answers nobody twice: each ticket's
bulk reply has its own unique key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.incidents.service import (
    BulkPlan, BulkReplyRejected, BulkReplyResult, CloseAllResult, IncidentService,
)
from socialdesk.core.slack.escaping import cut, escape_text, fit
from socialdesk.core.slack.incident_card import IncidentActions
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, id_in, tell, tell_privately
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.modals import MAX_MACRO_OPTIONS, MAX_SLACK_INPUT, error_text, selected, text_value
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.replays import ack_budget
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


class IncidentInputs:
    TEXT = "incident_text"
    TEXT_ACTION = "text"
    MACRO = "incident_macro"
    MACRO_ACTION = "pick"
    OPTIONS = "incident_options"
    OPTIONS_ACTION = "pick"
    CLOSE_AFTER = "close_after"


REPLY_ALL_CALLBACK = "desk.incident_reply_all_modal"
# Slack waits 3 seconds for the submission; planning that takes longer closes the form.
REPLY_ALL_ACK_BUDGET_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class IncidentModalState:
    incident_id: int
    channel: str | None = None

    def dumps(self) -> str:
        return json.dumps({"i": self.incident_id, "c": self.channel})

    @classmethod
    def loads(cls, raw: str | None) -> IncidentModalState:
        data = json.loads(raw or "{}")
        return cls(int(data["i"]), data.get("c"))


def reply_all_modal(incident_id: int, *, open_tickets: int, title: str, macros: dict[str, str],
                    state: IncidentModalState) -> View:
    """``title``: the storm's text, masked (escaped here)."""
    blocks: list[Block] = [
        SectionBlock(text=PlainTextObject(text=fit(cut(
            f"Answer the {open_tickets:,} open conversations of incident #{incident_id}, once each, in their "
            f"threads. They said: {title}", 1500), 2900), emoji=False)),
        InputBlock(block_id=IncidentInputs.TEXT, label="Reply to all", optional=True,
                   hint="{name} and {handle} become each author's name and @handle; {ticket} and {platform} "
                        "work too. Every text is checked against each platform's limit before anything is sent.",
                   element=PlainTextInputElement(action_id=IncidentInputs.TEXT_ACTION, multiline=True,
                                                 max_length=MAX_SLACK_INPUT,
                                                 placeholder="Hi {name}, we know about it and are on it…")),
    ]
    if macros:
        options = [Option(text=cut(name, 75), value=name) for name in sorted(macros)][:MAX_MACRO_OPTIONS]
        blocks.append(InputBlock(
            block_id=IncidentInputs.MACRO, label="…or a macro", optional=True,
            hint="Used when the box above is empty; {author} and {handle} are filled per author.",
            element=StaticSelectElement(action_id=IncidentInputs.MACRO_ACTION, placeholder="Pick a macro",
                                        options=options)))
    blocks.append(InputBlock(
        block_id=IncidentInputs.OPTIONS, label="After sending", optional=True,
        element=CheckboxesElement(action_id=IncidentInputs.OPTIONS_ACTION, options=[
            Option(text="Close each ticket after its reply is sent", value=IncidentInputs.CLOSE_AFTER)])))
    return View(type="modal", callback_id=REPLY_ALL_CALLBACK, title=PlainTextObject(text=f"Incident #{incident_id}"[:24]),
                submit=PlainTextObject(text="Send to all"), close=PlainTextObject(text="Cancel"),
                private_metadata=state.dumps(), blocks=blocks)


def bulk_answer(incident_id: int, result: BulkReplyResult) -> str:
    parts = [f"{result.queued:,} replies to incident #{incident_id} are on their way, at the platform's pace."]
    if result.already:
        parts.append(f"{result.already:,} conversations had this incident's reply already and get no second one.")
    if result.held:
        shown = ", ".join(f"#{t}" for t in result.held[:10]) + (" and more" if len(result.held) > 10 else "")
        parts.append(f"Left out, held by someone else: {shown}.")
    return " ".join(parts)


def close_answer(incident_id: int, result: CloseAllResult) -> str:
    answer = f"Closed {result.closed:,} tickets of incident #{incident_id}."
    if result.held:
        shown = ", ".join(f"#{t}" for t in result.held[:10]) + (" and more" if len(result.held) > 10 else "")
        answer += f" Still open, held by someone else: {shown}."
    return answer


def quoted(text: str) -> str:
    """The agent's text back to them, escaped and bounded, as a block quote."""
    return "\n".join(f"> {line}" for line in escape_text(cut(text, MAX_SLACK_INPUT)).splitlines()) or "> (empty)"


class _NotAnAgent(Exception):
    """The submitter is neither an agent nor an admin (any more)."""


async def _prepare_bulk_reply(rt: SlackRuntime, incidents: IncidentService, user: str, view: dict[str, Any],
                              state: IncidentModalState) -> tuple[Actor, BulkPlan, bool]:
    """Who submits, and the personalised, checked replies (nothing written yet)."""
    actor = await rt.permissions.actor(user)
    if actor is None:
        raise _NotAnAgent()
    template = text_value(view, IncidentInputs.TEXT, IncidentInputs.TEXT_ACTION)
    macro = selected(view, IncidentInputs.MACRO, IncidentInputs.MACRO_ACTION)
    if not template.strip() and macro:
        template = (await rt.macros()).get(macro[0], "")
    # The agent's own name is the same in every reply; the rest is filled per author.
    template = template.replace("{agent}", await rt.agent_name(actor.user_id))
    close_after = IncidentInputs.CLOSE_AFTER in selected(view, IncidentInputs.OPTIONS, IncidentInputs.OPTIONS_ACTION)
    return actor, await incidents.plan_bulk_reply(state.incident_id, template), close_after


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    incidents = app.incidents

    @bolt.action(IncidentActions.REPLY_ALL)
    async def reply_all_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                                respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        number = id_in(body["actions"][0].get("value"))
        if actor is None or number is None:
            return
        try:
            view = await incidents.view(number, shown=0)
            modal = reply_all_modal(number, open_tickets=view.active_tickets,
                                    title=await masked(app, view.incident.title), macros=await rt.macros(),
                                    state=IncidentModalState(number, channel_of(body)))
            await client.views_open(trigger_id=body["trigger_id"], view=modal)
        except DeskError as exc:
            await tell(respond, str(exc))
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
            await tell(respond, "Slack would not open the form in time; please click again.")

    @bolt.view(REPLY_ALL_CALLBACK)
    async def reply_all_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                  context: dict[str, Any]) -> None:
        user = str(body["user"]["id"])
        state = IncidentModalState.loads(view.get("private_metadata"))
        typed = text_value(view, IncidentInputs.TEXT, IncidentInputs.TEXT_ACTION)
        # Every step before the answer runs under Slack's deadline: whichever is slow (the
        # agent lists, the macros, the agent's name, planning hundreds of replies on a loaded
        # database), the form closes in time and the outcome follows as a message.
        preparing = asyncio.ensure_future(_prepare_bulk_reply(rt, incidents, user, view, state))
        done, _ = await asyncio.wait({preparing}, timeout=ack_budget(context, REPLY_ALL_ACK_BUDGET_SECONDS))
        if done:
            try:
                actor, plan, close_after = preparing.result()
            except _NotAnAgent:
                await ack(response_action="errors", errors={IncidentInputs.TEXT: error_text(REFUSAL)})
                return
            except BulkReplyRejected as exc:
                await ack(response_action="errors", errors={IncidentInputs.TEXT: error_text(
                    await rt.plain_mentions(str(exc)))})
                return
            except DeskError as exc:
                await ack(response_action="errors", errors={IncidentInputs.TEXT: error_text(str(exc))})
                return
            await ack()
        else:
            await ack()
            try:
                actor, plan, close_after = await preparing
            except _NotAnAgent:
                await tell_privately(rt, state.channel, Actor(user), REFUSAL)
                return
            except DeskError as exc:
                await tell_privately(rt, state.channel, Actor(user), f"Nothing was sent to incident "
                                     f"#{state.incident_id}: {exc}\nWhat you wrote:\n{quoted(typed)}")
                return
        try:
            result = await incidents.write_bulk_reply(plan, actor, close_after=close_after)
            answer = bulk_answer(state.incident_id, result)
        except DeskError as exc:
            answer = f"Nothing was sent to incident #{state.incident_id}: {exc}"
        await tell_privately(rt, state.channel, actor, answer)

    @bolt.action(IncidentActions.CLOSE_ALL)
    async def close_all_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        number = id_in(body["actions"][0].get("value"))
        if actor is None or number is None:
            return
        try:
            answer = close_answer(number, await incidents.close_all(number, actor))
        except DeskError as exc:
            answer = str(exc)
        await tell(respond, answer)
