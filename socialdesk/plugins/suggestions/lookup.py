"""``similar_answers``: the earlier answers most like a ticket, ready to show (the public entry point).

Used by the plugin's ``socialdesk_past_answers`` hook (the Slack reply form) and open to
other plugins (the drafts plugin puts them in its prompt): every text it returns has
personal data masked and the old customer's name as ``{author}``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from socialdesk.core.past_answers import PastAnswer
from socialdesk.core.ticket import TicketSnapshot, ticket_ref
from socialdesk.plugins.suggestions import store
from socialdesk.plugins.suggestions.index import index_for
from socialdesk.plugins.suggestions.settings import PLUGIN_NAME, SuggestionsSettings
from socialdesk.plugins.suggestions.templating import reusable_answer, shown_customer_text
from socialdesk.plugins.suggestions.vectors import terms

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

__all__ = ["PastAnswer", "similar_answers", "similar_answers_for"]

log = logging.getLogger(__name__)
CHECK_BATCH = 20  # candidates checked against the live tables per query, best first


def _enabled(app: DeskApp) -> bool:
    return PLUGIN_NAME in app.config.enabled


async def similar_answers(app: DeskApp, ticket_id: int, limit: int = 3) -> list[PastAnswer]:
    """The ``limit`` earlier answered-and-closed conversations most like ticket ``ticket_id``,
    most similar first, one per conversation; ``[]`` when the ``suggestions`` plugin is off."""
    if not _enabled(app):
        return []
    return await similar_answers_for(app, await app.service.get_ticket(ticket_id), limit)


async def similar_answers_for(app: DeskApp, ticket: TicketSnapshot, limit: int) -> list[PastAnswer]:
    settings: SuggestionsSettings = app.settings(PLUGIN_NAME)
    now = app.clock()
    index = index_for(app)
    await index.catch_up(app.database, now)
    messages = await app.service.messages_of(ticket.id)
    query = terms(m.text for m in messages if m.direction == "inbound")
    own = await store.rows_of_ticket(app.database, ticket.id)  # a reopened ticket's own earlier answer
    ranked = index.search(ticket.language, query, settings.min_similarity, exclude=own)
    since = now - timedelta(days=settings.max_age_days) if settings.max_age_days else None
    chosen: list[tuple[store.Candidate, float]] = []
    tickets_taken: set[int] = set()
    for start in range(0, len(ranked), CHECK_BATCH):
        batch = ranked[start:start + CHECK_BATCH]
        found = await store.candidates(app.database, [row_id for row_id, _ in batch], min_csat=settings.min_csat,
                                       answered_since=since)
        for row_id, similarity in batch:
            candidate = found.get(row_id)
            if candidate is None or candidate.ticket_id in tickets_taken:
                continue  # no longer suggestible, or that conversation is shown already
            tickets_taken.add(candidate.ticket_id)
            chosen.append((candidate, similarity))
            if len(chosen) == limit:
                break
        if len(chosen) == limit:
            break
    return [await _shown(app, candidate, similarity) for candidate, similarity in chosen]


async def _shown(app: DeskApp, candidate: store.Candidate, similarity: float) -> PastAnswer:
    ref = ticket_ref(candidate.ticket_id)
    return PastAnswer(
        reply_id=candidate.reply_id, ticket_id=candidate.ticket_id, ticket_ref=ref, platform=candidate.platform,
        customer_text=await shown_customer_text(app, candidate.customer_text),
        answer_text=await reusable_answer(app, candidate.answer_text, handle=candidate.author_handle,
                                          display_name=candidate.author_name, ticket_ref=ref),
        csat=candidate.csat, similarity=round(min(1.0, similarity), 4), agent=candidate.agent,
        answered_at=candidate.answered_at)
