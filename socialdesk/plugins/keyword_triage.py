"""Default plugin: keyword, phrase and regular-expression rules → category, priority, tags.

Matching ignores case and accents and respects word boundaries ("down" matches
"Site DOWN!" but not "download"). Rules come from ``[plugins.keyword_triage]``; with
no rules configured a small built-in set covers outages, security, billing and refunds.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import Field, PrivateAttr, field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.triage import CATEGORIES, HIGHEST_PRIORITY, LOWEST_PRIORITY, TriageContribution

PLUGIN_NAME = "keyword_triage"


def normalise(text: str) -> str:
    """Casefolded, accents removed: "Réfund" and "REFUND" both become "refund"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Rule(StrictModel):
    name: str
    category: str | None = None
    priority: int | None = Field(None, ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)
    escalate: int = Field(0, ge=-3, le=3)
    keywords: list[str] = []
    phrases: list[str] = []
    regex: list[str] = []
    tags: list[str] = []
    _patterns: list[re.Pattern[str]] = PrivateAttr()

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORIES:
            raise ValueError(f"must be one of {', '.join(CATEGORIES)} (got {value!r})")
        return value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regular expression {pattern!r} does not compile: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _matches_something(self) -> Rule:
        if not (self.keywords or self.phrases or self.regex):
            raise ValueError(f"rule {self.name!r} needs at least one of keywords, phrases or regex")
        # Lookarounds rather than \b, so that words starting or ending with a symbol
        # ("#outage", "c++") match too. Each regex is compiled on its own: joined with the
        # others, its inline flags ("(?i)...") or group numbers would break.
        words = [r"(?<!\w)" + re.escape(normalise(w)) + r"(?!\w)" for w in self.keywords + self.phrases]
        self._patterns = [re.compile("|".join(words), re.IGNORECASE)] if words else []
        self._patterns += [re.compile(p, re.IGNORECASE) for p in self.regex]
        return self

    def search(self, normalised_text: str) -> re.Match[str] | None:
        """The leftmost match of any of the rule's words, phrases or regexes."""
        found = [m for pattern in self._patterns if (m := pattern.search(normalised_text))]
        return min(found, key=lambda m: m.start()) if found else None


DEFAULT_RULES = (
    Rule(name="outage", category="outage", priority=1, keywords=["outage", "down", "offline", "unreachable"],
         phrases=["not loading", "not working", "can't log in", "cannot log in"], tags=["outage"]),
    Rule(name="security", category="account_security", priority=1,
         keywords=["hacked", "phishing", "compromised", "breach"], phrases=["stolen account"], tags=["security"]),
    Rule(name="refund", category="refund", priority=2, keywords=["refund", "chargeback"], tags=["refund"]),
    Rule(name="billing", category="billing", priority=2, keywords=["invoice", "billing", "charged", "overcharged"],
         tags=["billing"]),
    Rule(name="bug", category="bug", keywords=["bug", "crash", "crashes", "error", "broken"], tags=["bug"]),
    Rule(name="praise", category="praise", priority=4, keywords=["love", "awesome", "thanks", "great"],
         tags=["praise"]),
)


class KeywordTriageSettings(StrictModel):
    rules: list[Rule] = Field(default_factory=lambda: list(DEFAULT_RULES))


@hookimpl
def socialdesk_settings_model() -> type[KeywordTriageSettings]:
    return KeywordTriageSettings


def triage_text(text: str, rules: list[Rule]) -> TriageContribution | None:
    normalised = normalise(text)
    matched = [(rule, m.group(0)) for rule in rules if (m := rule.search(normalised))]
    if not matched:
        return None
    priorities = [r.priority for r, _ in matched if r.priority is not None]
    categories = [r.category for r, _ in matched if r.category]
    return TriageContribution(
        priority=min(priorities) if priorities else None,
        escalate=sum(r.escalate for r, _ in matched),
        category=categories[0] if categories else None,
        category_confidence=0.7,
        tags=tuple(dict.fromkeys(t for r, _ in matched for t in r.tags)),
        reasons=tuple(f"keyword '{word}'" for _, word in matched),
    )


@hookimpl
def socialdesk_triage(mention: Mention, app) -> TriageContribution | None:  # type: ignore[no-untyped-def]
    settings: KeywordTriageSettings = app.settings(PLUGIN_NAME)
    return triage_text(mention.text, settings.rules)
