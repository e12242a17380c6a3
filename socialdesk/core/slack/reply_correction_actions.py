"""Edit and Delete of a sent reply, from its card: the buttons, the edit form, its submission.

Every click is acknowledged at once. Deleting is confirmed in Slack's dialog (on the button)
and then written to the desk; editing opens a form with the reply's text. On a platform
that edits by deleting and reposting (X), the button's dialog and the form say so.
"""

from __future__ import annotations

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
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError, ReplyRejected
from socialdesk.core.platform import ReplyLimits
from socialdesk.core.reply_change import ChangeKind, ReplyCapabilities
from socialdesk.core.reply_corrections import ReplyCorrections, refusal
from socialdesk.core.slack.escaping import cut, escape_mrkdwn
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, id_in, tell
from socialdesk.core.slack.modals import MAX_SLACK_INPUT, error_text, limit_hint, text_value
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.reply_correction_card import CorrectionActions, repost_warning
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

EDIT_CALLBACK = "desk.reply_edit_modal"
EDIT_BLOCK = "edited_text"
EDIT_ACTION = "text"


@dataclass(frozen=True, slots=True)
class EditState:
    reply_id: int
    channel: str | None = None

    def dumps(self) -> str:
        return json.dumps({"r": self.reply_id, "c": self.channel})

    @classmethod
    def loads(cls, raw: str | None) -> EditState:
        data = json.loads(raw or "{}")
        return cls(int(data["r"]), data.get("c"))


def edit_modal(*, ticket_ref: str, platform: str, text: str, limits: ReplyLimits | None,
               capabilities: ReplyCapabilities, state: EditState) -> View:
    repost = not capabilities.can_edit
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"Your reply to *{ticket_ref}* on {escape_mrkdwn(platform)}.", verbatim=True))]
    if repost:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠️ {escape_mrkdwn(repost_warning(platform))}",
                                                           verbatim=True)))
    box = PlainTextInputElement(action_id=EDIT_ACTION, multiline=True, initial_value=cut(text, MAX_SLACK_INPUT))
    if limits is not None and limits.unit == "characters":
        box.max_length = min(limits.max_length, MAX_SLACK_INPUT)
    blocks.append(InputBlock(block_id=EDIT_BLOCK, label="New text", element=box,
                             hint=limit_hint(limits, platform)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="The change is sent once, audited, and shown on the card.")]))
    return View(type="modal", callback_id=EDIT_CALLBACK, title=PlainTextObject(text=cut(f"Edit reply {ticket_ref}", 24)),
                submit=PlainTextObject(text="Delete and repost" if repost else "Save"),
                close=PlainTextObject(text="Cancel"), private_metadata=state.dumps(), blocks=blocks)


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    corrections = ReplyCorrections(app)

    @bolt.action(CorrectionActions.DELETE)
    async def delete_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        reply_id = id_in(body["actions"][0].get("value"))
        if actor is None or reply_id is None:
            return
        try:
            change = await corrections.request(reply_id, actor, ChangeKind.DELETE)
        except DeskError as exc:
            await tell(respond, str(exc))
            return
        await tell(respond, f"Deleting the reply to #{change.ticket_id}; the card shows when it is gone.")

    @bolt.action(CorrectionActions.UNAVAILABLE)
    async def unavailable_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply_id = id_in(body["actions"][0].get("value"))
        reply = await app.service.get_reply(reply_id) if reply_id is not None else None
        if reply is None:
            return
        platform = (await app.service.get_ticket(reply.ticket_id)).platform
        capabilities = app.hooks.reply_capabilities(platform)
        await tell(respond, refusal(capabilities, ChangeKind.EDIT) or refusal(capabilities, ChangeKind.DELETE)
                   or f"the reply on {platform} can be changed: use Edit or Delete")

    @bolt.action(CorrectionActions.EDIT)
    async def edit_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                           respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        reply_id = id_in(body["actions"][0].get("value"))
        if actor is None or reply_id is None:
            return
        reply = await app.service.get_reply(reply_id)
        if reply is None:
            return
        ticket = await app.service.get_ticket(reply.ticket_id)
        capabilities = app.hooks.reply_capabilities(ticket.platform)
        why_not = refusal(capabilities, ChangeKind.EDIT)
        if reply.agent != actor.user_id and not actor.is_admin:
            why_not = f"only <@{reply.agent}>, who wrote this reply, or an admin can edit it"
        if why_not:
            await tell(respond, why_not)
            return
        view = edit_modal(ticket_ref=ticket.ref, platform=ticket.platform, text=reply.text,
                          limits=await app.hooks.reply_limits(ticket.platform), capabilities=capabilities,
                          state=EditState(reply_id, channel_of(body)))
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
            await tell(respond, "Slack would not open the form in time; please click again.")

    @bolt.view(EDIT_CALLBACK)
    async def edit_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = await rt.permissions.actor(str(body["user"]["id"]))
        if actor is None:
            await ack(response_action="errors", errors={EDIT_BLOCK: error_text(REFUSAL)})
            return
        state = EditState.loads(view.get("private_metadata"))
        try:
            await corrections.request(state.reply_id, actor, ChangeKind.EDIT, text_value(view, EDIT_BLOCK, EDIT_ACTION))
        except ReplyRejected as exc:
            await ack(response_action="errors", errors={EDIT_BLOCK: error_text(
                await rt.plain_mentions("Not changed: " + "; ".join(exc.problems)))})
        except DeskError as exc:
            await ack(response_action="errors", errors={EDIT_BLOCK: error_text(await rt.plain_mentions(str(exc)))})
        else:
            await ack()
