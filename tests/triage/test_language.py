"""The language plugin: py3langid on the words of a mention, a confidence floor, lang:xx tags."""

from __future__ import annotations

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.triage import merge_triage
from socialdesk.plugins.triage.keyword_rules import DEFAULT_RULES, triage_text
from socialdesk.plugins.triage.language import LanguageSettings, clean_for_detection, detect

DEFAULT = LanguageSettings()


@pytest.mark.parametrize(("text", "code"), [
    ("@acme the app has been down all morning and nobody answers", "en"),
    ("@acme le site est en panne depuis ce matin, personne ne répond", "fr"),
    ("@acme die App funktioniert seit heute Morgen nicht mehr", "de"),
    ("@acme la aplicación no funciona desde esta mañana", "es"),
    ("@acme o aplicativo está fora do ar desde hoje de manhã", "pt"),
    ("@acme l'app non funziona da stamattina, nessuno risponde", "it"),
    ("@acme التطبيق لا يعمل منذ الصباح", "ar"),
])
def test_detects_the_language_of_a_mention(text, code):
    found = detect(text, DEFAULT)
    assert found is not None and found[0] == code and 0 < found[1] <= 1


def test_handles_links_and_hashtag_signs_are_left_out():
    assert clean_for_detection("@acme_support see https://acme.example/x?y=1 #fail www.acme.com ok") == "see fail ok"


def test_no_words_or_a_weak_guess_is_no_language():
    assert detect("@acme https://t.co/abc 👍👍 !!!", DEFAULT) is None
    assert detect("ok", DEFAULT) is None  # too short to tell: better none than a wrong one
    assert detect("ok", LanguageSettings(min_confidence=0)) is not None


def test_restricting_candidates_fixes_close_calls():
    text = "Danke"
    assert detect(text, LanguageSettings(min_confidence=0))[0] != "de"
    assert detect(text, LanguageSettings(languages=["en", "de", "fr"], min_confidence=0))[0] == "de"


def test_language_picks_the_per_language_keyword_rules():
    rules = list(DEFAULT_RULES)
    french = "le site est en panne, je veux un remboursement"
    merged = merge_triage([[_language(french)], triage_text(french, rules)])
    assert (merged.language, merged.category, merged.priority) == ("fr", "outage", 1)
    assert merged.reasons == ("keyword 'panne'", "keyword 'remboursement'")
    # The same words in a mention found to be English match no French rule.
    english = "my friend's panne cotta recipe needs a remboursement joke"
    merged = merge_triage([[_language(english, "en")], triage_text(english, rules)])
    assert (merged.language, merged.category, merged.reasons) == ("en", "question", ())


def _language(text: str, code: str | None = None):
    from socialdesk.core.triage import TriageContribution
    found = detect(text, DEFAULT)
    return TriageContribution(language=code or (found[0] if found else None))


def test_bad_language_codes_are_clear_config_problems():
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"language": {"languages": ["en", "french"]}}}, discover_plugins())
    [line] = caught.value.lines()
    assert line.startswith("plugins.toml: plugins.language.languages: unknown language code(s) 'french'")
    assert "ISO 639-1" in line
