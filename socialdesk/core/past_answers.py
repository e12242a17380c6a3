"""An earlier answer of the desk offered again: what the reply form shows under "Similar past answers".

Plugins that implement ``socialdesk_past_answers`` return these (the built-in
``suggestions`` plugin finds them by similarity); the Slack reply form shows them with a
"Use this answer" button, and the drafts plugin may put them in its prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PastAnswer:
    """One answered and closed conversation, ready to be shown to an agent.

    ``customer_text`` and ``answer_text`` have personal data masked already; in
    ``answer_text`` the old customer's name and handle are ``{author}`` and the old
    ticket's ref is ``{ticket}``, so filling it in for the current ticket re-applies them.
    """

    reply_id: int
    ticket_id: int
    ticket_ref: str
    platform: str
    customer_text: str
    answer_text: str
    csat: int | None  # the customer's 1-5 rating of that conversation, if they gave one
    similarity: float  # 0..1, cosine of the two conversations' TF-IDF vectors
    agent: str  # the Slack user id who wrote the answer
    answered_at: datetime
