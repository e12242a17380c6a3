"""Personal data hidden before a customer's text reaches Slack.

Every place that shows what a customer wrote (the card, the card's thread, the reply
form, incident cards) masks first and escapes after: the ``socialdesk_mask_spans``
plugins point at ranges, overlapping ranges are merged, and each becomes
``[<label> hidden]``. The original stays in the store; an agent sees it only through
the audited Reveal (:mod:`.reveal`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialdesk.core.extensions import TextSpan
from socialdesk.core.hooks import MASKING_FAILED
from socialdesk.core.slack.escaping import clean, cut, one_line
from socialdesk.core.store.ticket_queries import MessageSnapshot, TicketDetails

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

FAILED_TEXT = "[hidden: masking failed]"
MAX_LABEL_CHARS = 40


@dataclass(frozen=True, slots=True)
class MaskedText:
    text: str
    hidden: int  # how many ranges were replaced

    @property
    def changed(self) -> bool:
        return self.hidden > 0


def merge_spans(spans: Iterable[TextSpan], length: int) -> list[TextSpan]:
    """Spans clamped to the text, empty ones dropped, overlapping ones merged (the earliest
    one's label wins, so "[card number hidden]" is not split by a phone match inside it)."""
    clamped = sorted(
        (TextSpan(max(0, s.start), min(length, s.end), s.label) for s in spans if min(length, s.end) > max(0, s.start)),
        key=lambda s: (s.start, -s.end))
    merged: list[TextSpan] = []
    for span in clamped:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = TextSpan(last.start, max(last.end, span.end), last.label)
        else:
            merged.append(span)
    return merged


def placeholder(label: str) -> str:
    if label == MASKING_FAILED:
        return FAILED_TEXT
    shown = cut(one_line(clean(label)), MAX_LABEL_CHARS) or "personal data"
    return f"[{shown} hidden]"


def apply_spans(text: str, spans: Iterable[TextSpan]) -> MaskedText:
    """``text`` with each (merged) span replaced by its placeholder. Not escaped yet."""
    merged = merge_spans(spans, len(text))
    parts: list[str] = []
    at = 0
    for span in merged:
        parts += [text[at:span.start], placeholder(span.label)]
        at = span.end
    parts.append(text[at:])
    return MaskedText("".join(parts), len(merged))


async def mask(app: DeskApp, text: str) -> MaskedText:
    # Cleaned first: a zero-width space inside an address must not hide it from the
    # detectors and then vanish when the text is escaped for Slack.
    shown = clean(text)
    return apply_spans(shown, await app.hooks.mask_spans(shown))


async def masked(app: DeskApp, text: str) -> str:
    """A customer's text, personal data hidden, ready to be escaped for Slack (use it for
    every customer text the desk shows: cards, threads, incident cards)."""
    return (await mask(app, text)).text


async def masked_message(app: DeskApp, message: MessageSnapshot) -> tuple[MessageSnapshot, bool]:
    """An inbound message with its text masked, and whether anything was hidden. Replies
    and notes are the desk's own words and are returned as they are."""
    if message.direction != "inbound":
        return message, False
    result = await mask(app, message.text)
    return dataclasses.replace(message, text=result.text), result.changed


async def masked_details(app: DeskApp, details: TicketDetails) -> tuple[TicketDetails, bool]:
    """What a card shows, with the opening message masked (and the triage reasons, which
    may quote the text a rule matched). Says whether the opening message had anything hidden."""
    opening, changed = (await masked_message(app, details.opening)) if details.opening else (None, False)
    reasons = tuple([await masked(app, r) for r in details.ticket.priority_reasons])
    ticket = dataclasses.replace(details.ticket, priority_reasons=reasons)
    return dataclasses.replace(details, ticket=ticket, opening=opening), changed
