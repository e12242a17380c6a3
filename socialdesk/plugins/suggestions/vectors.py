"""What a conversation is made of for similarity: its terms, weighed by TF-IDF.

Terms are the learned triage model's word tokens (:func:`socialdesk.plugins.triage.text_features.words`:
NFKC, case-folded, links, handles and numbers as one token each), as unigrams and
bigrams; lone punctuation is left out. Weights are sublinear term frequency times a
smoothed inverse document frequency (scikit-learn's ``smooth_idf``), compared by cosine.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from socialdesk.plugins.triage.text_features import words

MAX_TERMS = 400  # a long post is still one conversation: its most frequent terms are enough


def terms(texts: Iterable[str]) -> dict[str, int]:
    """Term -> count over ``texts`` (a conversation's customer messages)."""
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = [t for t in words(text) if len(t) > 1 or t.isalnum()]
        counts.update(tokens)
        counts.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
    return dict(counts.most_common(MAX_TERMS))


def idf(documents: int, frequency: int) -> float:
    return math.log((1 + documents) / (1 + frequency)) + 1.0


def weight(count: int, inverse_frequency: float) -> float:
    return (1.0 + math.log(count)) * inverse_frequency


def norm(vector: Mapping[str, int], inverse_frequency: Mapping[str, float], default_idf: float) -> float:
    return math.sqrt(sum(weight(c, inverse_frequency.get(t, default_idf)) ** 2 for t, c in vector.items()))


def cosine(a: Mapping[str, int], b: Mapping[str, int], documents: int, frequency: Mapping[str, int]) -> float:
    """TF-IDF cosine of two term vectors given document frequencies (for tests and the benchmark)."""
    weights = {t: idf(documents, frequency.get(t, 0)) for t in set(a) | set(b)}
    dot = sum(weight(c, weights[t]) * weight(b[t], weights[t]) for t, c in a.items() if t in b)
    na = math.sqrt(sum(weight(c, weights[t]) ** 2 for t, c in a.items()))
    nb = math.sqrt(sum(weight(c, weights[t]) ** 2 for t, c in b.items()))
    return dot / (na * nb) if na and nb else 0.0
