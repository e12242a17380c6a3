"""The sentiment plugin: VADER's score and label, and escalation only on a complaint."""

from __future__ import annotations

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.triage import TriageContribution, merge_triage
from socialdesk.plugins.triage.sentiment import SentimentSettings, compound_score, label, triage_text

DEFAULT = SentimentSettings()


@pytest.mark.parametrize(("text", "expected"), [
    ("This is the WORST service ever, absolutely furious 😡", "negative"),
    ("I love this app, you folks are amazing!", "positive"),
    ("The update is out on Tuesday", "neutral"),
    ("not bad at all", "positive"),  # VADER handles negation
])
def test_labels(text, expected):
    [verdict, *_] = triage_text(text, DEFAULT)
    assert verdict.sentiment == expected
    assert verdict.sentiment_score == pytest.approx(compound_score(text), abs=1e-4)


def test_thresholds_decide_the_label():
    settings = SentimentSettings(negative_threshold=-0.5, positive_threshold=0.5)
    assert [label(s, settings) for s in (-0.6, -0.5, -0.3, 0.3, 0.5, 0.9)] == [
        "negative", "negative", "neutral", "neutral", "positive", "positive"]


def test_capitals_and_exclamations_make_it_stronger():
    assert compound_score("this is bad!!!") < compound_score("this is bad") < 0
    assert compound_score("this is BAD") < compound_score("this is bad")


def _refund(priority: int = 2) -> TriageContribution:
    return TriageContribution(category="refund", priority=priority, reasons=("keyword 'refund'",))


def test_negative_complaint_is_escalated_with_a_reason():
    angry = "I want a refund, this is a disgusting scam"
    merged = merge_triage([_refund(3), triage_text(angry, DEFAULT)])
    assert merged.priority == 2
    assert merged.reasons == ("keyword 'refund'", "negative sentiment")
    assert merged.sentiment == "negative" and merged.sentiment_score < -0.2
    # Anger alone never pages on-call: a P2 complaint stays P2, unless the cap is lifted.
    assert merge_triage([_refund(2), triage_text(angry, DEFAULT)]).priority == 2
    assert merge_triage([_refund(2), triage_text(angry, SentimentSettings(escalate_up_to=1))]).priority == 1


def test_negative_praise_or_question_is_not_escalated():
    text = "terrible weather, sad day"
    for category in ("praise", "question", "feedback"):
        merged = merge_triage([TriageContribution(category=category, priority=3), triage_text(text, DEFAULT)])
        assert (merged.priority, merged.reasons, merged.sentiment) == (3, (), "negative")


def test_positive_complaint_is_not_escalated():
    merged = merge_triage([_refund(), triage_text("refund arrived, thank you so much, great support!", DEFAULT)])
    assert (merged.priority, merged.reasons, merged.sentiment) == (2, ("keyword 'refund'",), "positive")


def test_escalation_steps_are_configurable():
    text = "refund now, awful horrible service"
    two_steps = SentimentSettings(escalate_on_complaint=2, escalate_up_to=1)
    assert merge_triage([_refund(3), triage_text(text, two_steps)]).priority == 1
    capped = SentimentSettings(escalate_on_complaint=2)
    assert merge_triage([_refund(4), triage_text(text, capped)]).priority == 2
    none = merge_triage([_refund(3), triage_text(text, SentimentSettings(escalate_on_complaint=0))])
    assert (none.priority, none.reasons, none.sentiment) == (3, ("keyword 'refund'",), "negative")


def test_languages_restrict_scoring():
    settings = SentimentSettings(languages=["en"])
    text = "awful awful service, I want a refund"
    english = merge_triage([TriageContribution(language="en"), _refund(3), triage_text(text, settings)])
    assert (english.sentiment, english.priority) == ("negative", 2)
    french = merge_triage([TriageContribution(language="fr"), _refund(3), triage_text(text, settings)])
    assert (french.sentiment, french.priority, french.reasons) == (None, 3, ("keyword 'refund'",))


@pytest.mark.parametrize(("settings", "path", "message"), [
    ({"negative_threshold": 0.2}, "negative_threshold", "less than or equal to 0"),
    ({"escalate_on_complaint": 4}, "escalate_on_complaint", "less than or equal to 3"),
    ({"escalate_up_to": 0}, "escalate_up_to", "greater than or equal to 1"),
    ({"negative_treshold": -0.1}, "negative_treshold", "did you mean 'negative_threshold'"),
])
def test_bad_settings_are_clear_config_problems(settings, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"sentiment": settings}}, discover_plugins())
    [line] = caught.value.lines()
    assert line.startswith(f"plugins.toml: plugins.sentiment.{path}: ") and message in line
