"""Fitting the learned triage model (scikit-learn, only here: the ``train`` extra).

One TF-IDF vocabulary over word and character n-grams
(:func:`socialdesk.plugins.triage.text_features.analyse`) plus VADER's four scores, and
one logistic regression per head, each on the rows labelled for it. Deterministic given
the data and the seed. The result is exported to plain arrays
(:class:`socialdesk.plugins.triage.model_file.TriageModel`); nothing of scikit-learn is
needed to predict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from socialdesk.core.extras import OptionalExtra
from socialdesk.plugins.triage import evaluation
from socialdesk.plugins.triage.model_file import DENSE_FEATURES, FORMAT, TriageModel, softmax_columns, vader_scores
from socialdesk.plugins.triage.text_features import analyse
from socialdesk.plugins.triage.training_data import HEAD_LABELS, HEADS, PERMISSIVE_SOURCES, Example

DEFAULT_SEED = 13
MAX_FEATURES = 60_000
# Regularisation per head, chosen on the training sets' held-out fifth (smaller = stronger).
HEAD_C = {"urgency": 4.0, "category": 8.0, "sentiment": 2.0, "needs_reply": 4.0, "spam": 8.0}
# Heads whose classes are very unequal in the data weigh each class equally.
BALANCED = {"urgency", "needs_reply", "spam"}
ABSENT_BIAS = -30.0  # a label no training row has (e.g. outage) gets a column that never wins


class TrainingUnavailable(Exception):
    pass


TRAIN_EXTRA = OptionalExtra("train", ("sklearn",))


def _sklearn() -> Any:
    problem = TRAIN_EXTRA.problem(otherwise="")
    if problem is not None:
        raise TrainingUnavailable(f"training {problem}")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    return TfidfVectorizer, LogisticRegression


@dataclass(frozen=True, slots=True)
class Weighted:
    """An example with a training weight (an agent's correction counts more than a public row)."""

    example: Example
    weight: float = 1.0


def _dense(texts: Sequence[str]) -> np.ndarray:
    return np.vstack([vader_scores(t) for t in texts]) if texts else np.zeros((0, len(DENSE_FEATURES)))


def fit(rows: Sequence[Weighted], *, seed: int = DEFAULT_SEED, name: str = "base",
        meta: dict[str, Any] | None = None, max_features: int = MAX_FEATURES) -> TriageModel:
    """Fit every head on ``rows`` (each head on the rows that carry its label)."""
    from scipy import sparse

    TfidfVectorizer, LogisticRegression = _sklearn()
    texts = [r.example.text for r in rows]
    vectorizer = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, min_df=2, max_features=max_features,
                                 dtype=np.float32)
    tfidf = vectorizer.fit_transform(texts)
    features = sparse.hstack([tfidf, sparse.csr_matrix(_dense(texts))], format="csr")
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for feature, index in vectorizer.vocabulary_.items():
        vocabulary[index] = feature
    columns, biases = [], []
    counts: dict[str, dict[str, int]] = {}
    for head in HEADS:
        labels = HEAD_LABELS[head]
        chosen = [i for i, r in enumerate(rows) if r.example.label(head) is not None]
        y = [r.example.label(head) for r in (rows[i] for i in chosen)]
        counts[head] = dict(Counter(y))
        weight = np.zeros((features.shape[1], len(labels)), dtype=np.float64)
        bias = np.full(len(labels), ABSENT_BIAS)
        if len(set(y)) >= 2:
            model = LogisticRegression(C=HEAD_C[head], max_iter=2000, random_state=seed,
                                       class_weight="balanced" if head in BALANCED else None)
            model.fit(features[chosen], y, sample_weight=np.array([rows[i].weight for i in chosen]))
            coef, intercept = softmax_columns(model.coef_, model.intercept_)
            for j, label in enumerate(model.classes_):
                weight[:, labels.index(label)] = coef[:, j]
                bias[labels.index(label)] = intercept[j]
        columns.append(weight)
        biases.append(bias)
    full_meta = {"format": FORMAT, "name": name, "seed": seed, "dense": list(DENSE_FEATURES),
                 "heads": [{"name": h, "labels": list(HEAD_LABELS[h])} for h in HEADS],
                 "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                 "training_rows": len(rows), "labels_per_head": counts, **(meta or {})}
    return TriageModel(vocabulary, vectorizer.idf_.astype(np.float32), np.hstack(columns).astype(np.float32),
                       np.concatenate(biases).astype(np.float32), full_meta)


def heldout_figures(model: TriageModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Per source and head: accuracy, macro-F1, ECE and per-class figures on ``examples``."""
    predictions = [model.predict(e.text) for e in examples]
    figures: dict[str, Any] = {}
    for source in sorted({e.source for e in examples}):
        for head in HEADS:
            pairs = [(e.label(head), p) for e, p in zip(examples, predictions)
                     if e.source == source and e.label(head) is not None]
            if len(pairs) < 20 or len({g for g, _ in pairs}) < 2:
                continue
            gold = [g for g, _ in pairs]
            best = [p.best(head) for _, p in pairs]
            figures.setdefault(source, {})[head] = evaluation.summary(
                gold, [b[0] for b in best], [b[1] for b in best], HEAD_LABELS[head])
    return figures


def train_base(data: Path, seed: int = DEFAULT_SEED) -> tuple[TriageModel, dict[str, Any]]:
    """The shipped model: fit on the training split of the permissive sets; figures on the rest."""
    from socialdesk.plugins.triage.training_data import load_examples

    examples = load_examples(data, seed)
    train = [Weighted(e) for e in examples if e.split == "train"]
    heldout = [e for e in examples if e.split == "heldout"]
    sizes: dict[str, dict[str, int]] = {}
    for e in examples:
        sizes.setdefault(e.source, Counter())[e.split] += 1  # type: ignore[index]
    model = fit(train, seed=seed, name="base", meta={
        "sources": {s: {"license": PERMISSIVE_SOURCES[s], **dict(c)} for s, c in sizes.items()}})
    model.meta["heldout"] = heldout_figures(model, heldout)
    return model, model.meta
