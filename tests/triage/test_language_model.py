"""The compact language model counts the same features and gives the same verdicts as
py3langid's own loader, on every set of candidates, while sharing one copy of the model."""

from __future__ import annotations

import random

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from socialdesk.plugins.triage import language_model

TEXTS = [
    "the app has been down all morning and nobody answers",
    "le site est en panne depuis ce matin, personne ne répond",
    "die App funktioniert seit heute Morgen nicht mehr",
    "la aplicación no funciona desde esta mañana",
    "o aplicativo está fora do ar desde hoje de manhã",
    "l'app non funziona da stamattina, nessuno risponde",
    "التطبيق لا يعمل منذ الصباح",
    "приложение не работает с утра", "アプリが朝から動きません", "应用程序从早上开始就无法使用",
    "ΠΟΛΎ ΚΑΚΉ ΕΞΥΠΗΡΈΤΗΣΗ", "Danke", "ok", "", "😀😀 !!", "x" * 3000,
]


@pytest.fixture(scope="module")
def reference() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _samples() -> list[str | bytes]:
    rnd = random.Random(14)
    words = " ".join(TEXTS).split()
    mixed = [" ".join(rnd.choice(words) for _ in range(rnd.randrange(1, 30))) for _ in range(300)]
    noise = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 120))) for _ in range(300)]
    return [*TEXTS, *mixed, *noise]


def test_features_are_counted_as_the_dfa_counts_them(reference):
    nodes = language_model.base_model().nodes
    for text in _samples():
        encoded = reference._encode(text)
        assert nodes.counts(encoded) == visit_counts(reference.tk_nextmove, reference._rowbase,
                                                     reference.tk_output, encoded), text


@pytest.mark.parametrize("languages", [(), ("de", "en", "fr"), ("ar", "de", "en", "es", "fr", "hi", "it", "pt")])
def test_verdicts_equal_py3langids_own(reference, languages):
    compact = language_model.identifier(languages)
    reference.set_languages(list(languages) or None)
    try:
        for text in _samples():
            assert compact.classify(text) == reference.classify(text), text
    finally:
        reference.set_languages(None)


def test_every_set_of_candidates_shares_one_model():
    every, some = language_model.identifier(()), language_model.identifier(("en", "fr"))
    assert every.nodes is some.nodes
    assert every.nb_ptc is language_model.base_model().nb_ptc  # the full table is not copied
    assert set(some.nb_classes) == {"en", "fr"}
    assert language_model.known_languages() >= {"en", "fr", "de", "ar"}
