"""The base model's data card: what it was trained on (sources, licences, sizes), how the
labels were derived, and how it did on held-out data. Written next to the model file by
``socialdesk triage train`` and shipped with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialdesk.plugins.triage.model_file import TriageModel


def _figures(heldout: dict[str, Any]) -> list[str]:
    lines = ["| source | head | n | accuracy | macro-F1 | ECE |", "|---|---|---|---|---|---|"]
    for source, heads in sorted(heldout.items()):
        for head, f in heads.items():
            lines.append(f"| {source} | {head} | {f['n']} | {f['accuracy']:.3f} | {f['macro_f1']:.3f} | {f['ece']:.3f} |")
    return lines


def render(model: TriageModel, file_name: str, sha256: str, size: int) -> str:
    meta = model.meta
    lines = [
        f"# Data card: {file_name}",
        "",
        "The learned triage model shipped with socialdesk (plugin `learned_triage`). Plain arrays "
        "(`.npz`, read with `allow_pickle=False`); rebuilt with `socialdesk triage train --data ../shared/data "
        f"--seed {meta.get('seed')}`.",
        "",
        f"* file: `{file_name}`, {size:,} bytes, sha256 `{sha256}`",
        f"* trained: {meta.get('created_at')}, seed {meta.get('seed')}, {meta.get('training_rows'):,} training rows, "
        f"{len(model.vocabulary):,} n-gram features + VADER's 4 scores",
        "* heads: " + "; ".join(f"{h.name} ({', '.join(h.labels)})" for h in model.heads),
        "* model: logistic regression per head (scikit-learn) over TF-IDF word 1-2-grams and character "
        "2-4-grams within words; prediction is numpy only",
        "",
        "## Sources and licences (attribution)",
        "",
        "Only permissively licensed sets train it. twitter_airline_sentiment (CC BY-NC-SA) and "
        "complaints_social_media (no licence) are held-out tests only (`bench/triage_eval.py`). XLM-T's "
        "English set is 870 tweets of tweeteval's sentiment test split (same labels): the bench measures "
        "sentiment on the rest of that split.",
        "",
        "| source | licence | train rows | held-out rows |",
        "|---|---|---|---|",
    ]
    for source, info in sorted(meta.get("sources", {}).items()):
        lines.append(f"| {source} | {info['license']} | {info.get('train', 0):,} | {info.get('heldout', 0):,} |")
    lines += [
        "",
        "## Labels",
        "",
        "Urgency is derived (no set labels it): the intents where a customer has lost money or access now "
        "(lost/stolen/compromised card, failed or missing transfer, charged twice or not recognised, locked "
        "account or password recovery, money deducted but not credited) are urgent; so are negative tweets "
        "(tweeteval, XLM-T) and anger (tweeteval emotion). Categories map intents to the desk's ten; "
        "positive tweets are praise, neutral ones other. The full maps are in "
        "`socialdesk/plugins/triage/training_data.py`.",
        "",
        "Per head, rows labelled for it: " + "; ".join(
            f"{head} {sum(c.values()):,} ({', '.join(f'{k} {v:,}' for k, v in sorted(c.items()))})"
            for head, c in meta.get("labels_per_head", {}).items()),
        "",
        "## Held-out figures",
        "",
        "A stable fifth of each source (by a hash of the text), or its own test split (banking77 test, HINT3 "
        "test with its out-of-scope queries as `other`). ECE: expected calibration error, 10 bins.",
        "",
        *_figures(meta.get("heldout", {})),
        "",
        "Figures on data it never trained on at all (complaints, airline, tweeteval sentiment test, spam): "
        "README.md, Measurements (`bench/triage_eval.py`).",
        "",
    ]
    return "\n".join(lines)


def write_data_card(model: TriageModel, path: Path, file_name: str, sha256: str, size: int) -> None:
    path.write_text(render(model, file_name, sha256, size), "utf-8")
