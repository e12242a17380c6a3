"""Figures a triage model is judged by: per-class precision and recall, macro-F1, recall
at a fixed precision, and calibration. Plain Python over lists, shared by training (the
data card's held-out figures), ``socialdesk triage train --from-desk`` (is the new model
better?) and ``bench/triage_eval.py``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def per_class(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for cls in labels:
        tp = sum(g == cls and p == cls for g, p in zip(gold, predicted))
        fp = sum(g != cls and p == cls for g, p in zip(gold, predicted))
        fn = sum(g == cls and p != cls for g, p in zip(gold, predicted))
        out[cls] = {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                    "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "support": float(tp + fn)}
    return out


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Macro-F1 over ``labels`` (default: the labels present in ``gold``)."""
    labels = list(labels) if labels is not None else sorted(set(gold))
    scores = per_class(gold, predicted, labels)
    return sum(s["f1"] for s in scores.values()) / len(labels) if labels else math.nan


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else math.nan


def binary_f1(gold: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, predicted))
    fp = sum(p and not g for g, p in zip(gold, predicted))
    fn = sum(g and not p for g, p in zip(gold, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0}


def recall_at_precision(gold: Sequence[bool], scores: Sequence[float], min_precision: float) -> dict[str, float]:
    """The highest recall whose precision is at least ``min_precision``, and its threshold."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    positives = sum(gold)
    best = {"recall": 0.0, "precision": 0.0, "threshold": 1.0}
    tp = 0
    for rank, i in enumerate(order, start=1):
        tp += gold[i]
        # Only cut between distinct scores: a threshold takes every tie or none.
        if rank < len(order) and scores[order[rank]] == scores[i]:
            continue
        precision, recall = tp / rank, tp / positives if positives else 0.0
        if precision >= min_precision and recall > best["recall"]:
            best = {"recall": recall, "precision": precision, "threshold": scores[i]}
    return best


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE: |accuracy - confidence| per equal-width confidence bin, weighted by its share."""
    total = len(confidences)
    if not total:
        return math.nan
    sums: list[list[float]] = [[0, 0.0, 0.0] for _ in range(bins)]
    for c, ok in zip(confidences, correct):
        b = min(bins - 1, max(0, math.ceil(c * bins) - 1))
        sums[b][0] += 1
        sums[b][1] += ok
        sums[b][2] += c
    return sum(abs(n_ok - conf) for n, n_ok, conf in sums if n) / total


def summary(gold: Sequence[str], predicted: Sequence[str], confidences: Sequence[float],
            labels: Sequence[str]) -> dict[str, Any]:
    present = [label for label in labels if label in set(gold)]
    return {"n": len(gold), "accuracy": accuracy(gold, predicted), "macro_f1": macro_f1(gold, predicted, present),
            "ece": expected_calibration_error(confidences, [g == p for g, p in zip(gold, predicted)]),
            "per_class": per_class(gold, predicted, present)}
