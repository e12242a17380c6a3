"""The satisfaction survey on Mastodon: a reply in the customer's thread, sent like an agent's.

It keeps the thread's visibility (a ``direct`` conversation is surveyed ``direct``) and
mentions the customer, whose answer arrives as a mention in the same thread.
"""

from __future__ import annotations

from socialdesk.core.platform import ReplyRequest, SurveyRequest

SURVEY_AGENT = "csat"  # who "wrote" it, for logs: no agent did


def as_reply(request: SurveyRequest) -> ReplyRequest:
    return ReplyRequest(reply_id=request.survey_id, ticket_id=request.ticket_id, platform=request.platform,
                        conversation_id=request.conversation_id, in_reply_to_id=request.in_reply_to_id,
                        text=request.text, agent=SURVEY_AGENT)
