"""Default plugin: sentiment with VADER, a lexicon and rules made for social media text.

VADER reads emoji, slang, capitals ("DOWN AGAIN") and "!!!" as intensity, and needs no
model download. Its ``compound`` score (-1 .. 1) is stored on the ticket; a negative
score on a complaint (outage, bug, billing, account and security, refund) raises the
priority. The escalation is a conditional contribution (``when_category``), because the
category is decided by other plugins.
"""

from __future__ import annotations

from functools import cache, lru_cache

from pydantic import Field, model_validator
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.triage import COMPLAINT_CATEGORIES, TriageContribution

PLUGIN_NAME = "sentiment"
# VADER is linear in the text; a mention may be 10,000 characters. The opening says enough.
MAX_CHARS = 2_000
NEGATIVE_REASON = "negative sentiment"


class SentimentSettings(StrictModel):
    # VADER's authors' cut-offs are -0.05 / 0.05; these were chosen on tweeteval's
    # validation split (bench/triage_eval.py --tune): macro-F1 on its test split goes
    # from 0.529 to 0.559. A mild "not great" stays neutral instead of escalating.
    negative_threshold: float = Field(-0.2, ge=-1, le=0)
    positive_threshold: float = Field(0.35, ge=0, le=1)
    escalate_on_complaint: int = Field(1, ge=0, le=3)
    # Anger alone should not page on-call: by default it raises a complaint to P2 at most
    # (an outage or security rule, or a VIP, still makes P1). 1 lets it reach P1.
    escalate_up_to: int = Field(2, ge=1, le=4)
    languages: list[str] = []

    @model_validator(mode="after")
    def _ordered(self) -> SentimentSettings:
        if self.negative_threshold > self.positive_threshold:
            raise ValueError("negative_threshold must not be above positive_threshold")
        return self


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes milliseconds: once per process, read-only afterwards.
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=256)
def polarity(opening: str) -> tuple[float, float, float, float]:
    """VADER's (compound, negative, neutral, positive) scores of ``opening`` (at most
    ``MAX_CHARS``). Cached for a few mentions: this plugin and the learned model
    (``learned_triage``) both read them for the same mention."""
    s = _analyzer().polarity_scores(opening)
    return float(s["compound"]), float(s["neg"]), float(s["neu"]), float(s["pos"])


def compound_score(text: str) -> float:
    """VADER's normalised compound score, -1 (most negative) .. 1 (most positive)."""
    return polarity(text[:MAX_CHARS])[0]


def label(score: float, settings: SentimentSettings) -> str:
    if score <= settings.negative_threshold:
        return "negative"
    if score >= settings.positive_threshold:
        return "positive"
    return "neutral"


def triage_text(text: str, settings: SentimentSettings) -> list[TriageContribution]:
    score = compound_score(text)
    sentiment = label(score, settings)
    when_language = tuple(settings.languages)
    verdict = [TriageContribution(sentiment=sentiment, sentiment_score=round(score, 4), when_language=when_language)]
    if sentiment == "negative" and settings.escalate_on_complaint:
        verdict.append(TriageContribution(escalate=settings.escalate_on_complaint,
                                          escalate_limit=settings.escalate_up_to, reasons=(NEGATIVE_REASON,),
                                          when_category=COMPLAINT_CATEGORIES, when_language=when_language))
    return verdict


@hookimpl
def socialdesk_settings_model() -> type[SentimentSettings]:
    return SentimentSettings


@hookimpl
def socialdesk_triage(mention: Mention, app) -> list[TriageContribution]:  # type: ignore[no-untyped-def]
    settings: SentimentSettings = app.settings(PLUGIN_NAME)
    return triage_text(mention.text, settings)
