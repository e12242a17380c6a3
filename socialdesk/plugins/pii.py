"""Default plugin: personal data in a mention (e-mail, phone, payment card numbers) is
hidden on Slack, and the ticket is flagged with a suggestion to continue in private.

Detection is conservative where a false alarm would be common: phone numbers come from
libphonenumber's matcher (valid numbers only, grouped the way the country writes them,
so dates, times, versions and amounts do not match); a bare run of digits in national
format ("order 2125551234") counts only after a word such as "call" or "phone". Card
numbers need 13-19 digits that pass the Luhn check (spaces or dashes allowed). Hiding
errs the other way: an agent can always reveal the original, with an audit record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from pydantic import Field, PrivateAttr, field_validator, model_validator
from stdnum import luhn

from socialdesk.core.config import StrictModel
from socialdesk.core.extensions import CardField, TextSpan
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.triage import TriageContribution

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

PLUGIN_NAME = "pii"
TAG = "pii"
PUBLIC_REASON = "personal data: suggest moving to a private channel"
PRIVATE_REASON = "personal data (in a private message)"
FIELD_LABEL = "Personal data"
EMAIL, PHONE, CARD = "email", "phone", "card number"

# Where "continue in private" means something different on each platform.
DEFAULT_SUGGESTIONS = {
    "x": "Posted in public on X: offer to continue in a Direct Message (DM) on X, and suggest they delete "
         "the public post.",
    "discord": "Posted in a public Discord channel: offer to continue in a DM with the bot or in a private "
               "thread, and suggest they delete the message.",
}
GENERIC_SUGGESTION = ("Posted in public: offer to continue in a private channel (a direct message), and "
                      "suggest they delete the public post.")
PRIVATE_NOTE = "Hidden on this card (Reveal shows it, and is audited); the conversation is already private."

_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
# 13-19 digits, single spaces or dashes between them; Luhn decides.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# A national number written as a bare digit run is an order or account number more often
# than a phone number, unless the customer says it is one.
_PHONE_CUE = re.compile(
    r"(?:\b(?:phone|tel|telephone|mobile|cell|call|ring|text|sms|whatsapp|reach)\b|\bmy (?:phone |cell |mobile )?"
    r"number\b)[^\d#]{0,20}$", re.IGNORECASE)
_CUE_WINDOW = 40
# Anything libphonenumber could take for a number: 7+ digits with separators between them.
_PHONE_CANDIDATE = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
PHONE_CACHE_SIZE = 4096  # the same text is masked at triage and at every card update
_BAD_NEIGHBOURS = frozenset("#-/.@_")  # "#2125551234", "INV-415-555-2671", "v1.212.555.1234"


class ExtraPattern(StrictModel):
    """An extra kind of personal data: ``regex`` matches are hidden as ``[<label> hidden]``."""

    label: str = Field(min_length=1, max_length=40)
    regex: str
    _compiled: re.Pattern[str] = PrivateAttr()

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"regular expression {pattern!r} does not compile: {exc}") from None
        if compiled.search(""):
            raise ValueError(f"regular expression {pattern!r} matches the empty string; it would hide nothing useful")
        return pattern

    @model_validator(mode="after")
    def _compile(self) -> ExtraPattern:
        self._compiled = re.compile(self.regex)
        return self

    def spans(self, text: str) -> Iterator[TextSpan]:
        for m in self._compiled.finditer(text):
            if m.end() > m.start():
                yield TextSpan(m.start(), m.end(), self.label)


class PiiSettings(StrictModel):
    emails: bool = True
    phones: bool = True
    card_numbers: bool = True
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"],
                                     description="countries whose national number formats are recognised")
    patterns: list[ExtraPattern] = Field(default_factory=list)
    suggestions: dict[str, str] = Field(default_factory=dict, description="platform -> text of the card line")

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        upper = [r.upper() for r in regions]
        unknown = [r for r in upper if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown region code(s) {', '.join(unknown)}; use ISO 3166 two-letter codes such as "
                             "US, GB, DE, FR")
        return list(dict.fromkeys(upper))


@hookimpl
def socialdesk_settings_model() -> type[PiiSettings]:
    return PiiSettings


# --- detection ------------------------------------------------------------------------------


def email_spans(text: str) -> Iterator[TextSpan]:
    for m in _EMAIL.finditer(text):
        yield TextSpan(m.start(), m.end(), EMAIL)


def card_spans(text: str) -> Iterator[TextSpan]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            yield TextSpan(m.start(), m.end(), CARD)


def _plausible_phone(text: str, start: int, end: int, raw: str) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in _BAD_NEIGHBOURS or before.isalnum() or after in _BAD_NEIGHBOURS - {"."} or after.isalnum():
        return False
    if raw.lstrip().startswith("+") or not raw.isdigit():
        return True  # international, or grouped the way the country writes numbers
    return _PHONE_CUE.search(text[max(0, start - _CUE_WINDOW):start]) is not None


def phone_spans(text: str, regions: list[str]) -> tuple[TextSpan, ...]:
    # The matcher is the slow part (about 0.3 ms per candidate and region): a text with no
    # run of 7 digits cannot hold a phone number, and a text seen before is not parsed again.
    if _PHONE_CANDIDATE.search(text) is None:
        return ()
    return _phone_spans(text, tuple(regions))


@lru_cache(maxsize=PHONE_CACHE_SIZE)
def _phone_spans(text: str, regions: tuple[str, ...]) -> tuple[TextSpan, ...]:
    spans: dict[tuple[int, int], TextSpan] = {}
    for region in regions:
        for match in PhoneNumberMatcher(text, region, leniency=Leniency.STRICT_GROUPING):
            key = (match.start, match.end)
            if key not in spans and _plausible_phone(text, match.start, match.end, match.raw_string):
                spans[key] = TextSpan(match.start, match.end, PHONE)
    return tuple(spans.values())


def find_spans(text: str, settings: PiiSettings) -> list[TextSpan]:
    """Every piece of personal data in ``text`` (spans may overlap; the card merges them)."""
    spans: list[TextSpan] = []
    if settings.emails:
        spans += email_spans(text)
    if settings.card_numbers:
        spans += card_spans(text)
    if settings.phones:
        spans += phone_spans(text, settings.phone_regions)
    for pattern in settings.patterns:
        spans += pattern.spans(text)
    return sorted(spans, key=lambda s: (s.start, -s.end))


# --- hooks ----------------------------------------------------------------------------------


@hookimpl
def socialdesk_mask_spans(text: str, app: DeskApp) -> list[TextSpan]:
    return find_spans(text, app.settings(PLUGIN_NAME))


@hookimpl
def socialdesk_triage(mention: Mention, app: DeskApp) -> TriageContribution | None:
    if not find_spans(mention.text, app.settings(PLUGIN_NAME)):
        return None
    return TriageContribution(tags=(TAG,), reasons=(PUBLIC_REASON if mention.public else PRIVATE_REASON,))


def suggestion(platform: str, settings: PiiSettings) -> str:
    return settings.suggestions.get(platform) or DEFAULT_SUGGESTIONS.get(platform) or GENERIC_SUGGESTION


@hookimpl
def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    if TAG not in ticket.tags:
        return None
    # The public reason is recorded only when personal data came in a public message.
    public = PUBLIC_REASON in ticket.priority_reasons
    value = suggestion(ticket.platform, app.settings(PLUGIN_NAME)) if public else PRIVATE_NOTE
    return [CardField(FIELD_LABEL, value)]
