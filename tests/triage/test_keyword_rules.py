"""keyword_triage additions: per-language rule lists, one contribution per rule, emoji,
and the default rules for all eight categories."""

from __future__ import annotations

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.triage import TriageContribution, merge_triage
from socialdesk.plugins.triage.keyword_rules import DEFAULT_RULES, KeywordTriageSettings, triage_text

RULES = KeywordTriageSettings(rules=[
    {"name": "refund fr", "category": "refund", "priority": 2, "keywords": ["remboursement"], "languages": ["fr"]},
    {"name": "refund", "category": "refund", "priority": 2, "keywords": ["refund"]},
    {"name": "angry", "escalate": 1, "keywords": ["😡", "🤬"], "tags": ["angry"]},
    {"name": "kudos", "category": "praise", "priority": 4, "keywords": ["👍", "❤"]},
]).rules


def merged(text: str, language: str | None = None, rules=RULES):
    return merge_triage([TriageContribution(language=language), triage_text(text, rules)])


def test_one_contribution_per_matched_rule_each_with_its_language():
    contributions = triage_text("remboursement! refund! 😡", RULES)
    assert [c.reasons for c in contributions] == [("keyword 'remboursement'",), ("keyword 'refund'",),
                                                  ("keyword '😡'",)]
    assert [c.when_language for c in contributions] == [("fr",), (), ()]


def test_a_language_rule_applies_only_in_its_language():
    assert merged("je veux un remboursement", "fr").reasons == ("keyword 'remboursement'",)
    assert merged("je veux un remboursement", "fr").category == "refund"
    assert merged("remboursement is a word I know", "en").reasons == ()
    assert merged("remboursement", None).reasons == ()  # language unknown: not applied


def test_emoji_match_whatever_their_skin_tone_or_presentation():
    assert merged("😡😡 again").priority == 2
    assert merged("ok 👍🏽").reasons == ("keyword '👍'",)
    assert merged("we ❤️ you").category == "praise"
    assert merged("down😡").reasons == ("keyword '😡'",)  # an emoji glued to a word still matches


@pytest.mark.parametrize(("text", "category", "priority"), [
    ("the site is down again", "outage", 1),
    ("my account was hacked", "account_security", 1),
    ("I'm locked out of my account", "account_security", 2),
    ("I was charged twice this month", "billing", 2),
    ("I want my money back", "refund", 2),
    ("the app crashes when I upload a photo", "bug", 3),
    ("how do I change my username?", "question", 3),
    ("feature request: dark mode would be nice", "feedback", 4),
    ("love the new update!", "praise", 4),
    ("le site est en panne", "question", 3),  # French rules need the language
])
def test_default_rules_cover_the_eight_categories(text, category, priority):
    result = merged(text, rules=list(DEFAULT_RULES))
    assert (result.category, result.priority) == (category, priority)


@pytest.mark.parametrize(("text", "language", "category"), [
    ("le site est en panne", "fr", "outage"), ("quiero un reembolso", "es", "refund"),
    ("die App funktioniert nicht", "de", "outage"), ("o site está fora do ar", "pt", "outage"),
    ("voglio un rimborso", "it", "refund"), ("Rückerstattung bitte", "de", "refund"),
])
def test_default_rules_per_language(text, language, category):
    assert merged(text, language, rules=list(DEFAULT_RULES)).category == category


def test_bad_language_code_in_a_rule_is_a_clear_config_problem():
    rules = [{"name": "x", "keywords": ["a"], "languages": ["French"]}]
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"keyword_triage": {"rules": rules}}}, discover_plugins())
    [line] = caught.value.lines()
    assert line.startswith("plugins.toml: plugins.keyword_triage.rules.0.languages: ") and "'fr'" in line
