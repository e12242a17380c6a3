"""The reply form's "Similar past answers": earlier answers of the desk, each with a
"Use this answer" button (the listener is :mod:`.past_answer_actions`).

The answers come from the ``socialdesk_past_answers`` plugins (the built-in
``suggestions``) with personal data masked; here they are escaped like any stranger's
text, bounded to what a section holds, and the form never waits long for them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from socialdesk.core.past_answers import PastAnswer
from socialdesk.core.slack.escaping import escape_mrkdwn, fit
from socialdesk.core.ticket import TicketSnapshot

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

USE_ACTION = "desk.use_past_answer"  # button value: the past reply's id
BLOCK_PREFIX = "past_answer_"
MAX_SHOWN = 5  # the most a plugin may add to the form (its own settings choose fewer)
# Views must open within 3 seconds of the click; the rest of the form needs a little too.
# Plugins keep their own, shorter budget (suggestions: lookup_budget_seconds, 1 s by default).
BUDGET_SECONDS = 2.0
CUSTOMER_CHARS = 400
ANSWER_CHARS = 1500
HEADING = "*Similar past answers* — from closed conversations; personal data hidden"


async def past_answers_of(app: DeskApp, ticket: TicketSnapshot, limit: int = MAX_SHOWN) -> list[PastAnswer]:
    """The plugins' past answers for ``ticket``; none when they fail or are too slow."""
    try:
        return await asyncio.wait_for(app.hooks.past_answers(ticket, limit), BUDGET_SECONDS)
    except TimeoutError:
        log.info("past answers too slow; the reply form opens without them", extra={"ticket": ticket.id})
        return []


def _rating(csat: int | None) -> str:
    return f"CSAT {csat}/5" if csat is not None else "no CSAT"


def past_answer_blocks(answers: list[PastAnswer]) -> list[Block]:
    """A heading and one section per answer, its button filling the reply box."""
    if not answers:
        return []
    blocks: list[Block] = [DividerBlock(), ContextBlock(elements=[MarkdownTextObject(text=HEADING)])]
    for answer in answers[:MAX_SHOWN]:  # the ticket ref is the desk's own "#42"; everything else is escaped
        said = answer.customer_text.strip() or "(no text)"
        header = (f"*{answer.ticket_ref}* on {escape_mrkdwn(answer.platform)} · {_rating(answer.csat)}"
                  f" · {round(answer.similarity * 100)}% alike")
        text = (f"{header}\n_Customer:_ {fit(said, CUSTOMER_CHARS, mrkdwn=True)}\n"
                f"_Answer:_ {fit(answer.answer_text.strip(), ANSWER_CHARS, mrkdwn=True)}")
        blocks.append(SectionBlock(
            block_id=f"{BLOCK_PREFIX}{answer.reply_id}", text=MarkdownTextObject(text=text, verbatim=True),
            accessory=ButtonElement(text="Use this answer", action_id=USE_ACTION, value=str(answer.reply_id))))
    return blocks
