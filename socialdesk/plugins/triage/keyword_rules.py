"""Default plugin: keyword, phrase and regular-expression rules → category, priority, tags.

Matching ignores case and accents and respects word boundaries ("down" matches
"Site DOWN!" but not "download"); emoji match whatever their skin tone or presentation
("👍🏽" matches a rule for "👍"). Rules come from ``[plugins.keyword_triage]``; with no
rules configured a built-in set covers the eight categories, with a few lists for French,
Spanish, German, Portuguese and Italian. A rule with ``languages`` applies only to
mentions the ``language`` plugin found in one of them. Every matched rule is its own
contribution, so a rule's language condition concerns that rule alone. Rules an admin
wrote override the learned model (``learned_triage``); the built-in lists yield to it when
it is confident.
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


# Emoji presentation selectors and skin-tone modifiers: "❤️" is "❤", "👍🏽" is "👍".
_EMOJI_VARIANTS = {cp: None for cp in (0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400))}


def normalise(text: str) -> str:
    """Casefolded, accents and emoji variants removed: "Réfund" and "REFUND" both become "refund"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_EMOJI_VARIANTS)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def bounded_word(word: str) -> str:
    """``word`` as a regex that does not match inside a longer word. An emoji edge needs
    no boundary: "down😡" contains "😡"."""
    start = "" if word[:1] and unicodedata.category(word[0]) == "So" else r"(?<!\w)"
    end = "" if word[-1:] and unicodedata.category(word[-1]) == "So" else r"(?!\w)"
    return start + re.escape(word) + end


class Rule(StrictModel):
    name: str
    category: str | None = None
    priority: int | None = Field(None, ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)
    escalate: int = Field(0, ge=-3, le=3)
    keywords: list[str] = []
    phrases: list[str] = []
    regex: list[str] = []
    tags: list[str] = []
    languages: list[str] = []  # ISO 639-1 codes; empty = every language
    _patterns: list[re.Pattern[str]] = PrivateAttr()

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not a language code; use lower-case ISO 639-1 codes such as 'fr'")
        return codes

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
        words = [bounded_word(normalise(w)) for w in self.keywords + self.phrases]
        self._patterns = [re.compile("|".join(words), re.IGNORECASE)] if words else []
        self._patterns += [re.compile(p, re.IGNORECASE) for p in self.regex]
        return self

    def search(self, normalised_text: str) -> re.Match[str] | None:
        """The leftmost match of any of the rule's words, phrases or regexes."""
        found = [m for pattern in self._patterns if (m := pattern.search(normalised_text))]
        return min(found, key=lambda m: m.start()) if found else None


# In rule order: the first matching rule with a category names the category, so the
# complaints come first and question / feedback / praise last.
DEFAULT_RULES = (
    Rule(name="outage", category="outage", priority=1, keywords=["outage", "down", "offline", "unreachable"],
         phrases=["not loading", "not working", "can't log in", "cannot log in", "can't connect", "is it just me"],
         tags=["outage"]),
    Rule(name="security", category="account_security", priority=1,
         keywords=["hacked", "phishing", "compromised", "breach"],
         phrases=["stolen account", "someone logged into my account", "unauthorized login", "unauthorised login"],
         tags=["security"]),
    Rule(name="account access", category="account_security", priority=2, keywords=["2fa"],
         phrases=["locked out", "password reset", "reset my password", "verification code"], tags=["account"]),
    Rule(name="refund", category="refund", priority=2, keywords=["refund", "refunded", "chargeback"],
         phrases=["money back"], tags=["refund"]),
    Rule(name="billing", category="billing", priority=2,
         keywords=["invoice", "billing", "charged", "overcharged", "subscription", "payment"],
         phrases=["double charged", "charged twice"], tags=["billing"]),
    Rule(name="bug", category="bug", keywords=["bug", "crash", "crashes", "crashed", "error", "broken", "glitch"],
         phrases=["doesn't work", "does not work", "stopped working"], tags=["bug"]),
    Rule(name="outage (fr)", category="outage", priority=1, keywords=["panne", "indisponible"],
         phrases=["ne marche plus", "ne fonctionne plus", "en rade"], tags=["outage"], languages=["fr"]),
    Rule(name="refund (fr)", category="refund", priority=2, keywords=["remboursement", "rembourser", "remboursez"],
         tags=["refund"], languages=["fr"]),
    Rule(name="outage (es)", category="outage", priority=1, keywords=["caido", "caida"],
         phrases=["no funciona", "no carga", "sin servicio"], tags=["outage"], languages=["es"]),
    Rule(name="refund (es)", category="refund", priority=2, keywords=["reembolso", "devolucion"],
         tags=["refund"], languages=["es"]),
    Rule(name="outage (de)", category="outage", priority=1, keywords=["ausfall", "storung"],
         phrases=["geht nicht", "funktioniert nicht"], tags=["outage"], languages=["de"]),
    Rule(name="refund (de)", category="refund", priority=2, keywords=["ruckerstattung", "erstattung"],
         phrases=["geld zuruck"], tags=["refund"], languages=["de"]),
    Rule(name="outage (pt)", category="outage", priority=1, keywords=["instabilidade"],
         phrases=["fora do ar", "nao funciona", "nao carrega"], tags=["outage"], languages=["pt"]),
    Rule(name="refund (pt)", category="refund", priority=2, keywords=["reembolso", "estorno"],
         tags=["refund"], languages=["pt"]),
    Rule(name="outage (it)", category="outage", priority=1, keywords=["disservizio"],
         phrases=["non funziona", "non va"], tags=["outage"], languages=["it"]),
    Rule(name="refund (it)", category="refund", priority=2, keywords=["rimborso"], tags=["refund"], languages=["it"]),
    Rule(name="question", category="question",
         phrases=["how do i", "how can i", "how to", "is there a way", "is it possible", "can i", "can you",
                  "where can i", "where is", "what is", "does anyone know"], tags=["question"]),
    Rule(name="feedback", category="feedback", priority=4,
         keywords=["suggestion"], phrases=["feature request", "would be nice", "it would be great", "please add",
                                           "you should add", "wish you", "wish it"], tags=["feedback"]),
    Rule(name="praise", category="praise", priority=4,
         keywords=["love", "awesome", "thanks", "great", "amazing", "❤", "😍", "🥰"], tags=["praise"]),
)


class KeywordTriageSettings(StrictModel):
    rules: list[Rule] = Field(default_factory=lambda: list(DEFAULT_RULES))


@hookimpl
def socialdesk_settings_model() -> type[KeywordTriageSettings]:
    return KeywordTriageSettings


# The built-in lists name a category with this confidence: a confident learned model
# (learned_triage) beats them. Rules an admin wrote are explicit overrides: they beat it.
BUILTIN_RULE_CONFIDENCE = 0.7
ADMIN_RULE_CONFIDENCE = 1.0


def admin_rules(settings: KeywordTriageSettings) -> bool:
    """Did the admin write the rules (``[[plugins.keyword_triage.rules]]``)?"""
    return "rules" in settings.model_fields_set


def triage_text(text: str, rules: list[Rule], confidence: float = BUILTIN_RULE_CONFIDENCE
                ) -> list[TriageContribution]:
    """One contribution per matched rule, in rule order (the merge keeps that order, so
    the first matching rule with a category wins among equals)."""
    normalised = normalise(text)
    return [
        TriageContribution(
            priority=rule.priority,
            escalate=rule.escalate,
            category=rule.category,
            category_confidence=confidence,
            tags=tuple(rule.tags),
            reasons=(f"keyword '{m.group(0)}'",),
            when_language=tuple(rule.languages),
        )
        for rule in rules
        if (m := rule.search(normalised))
    ]


@hookimpl
def socialdesk_triage(mention: Mention, app) -> list[TriageContribution]:  # type: ignore[no-untyped-def]
    settings: KeywordTriageSettings = app.settings(PLUGIN_NAME)
    confidence = ADMIN_RULE_CONFIDENCE if admin_rules(settings) else BUILTIN_RULE_CONFIDENCE
    return triage_text(mention.text, settings.rules, confidence)


def admin_priority_rule_matches(text: str, app) -> bool:  # type: ignore[no-untyped-def]
    """Does a rule the admin wrote set this mention's priority? (Then the learned model
    proposes none: the admin's rule is the override.)"""
    if PLUGIN_NAME not in app.config.enabled:
        return False
    settings: KeywordTriageSettings = app.settings(PLUGIN_NAME)
    if not admin_rules(settings):
        return False
    normalised = normalise(text)
    return any(rule.priority is not None and not rule.languages and rule.search(normalised) for rule in settings.rules)
