"""Default plugin: which language a mention is written in, for routing and tagging.

The detector is py3langid (a faster fork of langid.py; its model ships in the wheel, so
nothing is downloaded at run time). It was chosen by measuring four offline detectors on
XLM-T tweets (``bench/language_choice.py``): it is the most accurate when the candidates
are restricted to a desk's own languages (``languages``), above all on short texts, close
to the best without a restriction, fast, and needs only numpy.

The merged language decides which per-language keyword rules apply (``when_language``),
so a guess below ``min_confidence`` is no guess at all: better no language than a wrong one.
The model is loaded on first use, once per process, in a compact form
(``language_model``: the same verdicts in about half of py3langid's own memory).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.triage import TriageContribution
from socialdesk.plugins.triage import language_model

PLUGIN_NAME = "language"
# Enough words to decide; a 10,000-character mention must not cost more than a tweet.
MAX_CHARS = 1_000
TAG_PREFIX = "lang:"

_HANDLE = re.compile(r"(?<!\w)@\w+")
_LINK = re.compile(r"\b(?:https?://|www\.)\S*|\bhttps?\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def clean_for_detection(text: str) -> str:
    """The words of ``text``: @handles and links say nothing about its language."""
    text = _LINK.sub(" ", _HANDLE.sub(" ", text[:MAX_CHARS])).replace("#", " ")
    return _SPACES.sub(" ", text).strip()


def known_languages() -> frozenset[str]:
    return language_model.known_languages()


class LanguageSettings(StrictModel):
    languages: list[str] = []  # candidate ISO 639-1 codes; empty = every code the model knows
    min_confidence: float = Field(0.3, ge=0, le=1)
    tag: bool = True

    @field_validator("languages")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        codes = [c.strip().lower() for c in codes]
        unknown = sorted(set(codes) - known_languages())
        if unknown:
            raise ValueError(f"unknown language code(s) {', '.join(map(repr, unknown))}; "
                             "use ISO 639-1 codes such as 'en', 'fr', 'de'")
        return list(dict.fromkeys(codes))


def detect(text: str, settings: LanguageSettings) -> tuple[str, float] | None:
    """(language code, confidence) of ``text``, or None if it has no words or the guess is weak."""
    cleaned = clean_for_detection(text)
    if not any(ch.isalpha() for ch in cleaned):
        return None
    code, confidence = language_model.identifier(tuple(sorted(settings.languages))).classify(cleaned)
    if confidence < settings.min_confidence:
        return None
    return str(code), float(confidence)


@hookimpl
def socialdesk_settings_model() -> type[LanguageSettings]:
    return LanguageSettings


@hookimpl
def socialdesk_triage(mention: Mention, app) -> TriageContribution | None:  # type: ignore[no-untyped-def]
    settings: LanguageSettings = app.settings(PLUGIN_NAME)
    found = detect(mention.text, settings)
    if found is None:
        return None
    code = found[0]
    return TriageContribution(language=code, tags=(f"{TAG_PREFIX}{code}",) if settings.tag else ())
