""""Use this answer" in the reply form: the past answer, variables filled in for this
ticket, replaces the reply box (``views.update`` with a new box, as a macro pick does).

The answer is looked up again when clicked: one edited, deleted or rated low since the
form opened is not used (the form is left as it is).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.past_answers import PastAnswer
from socialdesk.core.slack.actions import build_reply_view
from socialdesk.core.slack.macros import MacroContext, fill
from socialdesk.core.slack.modals import Inputs, ModalState, selected
from socialdesk.core.slack.past_answers import MAX_SHOWN, USE_ACTION, past_answers_of
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
AGENT_VARIABLE = "{agent}"
MIN_AGENT_NAME_CHARS = 2


async def filled_answer(app: DeskApp, rt: SlackRuntime, ticket_id: int, actor: Actor, answer: PastAnswer) -> str:
    """The answer for this ticket: the old agent's name becomes this agent's, then every variable is filled."""
    details = await app.service.ticket_details(ticket_id)
    agent_name = await rt.agent_name(actor.user_id)
    text = answer.answer_text
    if answer.agent != actor.user_id:
        old_name = await rt.agent_name(answer.agent)
        if len(old_name) >= MIN_AGENT_NAME_CHARS and old_name != answer.agent:
            text = re.sub(rf"(?<![\w@]){re.escape(old_name)}(?!\w)", lambda _: AGENT_VARIABLE, text)
    return fill(text, MacroContext(details.author, agent_name, details.ticket.ref, details.ticket.platform))


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    @bolt.action(USE_ACTION)
    async def use_past_answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        view = body.get("view") or {}
        value = str(body["actions"][0].get("value") or "")
        if actor is None or not value.isdigit() or view.get("callback_id") is None:
            return
        state = ModalState.loads(view.get("private_metadata"))
        try:
            ticket = await app.service.get_ticket(state.ticket_id)
            answers = await past_answers_of(app, ticket, MAX_SHOWN)
            answer = next((a for a in answers if a.reply_id == int(value)), None)
            if answer is None:
                log.info("past answer no longer suggested", extra={"ticket": ticket.id, "reply": int(value)})
                return
            text = await filled_answer(app, rt, ticket.id, actor, answer)
            close_after = Inputs.CLOSE_AFTER in selected(view, Inputs.OPTIONS, Inputs.OPTIONS_ACTION)
            updated = await build_reply_view(app, rt, ticket.id, actor, state.channel, text=text,
                                             close_after=close_after, generation=state.generation + 1)
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
        except DeskError as exc:
            log.info("past answer not used", extra={"error": str(exc)})
        except SlackApiError as exc:  # the agent typed meanwhile (hash_conflict) or closed the form
            log.info("reply modal not refilled with a past answer", extra={"error": exc.response.get("error")})
