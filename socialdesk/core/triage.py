"""Triage contributions from plugins and how the core merges them into one verdict."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 4
DEFAULT_PRIORITY = 3
DEFAULT_CATEGORY = "question"


def clamp_priority(value: int) -> int:
    return max(HIGHEST_PRIORITY, min(LOWEST_PRIORITY, value))


@dataclass(frozen=True, slots=True)
class TriageContribution:
    """What one triage plugin says about a mention. Every field is optional.

    ``priority`` proposes an absolute priority (1 = most urgent, 4 = least); the most
    urgent proposal wins. ``escalate`` moves the result up (positive) or down
    (negative) by whole steps; the steps of all plugins add up. ``reasons`` explain
    the verdict on the card ("negative sentiment", "keyword 'refund'").
    """

    priority: int | None = None
    escalate: int = 0
    category: str | None = None
    category_confidence: float = 0.5
    sentiment: str | None = None
    sentiment_score: float | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    spam: bool | None = None
    suggested_macro: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageResult:
    """The merged verdict stored on the ticket."""

    priority: int = DEFAULT_PRIORITY
    category: str = DEFAULT_CATEGORY
    sentiment: str | None = None
    sentiment_score: float | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    spam: bool = False
    suggested_macro: str | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)


def merge_triage(contributions: Iterable[TriageContribution | None]) -> TriageResult:
    """Merge contributions in plugin-call order (later registered plugins are called first)."""
    proposals: list[int] = []
    escalation = 0
    best_category: tuple[float, str] | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    language: str | None = None
    tags: dict[str, None] = {}
    spam_votes: list[bool] = []
    macro: str | None = None
    reasons: dict[str, None] = {}
    for c in contributions:
        if c is None:
            continue
        if c.priority is not None:
            proposals.append(clamp_priority(c.priority))
        escalation += c.escalate
        if c.category and (best_category is None or c.category_confidence > best_category[0]):
            best_category = (c.category_confidence, c.category)
        if sentiment is None and c.sentiment:
            sentiment, sentiment_score = c.sentiment, c.sentiment_score
        if language is None and c.language:
            language = c.language
        tags.update(dict.fromkeys(c.tags))
        if c.spam is not None:
            spam_votes.append(c.spam)
        if macro is None and c.suggested_macro:
            macro = c.suggested_macro
        reasons.update(dict.fromkeys(c.reasons))
    base = min(proposals) if proposals else DEFAULT_PRIORITY
    return TriageResult(
        priority=clamp_priority(base - escalation),
        category=best_category[1] if best_category else DEFAULT_CATEGORY,
        sentiment=sentiment,
        sentiment_score=sentiment_score,
        language=language,
        tags=tuple(tags),
        spam=any(spam_votes),
        suggested_macro=macro,
        reasons=tuple(reasons),
    )
