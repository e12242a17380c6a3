"""Triage contributions from plugins and how the core merges them into one verdict.

Every triage plugin sees the mention alone (they run independently, in any order), so a
plugin that depends on another's verdict says so with a *condition* instead of asking:
``when_language=("fr",)`` applies only if the merged language is French,
``when_category=COMPLAINT_CATEGORIES`` only if the merged category is a complaint. The
merge resolves the language first, then the category, then everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 4
DEFAULT_PRIORITY = 3
DEFAULT_CATEGORY = "question"
CATEGORIES = ("outage", "bug", "billing", "account_security", "refund", "question", "feedback", "praise",
              "delivery", "other")
# Categories where the customer is unhappy: negative sentiment makes these more urgent.
COMPLAINT_CATEGORIES = ("outage", "bug", "billing", "account_security", "refund", "delivery")


def clamp_priority(value: int) -> int:
    return max(HIGHEST_PRIORITY, min(LOWEST_PRIORITY, value))


@dataclass(frozen=True, slots=True)
class TriageContribution:
    """What one triage plugin says about a mention. Every field is optional.

    ``priority`` proposes an absolute priority (1 = most urgent, 4 = least); the most
    urgent proposal wins. ``escalate`` moves the result up (positive) or down
    (negative) by whole steps; the steps of all plugins add up. ``escalate_limit``
    caps what this contribution's own steps can reach (2: it may raise a mention to P2
    but never make it page on-call as P1 by itself); ``None`` is no cap. ``reasons``
    explain the verdict on the card ("negative sentiment", "keyword 'refund'").

    ``when_language`` / ``when_category`` make the whole contribution conditional on the
    merged verdict (empty = unconditional). ``auto_close`` (a reason such as
    "pleasantry" or "blocked author") asks the desk to file the mention closed, without
    a card. ``storm_key`` puts the ticket into the incident of that key (one card for the
    whole storm); ``storm_members`` are the (platform, conversation_id) of tickets opened
    before the storm was recognised, linked to the same incident.
    """

    priority: int | None = None
    escalate: int = 0
    escalate_limit: int | None = None
    category: str | None = None
    category_confidence: float = 0.5
    sentiment: str | None = None
    sentiment_score: float | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    spam: bool | None = None
    suggested_macro: str | None = None
    reasons: tuple[str, ...] = ()
    when_language: tuple[str, ...] = ()
    when_category: tuple[str, ...] = ()
    auto_close: str | None = None
    storm_key: str | None = None
    storm_title: str | None = None
    storm_members: tuple[tuple[str, str], ...] = ()


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
    auto_close: str | None = None
    storm_key: str | None = None
    storm_title: str | None = None
    storm_members: tuple[tuple[str, str], ...] = ()


def _flatten(contributions: Iterable[TriageContribution | Iterable[TriageContribution] | None]
             ) -> list[TriageContribution]:
    flat: list[TriageContribution] = []
    for c in contributions:
        if c is None:
            continue
        if isinstance(c, TriageContribution):
            flat.append(c)
        else:
            flat.extend(x for x in c if x is not None)
    return flat


def _best_category(contributions: Iterable[TriageContribution]) -> str | None:
    best: tuple[float, str] | None = None
    for c in contributions:
        if c.category and (best is None or c.category_confidence > best[0]):
            best = (c.category_confidence, c.category)
    return best[1] if best else None


def _escalate_within_limits(priority: int, capped: list[tuple[int, int]]) -> int:
    """Apply the capped (steps, cap) after the free steps: a step never takes the priority
    past its cap, and never lowers a priority that was already more urgent than the cap."""
    for steps, cap in capped:
        moved = priority - steps
        if steps > 0 and moved < cap:
            moved = min(priority, cap)
        priority = clamp_priority(moved)
    return priority


def merge_triage(contributions: Iterable[TriageContribution | Iterable[TriageContribution] | None]) -> TriageResult:
    """Merge contributions in plugin-call order (later registered plugins are called first).

    A plugin may return one contribution or a list of them (one per rule that matched,
    each with its own conditions).
    """
    flat = _flatten(contributions)
    language = next((c.language for c in flat if c.language and not c.when_language and not c.when_category), None)
    flat = [c for c in flat if not c.when_language or (language is not None and language in c.when_language)]
    category = _best_category(c for c in flat if not c.when_category) or DEFAULT_CATEGORY
    flat = [c for c in flat if not c.when_category or category in c.when_category]

    proposals: list[int] = []
    escalation = 0
    capped: list[tuple[int, int]] = []  # (steps, cap) of the contributions with a cap
    sentiment: str | None = None
    sentiment_score: float | None = None
    tags: dict[str, None] = {}
    spam_votes: list[bool] = []
    macro: str | None = None
    reasons: dict[str, None] = {}
    auto_close: str | None = None
    storm: TriageContribution | None = None
    for c in flat:
        if c.priority is not None:
            proposals.append(clamp_priority(c.priority))
        if c.escalate_limit is None:
            escalation += c.escalate
        elif c.escalate:
            capped.append((c.escalate, c.escalate_limit))
        if sentiment is None and c.sentiment:
            sentiment, sentiment_score = c.sentiment, c.sentiment_score
        tags.update(dict.fromkeys(c.tags))
        if c.spam is not None:
            spam_votes.append(c.spam)
        if macro is None and c.suggested_macro:
            macro = c.suggested_macro
        reasons.update(dict.fromkeys(c.reasons))
        if auto_close is None and c.auto_close:
            auto_close = c.auto_close
        if storm is None and c.storm_key:
            storm = c
    base = min(proposals) if proposals else DEFAULT_PRIORITY
    spam = any(spam_votes)
    # Spam sinks to the bottom whatever it claims: a scam saying "your account is hacked,
    # click here" must not page on-call.
    priority = LOWEST_PRIORITY if spam else _escalate_within_limits(clamp_priority(base - escalation), capped)
    return TriageResult(
        priority=priority,
        category=category,
        sentiment=sentiment,
        sentiment_score=sentiment_score,
        language=language,
        tags=tuple(tags),
        spam=spam,
        suggested_macro=macro,
        reasons=tuple(reasons),
        auto_close=auto_close,
        storm_key=storm.storm_key if storm else None,
        storm_title=storm.storm_title if storm else None,
        storm_members=storm.storm_members if storm else (),
    )
