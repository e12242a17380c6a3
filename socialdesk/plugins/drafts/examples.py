"""Earlier answers to similar questions, for the prompt: from the suggestions plugin when it is there.

The suggestions plugin (``socialdesk.plugins.suggestions``) finds the desk's own best
answers to similar conversations. Drafts use them when that plugin is installed and
enabled; without it a draft is written from the voice notes, macros and conversation.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from socialdesk.core.hooks import await_me_maybe
from socialdesk.plugins.drafts.prompt import PastAnswer

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
SUGGESTIONS_PLUGIN = "suggestions"
SUGGESTIONS_LOOKUP = "socialdesk.plugins.suggestions.lookup"


def _as_past_answer(item: Any) -> PastAnswer | None:
    """Accepts the lookup's records (attributes) or (customer_text, answer_text) pairs."""
    if isinstance(item, PastAnswer):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return PastAnswer(str(item[0]), str(item[1]))
    customer = getattr(item, "customer_text", None)
    answer = getattr(item, "answer_text", None)
    return PastAnswer(str(customer), str(answer)) if customer is not None and answer is not None else None


async def similar_answers(app: DeskApp, ticket_id: int, limit: int = 3) -> list[PastAnswer]:
    if SUGGESTIONS_PLUGIN not in app.config.enabled:
        return []
    try:
        lookup = importlib.import_module(SUGGESTIONS_LOOKUP)
    except ImportError:
        return []
    try:
        found = await await_me_maybe(lookup.similar_answers(app, ticket_id, limit=limit))
    except Exception as exc:  # a draft without examples beats no draft
        log.warning("similar answers failed", extra={"ticket": ticket_id, "error": repr(exc)[:200]})
        return []
    answers = [a for a in (_as_past_answer(item) for item in found or []) if a is not None]
    return answers[:limit]
