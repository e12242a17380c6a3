"""Offline quality of similar past answers: replay a public support conversation set in
time order (earlier answers suggest later ones) and measure hit@3.

For each conversation after the warm-up half, the plugin's own index
(:class:`socialdesk.plugins.suggestions.index.AnswerIndex`, fed the same term vectors the
desk stores) suggests the three most similar earlier conversations; the suggestion is a
**hit** when one of their answers is at least ``--threshold`` alike (TF-IDF cosine over the
answers seen so far, :func:`socialdesk.plugins.suggestions.vectors.cosine`) to the answer
the agent actually sent. Then the conversation joins the index, as a close does.

Baselines, paired per conversation in the same run: three earlier answers drawn at random
(seeded), and the three most frequent earlier answers (what a desk with no similarity
would offer). Lookup time is compared, interleaved per conversation, with a scan that
scores every earlier conversation (what the index avoids).

Sources (read at bench time from a repository snapshot the ``fetch`` tool brings into
/work/.mirror, or a file you name; nothing is copied into this repository):

* ``sgd``    Schema-Guided Dialogue (Google, CC BY-SA 4.0), the Banks_1/Banks_2 dialogues as
             kept in arslanmit/chatbotAnalyticsLab: the customer's first turn and the
             system's answer; dialogue files in id order stand for time.
* ``twcs``   Customer Support on Twitter (ThoughtVector, Kaggle, CC BY-NC-SA 4.0: measurement
             only), its public 93-tweet ``sample.csv`` (naman-tiwari/Customer-Support-on-Twitter)
             or the full ``twcs.csv`` if you have it: the customer's opening tweet and the
             brand's reply, ordered by ``created_at``.
* ``bitext`` Bitext customer-support LLM training set (CDLA-Sharing-1.0), a CSV with
             ``instruction`` and ``response`` columns, in a seeded shuffled order.

    .venv/bin/python bench/suggestions_eval.py [--source sgd|twcs|bitext] [--path FILE]
                                               [--threshold 0.5] [--seed 7] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from socialdesk.plugins.suggestions.index import AnswerIndex
from socialdesk.plugins.suggestions.vectors import cosine, terms

MIRROR = Path("/work/.mirror")
SGD_REPO = MIRROR / "arslanmit+chatbotAnalyticsLab" / "repo"
SGD_DIR = "Dataset/SchemaGuidedDialogue/banking_only"
TWCS_REPO = MIRROR / "naman-tiwari+Customer-Support-on-Twitter" / "repo"
TWCS_FILE = "sample.csv"
SHOWN = 3
PRODUCTION_MIN_SIMILARITY = 0.2  # the plugin's default: weaker matches are not shown in the form


@dataclass(frozen=True, slots=True)
class Conversation:
    customer: str
    answer: str


def _git_show(repo: Path, path: str) -> str:
    if not repo.exists():
        sys.exit(f"{repo} is missing: bring the repository snapshot with the fetch tool, or pass --path")
    return subprocess.run(["git", f"--git-dir={repo}", "show", f"HEAD:{path}"], check=True, capture_output=True,
                          text=True).stdout


def _git_files(repo: Path, under: str) -> list[str]:
    listing = subprocess.run(["git", f"--git-dir={repo}", "ls-tree", "-r", "--name-only", "HEAD", under],
                             check=True, capture_output=True, text=True).stdout
    return listing.split()


def load_sgd(path: str | None) -> list[Conversation]:
    if path:
        files = sorted(Path(path).rglob("dialogues_*.json"))
        texts = [f.read_text() for f in files]
    else:
        names = sorted((n for n in _git_files(SGD_REPO, SGD_DIR) if Path(n).name.startswith("dialogues_")),
                       key=lambda n: (Path(n).name, n))
        texts = [_git_show(SGD_REPO, n) for n in names]
    found: list[tuple[str, Conversation]] = []
    for text in texts:
        for dialogue in json.loads(text):
            turns = dialogue["turns"]
            if len(turns) >= 2 and turns[0]["speaker"] == "USER" and turns[1]["speaker"] == "SYSTEM":
                found.append((dialogue["dialogue_id"], Conversation(turns[0]["utterance"], turns[1]["utterance"])))
    # dialogue ids are "<file>_<number>": their order is the collection's order
    found.sort(key=lambda f: tuple(int(p) for p in f[0].split("_")))
    return [c for _, c in found]


def load_twcs(path: str | None) -> list[Conversation]:
    raw = Path(path).read_text() if path else _git_show(TWCS_REPO, TWCS_FILE)
    rows = {r["tweet_id"]: r for r in csv.DictReader(io.StringIO(raw))}
    found: list[tuple[datetime, Conversation]] = []
    for row in rows.values():
        if row["inbound"] != "True" or row["in_response_to_tweet_id"]:
            continue  # the customer's opening tweets only
        replies = [rows[i] for i in row["response_tweet_id"].split(",") if i in rows]
        answer = next((r for r in replies if r["inbound"] == "False"), None)
        if answer is not None:
            when = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
            found.append((when, Conversation(row["text"], answer["text"])))
    found.sort(key=lambda f: f[0])
    return [c for _, c in found]


def load_bitext(path: str | None, seed: int) -> list[Conversation]:
    if not path:
        sys.exit("--source bitext needs --path to a CSV with instruction and response columns")
    with open(path, newline="") as handle:
        found = [Conversation(r["instruction"], r["response"]) for r in csv.DictReader(handle)]
    random.Random(seed).shuffle(found)  # the file is grouped by intent; arrival is not
    return found


def _quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return {"p10": round(cuts[0], 3), "p25": round(statistics.quantiles(values, n=4, method="inclusive")[0], 3),
            "p50": round(statistics.median(values), 3), "p75": round(statistics.quantiles(values, n=4,
                                                                                        method="inclusive")[2], 3),
            "p90": round(cuts[-1], 3)}


def _histogram(values: list[float]) -> dict[str, int]:
    edges = [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0001]
    return {f"{lo:.1f}-{min(hi, 1.0):.1f}": sum(lo <= v < hi for v in values) for lo, hi in zip(edges, edges[1:])}


def replay(conversations: list[Conversation], threshold: float, seed: int) -> dict[str, object]:
    index = AnswerIndex()
    rng = random.Random(seed)
    customer_vectors: list[dict[str, int]] = []  # row id = position
    customer_frequency: Counter[str] = Counter()
    answer_vectors: list[dict[str, int]] = []
    answer_frequency: Counter[str] = Counter()
    answer_counts: Counter[str] = Counter()
    first_row_of_answer: dict[str, int] = {}
    warm_up = len(conversations) // 2
    best: dict[str, list[float]] = {"index": [], "random": [], "popular": []}
    shown_at_default = 0
    timing = {"index": 0.0, "scan": 0.0}

    def index_lookup(query: dict[str, int]) -> list[tuple[int, float]]:
        return index.search(None, query, 1e-9)[:SHOWN]

    def scan_lookup(query: dict[str, int]) -> list[tuple[int, float]]:
        scored = ((row, cosine(query, vector, len(customer_vectors), customer_frequency))
                  for row, vector in enumerate(customer_vectors))
        return sorted(scored, key=lambda s: -s[1])[:SHOWN]

    for n, conversation in enumerate(conversations):
        query, actual = terms([conversation.customer]), terms([conversation.answer])
        if not query or not actual:
            continue
        if n >= warm_up and customer_vectors:
            # Interleaved: which of the two goes first alternates from one conversation to the next.
            lookups = [("index", index_lookup), ("scan", scan_lookup)]
            ranked: list[tuple[int, float]] = []
            for what, lookup in lookups if n % 2 else reversed(lookups):
                started = time.perf_counter()
                found = lookup(query)
                timing[what] += time.perf_counter() - started
                if what == "index":
                    ranked = found
            shown_at_default += any(score >= PRODUCTION_MIN_SIMILARITY for _, score in ranked)
            picks = {
                "index": [row for row, _ in ranked],
                "random": rng.sample(range(len(answer_vectors)), min(SHOWN, len(answer_vectors))),
                "popular": [first_row_of_answer[text] for text, _ in answer_counts.most_common(SHOWN)],
            }
            for what, rows in picks.items():
                best[what].append(max((cosine(answer_vectors[r], actual, len(answer_vectors), answer_frequency)
                                       for r in rows), default=0.0))
        # the conversation is answered and closed: it joins the index
        row = len(customer_vectors)
        index.add(row, None, query)
        customer_vectors.append(query)
        customer_frequency.update(query.keys())
        answer_vectors.append(actual)
        answer_frequency.update(actual.keys())
        answer_counts[conversation.answer] += 1
        first_row_of_answer.setdefault(conversation.answer, row)
    measured = len(best["index"])
    hit = {what: sum(v >= threshold for v in values) / measured if measured else 0.0 for what, values in best.items()}
    return {
        "conversations": len(conversations), "measured": measured, "threshold": threshold,
        "hit_at_3": {k: round(v, 3) for k, v in hit.items()},
        "ratio_to_random": round(hit["index"] / hit["random"], 2) if hit["random"] else None,
        "ratio_to_popular": round(hit["index"] / hit["popular"], 2) if hit["popular"] else None,
        "best_of_3_similarity": {what: _quantiles(values) for what, values in best.items()},
        "histogram_index": _histogram(best["index"]),
        "shown_at_default_min_similarity": round(shown_at_default / measured, 3) if measured else 0.0,
        "lookup_ms": {k: round(1000 * v / measured, 3) if measured else 0.0 for k, v in timing.items()},
        "scan_over_index_time": round(timing["scan"] / timing["index"], 1) if timing["index"] else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=("sgd", "twcs", "bitext"), default="sgd")
    parser.add_argument("--path", help="a local copy instead of the repository snapshot")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="answer similarity that counts as the same answer (TF-IDF cosine)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    loaders = {"sgd": lambda: load_sgd(args.path), "twcs": lambda: load_twcs(args.path),
               "bitext": lambda: load_bitext(args.path, args.seed)}
    result = {"source": args.source, **replay(loaders[args.source](), args.threshold, args.seed)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
