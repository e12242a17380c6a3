"""Earlier answers to similar questions, for the prompt: the desk's own best answers.

They come from the ``socialdesk_past_answers`` hook (the built-in ``suggestions`` plugin
answers it), already masked and with the old customer's name as ``{author}``; with no
plugin answering it a draft is written from the voice notes, macros and conversation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from socialdesk.plugins.drafts.prompt import AnsweredExample

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


async def similar_answers(app: DeskApp, ticket_id: int, limit: int = 3) -> list[AnsweredExample]:
    try:
        ticket = await app.service.get_ticket(ticket_id)
        found = await app.hooks.past_answers(ticket, limit)
    except Exception as exc:  # a draft without examples beats no draft
        log.warning("similar answers failed", extra={"ticket": ticket_id, "error": repr(exc)[:200]})
        return []
    return [AnsweredExample(a.customer_text, a.answer_text) for a in found[:limit]]
