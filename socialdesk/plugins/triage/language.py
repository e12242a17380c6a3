"""Default plugin: which language a mention is written in, for routing and tagging.

The detector is py3langid (a faster fork of langid.py; its model ships in the wheel, so
nothing is downloaded at run time). It was chosen by measuring four offline detectors on
XLM-T tweets (``bench/language_choice.py``): it is the most accurate when the candidates
are restricted to a desk's own languages (``languages``), above all on short texts, close
to the best without a restriction, fast, and needs only numpy.

The merged language decides which per-language keyword rules apply (``when_language``),
so a guess below ``min_confidence`` is no guess at all: better no language than a wrong one.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.triage import TriageContribution

if TYPE_CHECKING:  # py3langid (with numpy) is imported when the model is first loaded
    from py3langid.langid import LanguageIdentifier

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


@cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    # Loading the model takes about half a second: once per set of candidates, per process.
    # The identifier is only read afterwards.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages:
        identifier.set_languages(list(languages))
    return identifier


def known_languages() -> frozenset[str]:
    return frozenset(_identifier(()).labels)


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
    code, confidence = _identifier(tuple(sorted(settings.languages))).classify(cleaned)
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
