"""An old answer made reusable: the old customer's name and handle become ``{author}``,
the old ticket's ref ``{ticket}``; personal data is masked like every customer text the
desk shows (the ``socialdesk_mask_spans`` plugins: ``pii`` by default).

"Use this answer" then fills the variables in for the ticket at hand, as a macro does,
so an answer written for @jo greets the new customer by their own name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.core.slack.masking import masked

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

AUTHOR_VARIABLE = "{author}"
TICKET_VARIABLE = "{ticket}"
MIN_NAME_CHARS = 2  # a one-letter display name would replace every "a" and "I"


def _word(literal: str) -> str:
    """``literal`` as a whole word (not inside a longer handle, name or number)."""
    return rf"(?<![\w@]){re.escape(literal)}(?!\w)"


def with_variables(text: str, *, handle: str | None, display_name: str | None, ticket_ref: str) -> str:
    """``text`` with the old customer's @handle, handle and display name as ``{author}``
    and the old ticket's ref as ``{ticket}``."""
    patterns: list[str] = []
    if handle:
        handle = handle.lstrip("@")
        patterns.append(rf"(?<![\w@])@{re.escape(handle)}(?!\w)")
        if len(handle) >= MIN_NAME_CHARS:
            patterns.append(_word(handle))
    if display_name and len(display_name.strip()) >= MIN_NAME_CHARS:
        patterns.append(_word(display_name.strip()))
    if patterns:
        # Longest first: "@jo_smith" before "jo_smith", "Jo Smith" before "Jo".
        patterns.sort(key=len, reverse=True)
        text = re.sub("|".join(patterns), lambda _: AUTHOR_VARIABLE, text, flags=re.IGNORECASE)
    return re.sub(rf"{re.escape(ticket_ref)}(?!\d)", lambda _: TICKET_VARIABLE, text)


async def reusable_answer(app: DeskApp, text: str, *, handle: str | None, display_name: str | None,
                          ticket_ref: str) -> str:
    """The answer as the form shows it and "Use this answer" fills it in: variables, then masking."""
    return await masked(app, with_variables(text, handle=handle, display_name=display_name, ticket_ref=ticket_ref))


async def shown_customer_text(app: DeskApp, text: str) -> str:
    return await masked(app, text)
