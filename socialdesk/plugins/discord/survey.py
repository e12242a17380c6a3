"""The satisfaction survey on Discord: a reply to the customer's latest message.

It is sent like an agent's reply (``replies.send_reply``): pinging nobody, with a nonce
so a resend cannot post twice, errors sorted by what they prove. Sending remembers the
survey message in the conversation, so the customer's reply to it joins the
conversation; and :func:`awaiting_answer_conversations` keeps conversations with a sent,
unanswered survey followed after their ticket closed, so that reply is ingested even
without a mention of the bot.

Direct messages are not used: the plugin listens to guild channels only (no DM intake),
so an answer given by DM would never reach the desk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from socialdesk.core.store.models import CsatSurvey
from socialdesk.core.platform import ReplyRequest, SentReply, SurveyRequest
from socialdesk.plugins.discord.replies import send_reply
from socialdesk.plugins.discord.settings import PLATFORM

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.plugins.discord.runtime import DiscordRuntime

SURVEY_AGENT = "csat"
AWAITING = "sent"  # csat_surveys.status of a survey waiting for its answer


def as_reply(request: SurveyRequest) -> ReplyRequest:
    # reply_id feeds the nonce and logs; the nonce also covers the text, so it never
    # equals an agent reply's.
    return ReplyRequest(reply_id=request.survey_id, ticket_id=request.ticket_id, platform=request.platform,
                        conversation_id=request.conversation_id, in_reply_to_id=request.in_reply_to_id,
                        text=request.text, agent=SURVEY_AGENT)


async def send_survey(runtime: DiscordRuntime, request: SurveyRequest) -> SentReply:
    return await send_reply(runtime, as_reply(request))


async def awaiting_answer_conversations(app: DeskApp) -> set[str]:
    """Discord conversations where a sent survey waits for its answer (index on status)."""
    async with app.database.sessions() as session:
        rows = await session.scalars(select(CsatSurvey.conversation_id).where(
            CsatSurvey.platform == PLATFORM, CsatSurvey.status == AWAITING))
        return set(rows.all())
