"""The satisfaction survey on X: a reply in the customer's conversation.

A survey goes out exactly like an agent's reply (``replies.send_reply``): the same
weighted length check, posting budget, error sorting and duplicate-content handling.
The customer's answer is a reply to it, which reaches the desk through the mentions
timeline like any other mention, in the same conversation.

Direct messages are not used: X's DM endpoints need the ``dm.read``/``dm.write`` scopes,
and the plugin does not poll DM events, so an answer sent by DM would never be read.
"""

from __future__ import annotations

from socialdesk.core.platform import ReplyRequest, SentReply, SurveyRequest
from socialdesk.plugins.x.replies import send_reply
from socialdesk.plugins.x.runtime import XRuntime

SURVEY_AGENT = "csat"  # who "wrote" it, for logs: no agent did


def as_reply(request: SurveyRequest) -> ReplyRequest:
    # reply_id only names the request in logs and searches for an earlier copy of it.
    return ReplyRequest(reply_id=request.survey_id, ticket_id=request.ticket_id, platform=request.platform,
                        conversation_id=request.conversation_id, in_reply_to_id=request.in_reply_to_id,
                        text=request.text, agent=SURVEY_AGENT)


async def send_survey(runtime: XRuntime, request: SurveyRequest) -> SentReply:
    return await send_reply(runtime, as_reply(request))
