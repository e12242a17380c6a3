"""The satisfaction survey on Bluesky: a reply in the customer's thread, sent like an agent's.

The customer's answer is a reply to it, which reaches the desk through the
notifications like any other reply, in the same thread (the same ticket).
"""

from __future__ import annotations

from socialdesk.core.platform import ReplyRequest, SentReply, SurveyRequest
from socialdesk.plugins.bluesky.replies import send_reply
from socialdesk.plugins.bluesky.runtime import BlueskyRuntime

SURVEY_AGENT = "csat"


async def send_survey(runtime: BlueskyRuntime, request: SurveyRequest) -> SentReply:
    reply = ReplyRequest(reply_id=request.survey_id, ticket_id=request.ticket_id, platform=request.platform,
                         conversation_id=request.conversation_id, in_reply_to_id=request.in_reply_to_id,
                         text=request.text, agent=SURVEY_AGENT)
    return await send_reply(runtime, reply)
