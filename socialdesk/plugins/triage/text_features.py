"""Turning a mention's text into the sparse feature vector the learned triage model reads.

The same function is handed to scikit-learn as its analyzer when training
(:mod:`socialdesk.plugins.triage.training`) and used by plain numpy at run time
(:mod:`socialdesk.plugins.triage.model_file`), so training and prediction can never
disagree on what a feature is. Features: lower-cased word unigrams and bigrams, and
character 2..4-grams inside each word (padded with spaces, as scikit-learn's ``char_wb``),
which carry misspellings, emoji, hashtags and other scripts. Handles and links become one
token each: who is addressed or which URL is shared says little about urgency.
"""

from __future__ import annotations

import re
import unicodedata

# The opening carries the verdict; a 10,000-character mention costs no more than this.
MAX_CHARS = 1_000
MAX_WORDS = 160

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_NUMBER = re.compile(r"\d+")
# A word is a run of letters, digits and apostrophes, or one symbol (emoji, "!", "?").
_WORD = re.compile(r"[\w']+|[^\w\s]")
_CHAR_RANGE = (2, 4)


def normalise(text: str) -> str:
    """NFKC, lower-cased, without NUL and other control characters, links and handles as tokens."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    if not text.isprintable():  # most mentions are: skip the per-character pass
        text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = _LINK.sub(" httplink ", text)
    text = _HANDLE.sub(" @user ", text)
    return _NUMBER.sub("0", text)


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))[:MAX_WORDS]


def token_features(token: str) -> list[str]:
    """The features one word carries on its own: the word, and its character n-grams.

    They depend on the word alone, so a predictor may remember them per word
    (:class:`socialdesk.plugins.triage.model_file.TriageModel` does)."""
    features = [f"w:{token}"]
    if len(token) == 1 and not token.isalnum():
        return features  # a lone symbol is already a word feature
    padded = f" {token} "
    low, high = _CHAR_RANGE
    for n in range(low, high + 1):
        features += [f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1)]
    return features


def bigrams(tokens: list[str]) -> list[str]:
    return [f"b:{a} {b}" for a, b in zip(tokens, tokens[1:])]


def analyse(text: str) -> list[str]:
    """Every feature name of ``text`` (repeats count: the model weighs term frequency)."""
    tokens = words(text)
    features = bigrams(tokens)
    for token in tokens:
        features += token_features(token)
    return features
