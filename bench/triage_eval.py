#!/usr/bin/env python
"""How well, and how fast, the default triage plugins work, on public labelled data.

Reads ../shared/data (``--data``), never copies it. Four measurements:

* **sentiment** (``sentiment`` plugin, VADER): macro-F1 over negative / neutral /
  positive on tweeteval's sentiment *test* split (12,284 tweets), with the plugin's
  default thresholds (chosen on the *validation* split) and with VADER's own (-0.05 /
  0.05). ``--tune`` repeats that search on the validation split (2,000 tweets) and
  reports its choice on test.
* **spam** (``noise`` plugin: promotion and scam patterns, link farms): precision and
  recall on the SMS Spam Collection. Every fifth message (row index % 5 == 0) is the
  development split the patterns were checked against; the other 80% is the test split
  reported as held out. Both are printed.
* **language** (``language`` plugin, py3langid): accuracy per language on XLM-T tweets
  (8 x 870). Even rows were the development split (``min_confidence`` was chosen there);
  odd rows are reported. A mention left without a language (confidence below
  ``min_confidence``) counts as wrong in ``accuracy`` and is left out of ``precision``.
  With default settings (every language a candidate) and with ``languages`` set to the
  eight. Hindi here is romanised (Latin script): no detector knows it.
* **throughput**: mentions per second through ``app.hooks.triage(mention)`` (all triage
  hooks plus the merge) with every default triage plugin on, against a baseline in the
  same run: keyword rules alone (every other triage plugin disabled). Lines with the
  keyword rules plus one plugin each say what each costs; ``these five`` is keyword rules
  plus sentiment, language, noise, author_weight and learned_triage; ``all default triage plugins`` adds
  every other default plugin with a triage hook (e.g. storms, which reads the store: each
  variant gets its own migrated SQLite file). Variants take turns
  ``--repeat`` times; the best time of each counts.

* **learned** (``learned_triage``, the shipped model) against the keyword rules alone
  (``keyword_triage``'s built-in lists) and the two merged (as a desk runs them), on data
  the model never trained on: complaint detection on ``complaints_social_media`` (F1;
  a verdict is a complaint when it is urgent, a complaint category or negative),
  urgency and category on ``twitter_airline_sentiment`` through ``AIRLINE_URGENT`` /
  ``AIRLINE_CATEGORY`` (documented below), sentiment on tweeteval's test split (the tweets
  no training set holds: XLM-T's English set is 870 of them; the whole split too), spam on
  the held-out fifth of SMS and YouTube spam, and the held-out splits of the training sets
  (from the data card). Per-class precision/recall, urgent recall at precision >= 0.70
  (threshold chosen on the airline data itself, so an upper bound; the configured
  ``urgent_at`` line is the honest one), and expected calibration error.
* **silencing**: every mention of the evaluation sets that needs a reply (a complaint, a
  negative airline tweet, an intent) through ``app.hooks.triage`` with every default
  plugin on: how many were auto-closed or called spam (target: 0). And its price: the
  spam messages ``noise``'s patterns catch that the model's overrule lets through.
* **loop**: the correction loop. The airline set, shuffled once, is a desk: agents
  correct the first N verdicts (N = 0, 50, 200, 1000; a correction is the mapped urgency
  and category), a desk model is fitted as ``socialdesk triage train --from-desk`` does,
  and urgency/category figures are taken on the last 4,000 tweets (never corrected).
* **ingest**: ``app.service.ingest`` per mention with every default plugin on, with and
  without ``learned_triage`` (today's cost), rounds interleaved, best of ``--repeat``.

    python bench/triage_eval.py [--data ../shared/data] [--n 5000] [--repeat 3] [--tune]
                                [--skip sentiment,spam,language,throughput,learned,silencing,loop,ingest]

Results are printed and written to ``bench/results/triage_eval.json``. A measurement, not
a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.plugins.triage.language import LanguageSettings, detect  # noqa: E402
from socialdesk.plugins.triage.noise import (  # noqa: E402
    NoiseSettings,
    link_findings,
    model_overrule,
    pattern_findings,
    spam_findings,
)
from socialdesk.plugins.triage.sentiment import SentimentSettings, compound_score, label  # noqa: E402
from socialdesk.core.triage import COMPLAINT_CATEGORIES, merge_triage  # noqa: E402
from socialdesk.plugins.triage import evaluation  # noqa: E402
from socialdesk.plugins.triage.keyword_rules import DEFAULT_RULES  # noqa: E402
from socialdesk.plugins.triage.keyword_rules import triage_text as keyword_triage  # noqa: E402
from socialdesk.plugins.triage.learned import LearnedTriageSettings, base_model, contribution  # noqa: E402
from socialdesk.plugins.triage.model_file import BASE_MODEL_PATH  # noqa: E402
from socialdesk.plugins.triage.training_data import heldout_by_hash, load_examples  # noqa: E402

LABELS = ("negative", "neutral", "positive")  # tweeteval's mapping.txt: 0, 1, 2
XLMT = {"arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi", "italian": "it",
        "portuguese": "pt", "spanish": "es"}
OWN_PLUGINS = ("sentiment", "language", "noise", "author_weight", "learned_triage")


# --- data ------------------------------------------------------------------------------------


def read_lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def tweeteval(data: Path, split: str) -> list[tuple[str, str]]:
    folder = data / "tweeteval" / "sentiment"
    texts, labels = read_lines(folder / f"{split}_text.txt"), read_lines(folder / f"{split}_labels.txt")
    return [(LABELS[int(y)], x) for x, y in zip(texts, labels, strict=True)]


def sms_spam(data: Path) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """(dev, test): every fifth message is development, the rest test."""
    rows = [line.split("\t", 1) for line in read_lines(data / "sms_spam" / "SMSSpamCollection")]
    rows = [(label == "spam", text) for label, text in rows if label in ("ham", "spam")]  # skips the header
    return [r for i, r in enumerate(rows) if i % 5 == 0], [r for i, r in enumerate(rows) if i % 5 != 0]


def xlmt(data: Path, parity: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for folder, code in XLMT.items():
        lines = read_lines(data / "xlmt_multilingual_sentiment" / folder / "test_text.txt")
        rows += [(code, text) for i, text in enumerate(lines) if i % 2 == parity]
    return rows


# --- metrics -----------------------------------------------------------------------------------


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    scores = []
    for cls in labels:
        tp = sum(g == cls and p == cls for g, p in zip(gold, predicted))
        fp = sum(g != cls and p == cls for g, p in zip(gold, predicted))
        fn = sum(g == cls and p != cls for g, p in zip(gold, predicted))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def precision_recall(gold: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float]:
    tp = sum(g and p for g, p in zip(gold, predicted))
    return tp / max(1, sum(predicted)), tp / max(1, sum(gold))


# --- the four measurements -------------------------------------------------------------------


def sentiment_eval(data: Path, tune: bool) -> dict[str, Any]:
    test = tweeteval(data, "test")
    test_scores = [compound_score(text) for _, text in test]
    gold = [g for g, _ in test]

    def f1_at(settings: SentimentSettings, scores: list[float], gold: list[str]) -> float:
        return macro_f1(gold, [label(s, settings) for s in scores], LABELS)

    default = SentimentSettings()
    authors = SentimentSettings(negative_threshold=-0.05, positive_threshold=0.05)  # VADER's README
    result: dict[str, Any] = {"test_n": len(test), "default": {
        "negative_threshold": default.negative_threshold, "positive_threshold": default.positive_threshold,
        "macro_f1": f1_at(default, test_scores, gold)}, "vader_authors_thresholds": {
        "negative_threshold": -0.05, "positive_threshold": 0.05, "macro_f1": f1_at(authors, test_scores, gold)}}
    if tune:
        val = tweeteval(data, "val")
        val_scores, val_gold = [compound_score(text) for _, text in val], [g for g, _ in val]
        grid = [round(x * 0.05, 2) for x in range(0, 13)]
        best = max(((n, p) for n in grid for p in grid),
                   key=lambda t: f1_at(SentimentSettings(negative_threshold=-t[0], positive_threshold=t[1]),
                                       val_scores, val_gold))
        tuned = SentimentSettings(negative_threshold=-best[0], positive_threshold=best[1])
        result["tuned_on_val"] = {"negative_threshold": tuned.negative_threshold,
                                  "positive_threshold": tuned.positive_threshold,
                                  "val_macro_f1": f1_at(tuned, val_scores, val_gold),
                                  "macro_f1": f1_at(tuned, test_scores, gold)}
    return result


def spam_eval(data: Path) -> dict[str, Any]:
    settings = NoiseSettings()
    out: dict[str, Any] = {}
    for name, rows in zip(("dev", "test"), sms_spam(data)):
        predicted = [bool(spam_findings(text, settings)) for _, text in rows]
        precision, recall = precision_recall([g for g, _ in rows], predicted)
        out[name] = {"n": len(rows), "spam": sum(g for g, _ in rows), "precision": precision, "recall": recall}
    return out


def language_eval(data: Path) -> dict[str, Any]:
    rows = xlmt(data, parity=1)
    out: dict[str, Any] = {"n": len(rows)}
    for name, settings in (("every language", LanguageSettings()),
                           ("the eight", LanguageSettings(languages=sorted(set(XLMT.values()))))):
        found = [detect(text, settings) for _, text in rows]
        per: dict[str, dict[str, float]] = {}
        for code in XLMT.values():
            pairs = [(g, f) for (g, _), f in zip(rows, found) if g == code]
            labelled = [(g, f) for g, f in pairs if f is not None]
            per[code] = {"accuracy": sum(f is not None and f[0] == g for g, f in pairs) / len(pairs),
                         "precision": sum(f[0] == g for g, f in labelled) / max(1, len(labelled)),  # type: ignore[index]
                         "coverage": len(labelled) / len(pairs)}
        latin_known = [c for c in XLMT.values() if c != "hi"]
        per["all but hi"] = {k: sum(per[c][k] for c in latin_known) / len(latin_known)
                             for k in ("accuracy", "precision", "coverage")}
        out[name] = {"min_confidence": settings.min_confidence, "per_language": per}
    return out


def _mentions(texts: Sequence[str], n: int) -> list[Mention]:
    rng = random.Random(7)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    mentions = []
    for i in range(n):
        author = rng.randrange(2000)
        followers = int(rng.paretovariate(1.2) * 50)
        mentions.append(Mention(
            platform="bench", external_id=f"m{i}", conversation_id=f"c{i}",
            author=Author(platform="bench", external_id=f"a{author}", handle=f"user{author}",
                          followers=followers, verified=author % 97 == 0),
            text=texts[i % len(texts)], created_at=start + timedelta(seconds=i)))
    return mentions


def _app(raw: dict[str, Any], db_path: Path) -> DeskApp:
    catalog = discover_plugins()
    config = parse_config(raw, catalog)
    return DeskApp(config, build_plugin_manager(catalog, config), Database(f"sqlite+aiosqlite:///{db_path}"))


def _triage_plugins(app: DeskApp) -> list[str]:
    return [app.pm.get_name(impl.plugin) for impl in app.pm.hook.socialdesk_triage.get_hookimpls()]


async def throughput_eval(data: Path, n: int, repeat: int) -> dict[str, Any]:
    texts = [text for _, text in tweeteval(data, "test")]
    mentions = _mentions(texts, n)
    with tempfile.TemporaryDirectory() as tmp:
        everything = _app({}, Path(tmp) / "all.db")
        others = [p for p in _triage_plugins(everything) if p != "keyword_triage"]

        def keyword_plus(*extra: str) -> dict[str, Any]:
            return {"plugins": {p: {"enabled": False} for p in others if p not in extra}}

        variants: dict[str, DeskApp] = {"keyword rules alone (baseline)": _app(keyword_plus(), Path(tmp) / "b.db")}
        for plugin in OWN_PLUGINS:
            variants[f"keyword rules + {plugin}"] = _app(keyword_plus(plugin), Path(tmp) / f"{plugin}.db")
        variants["keyword rules + these five"] = _app(keyword_plus(*OWN_PLUGINS), Path(tmp) / "five.db")
        variants["all default triage plugins"] = everything
        for app in variants.values():  # a migrated store: some triage plugins read it (storms)
            await upgrade(app.database)
        for app in variants.values():  # warm up: models load on first use
            for m in mentions[:50]:
                await app.hooks.triage(m)
        best: dict[str, float] = {}
        for _ in range(repeat):
            for name, app in variants.items():
                # Each round sees new external ids and times, so repeated-text memory
                # behaves as with fresh traffic.
                started = time.perf_counter()
                for m in mentions:
                    await app.hooks.triage(m)
                elapsed = time.perf_counter() - started
                best[name] = min(best.get(name, elapsed), elapsed)
        plugins_on = _triage_plugins(everything)
        for app in variants.values():
            await app.close()
    baseline = best["keyword rules alone (baseline)"]
    return {"n": n, "repeat": repeat, "triage_plugins_in_all": plugins_on,
            "lines": {name: {"mentions_per_s": n / t, "ratio_to_baseline": baseline / t} for name, t in best.items()}}


# --- the learned model -------------------------------------------------------------------------

# twitter_airline_sentiment's negativereason, mapped as a social-care lead would triage it.
# Urgent: the traveller is stuck now or has lost something (a cancelled or late flight, a
# lost or damaged bag, a booking that fails, no answer from customer service). Not urgent:
# complaints about the experience (bad flight, crew, queues), "Can't Tell", neutral and
# positive tweets.
AIRLINE_URGENT = {"Cancelled Flight", "Late Flight", "Lost Luggage", "Damaged Luggage", "Flight Booking Problems",
                  "Customer Service Issue"}
# Category: a cancelled or late flight is the service not delivered (outage); bags are
# delivery; a failing booking is a bug; the rest of the complaints are feedback; positive
# tweets are praise. Neutral tweets and "Can't Tell" have no category here (left out).
AIRLINE_CATEGORY = {"Cancelled Flight": "outage", "Late Flight": "outage", "Lost Luggage": "delivery",
                    "Damaged Luggage": "delivery", "Flight Booking Problems": "bug",
                    "Customer Service Issue": "feedback", "Bad Flight": "feedback",
                    "Flight Attendant Complaints": "feedback", "longlines": "feedback"}


@dataclass(frozen=True)
class Airline:
    text: str
    sentiment: str
    reason: str

    @property
    def urgent(self) -> bool:
        return self.sentiment == "negative" and self.reason in AIRLINE_URGENT

    @property
    def category(self) -> str | None:
        return "praise" if self.sentiment == "positive" else AIRLINE_CATEGORY.get(self.reason)


def _same_text(text: str) -> str:
    return " ".join(text.casefold().split())


def airline(data: Path) -> list[Airline]:
    seen: set[str] = set()
    rows: list[Airline] = []
    with (data / "twitter_airline_sentiment" / "Tweets.csv").open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["tweet_id"] in seen:
                continue
            seen.add(r["tweet_id"])
            rows.append(Airline(r["text"], r["airline_sentiment"], r["negativereason"] or ""))
    return rows


def complaints(data: Path) -> list[tuple[bool, str]]:
    with (data / "complaints_social_media" / "complaints-data.csv").open(newline="", encoding="utf-8") as handle:
        return [(row[2].strip() == "1", row[1]) for row in csv.reader(handle) if len(row) >= 4]


def youtube(data: Path) -> list[tuple[bool, str]]:
    rows: list[tuple[bool, str]] = []
    for path in sorted((data / "youtube_spam").glob("Youtube0*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += [(r["CLASS"].strip() == "1", r["CONTENT"]) for r in csv.DictReader(handle)]
    return rows


class Verdicts:
    """Each text judged three ways: keyword rules alone, the model alone, both merged."""

    def __init__(self, texts: Sequence[str], model: Any = None) -> None:
        model = model or base_model()
        settings = LearnedTriageSettings()
        self.predictions = [model.predict(t) for t in texts]
        keyword = [keyword_triage(t, list(DEFAULT_RULES)) for t in texts]
        learned = [contribution(p, settings, model.name) for p in self.predictions]
        self.by_way = {"keyword rules alone": [merge_triage(k) for k in keyword],
                       "model alone": [merge_triage([m]) for m in learned],
                       "model + keyword rules": [merge_triage([m, k]) for m, k in zip(learned, keyword)]}


def _is_complaint(v: Any) -> bool:
    return v.priority <= 2 or v.category in COMPLAINT_CATEGORIES or v.sentiment == "negative"


def learned_eval(data: Path) -> dict[str, Any]:
    model = base_model()
    out: dict[str, Any] = {"model": {"name": model.name, "created_at": model.meta.get("created_at"),
                                     "file_bytes": BASE_MODEL_PATH.stat().st_size}}
    # complaints
    rows = complaints(data)
    verdicts = Verdicts([t for _, t in rows], model)
    gold = [g for g, _ in rows]
    out["complaints"] = {"n": len(rows), "complaints": sum(gold), **{
        way: evaluation.binary_f1(gold, [_is_complaint(v) for v in vs]) for way, vs in verdicts.by_way.items()}}
    # airline: urgency and category
    air = airline(data)
    verdicts = Verdicts([a.text for a in air], model)
    gold_urgent = [a.urgent for a in air]
    urgent_scores = [p.p("urgency", "urgent") for p in verdicts.predictions]
    urgency: dict[str, Any] = {"n": len(air), "urgent": sum(gold_urgent)}
    for way, vs in verdicts.by_way.items():
        urgency[way] = evaluation.binary_f1(gold_urgent, [v.priority <= 2 for v in vs])
    urgency["model: best recall at precision >= 0.70"] = evaluation.recall_at_precision(gold_urgent, urgent_scores, 0.70)
    urgency["model: ece (urgent vs not)"] = evaluation.expected_calibration_error(
        [max(s, 1 - s) for s in urgent_scores], [(s >= 0.5) == g for s, g in zip(urgent_scores, gold_urgent)])
    out["airline_urgency"] = urgency
    # A second reading, added after the first was measured: the derivation itself counts
    # anger and strong negativity as urgent, so here every negative airline tweet is.
    gold_negative = [a.sentiment == "negative" for a in air]
    negative_scores = [p.p("sentiment", "negative") for p in verdicts.predictions]
    out["airline_urgency_every_negative"] = {
        "n": len(air), "urgent": sum(gold_negative),
        **{way: evaluation.binary_f1(gold_negative, [v.priority <= 2 for v in vs]) for way, vs in verdicts.by_way.items()},
        "model P(urgent): best recall at precision >= 0.70": evaluation.recall_at_precision(
            gold_negative, urgent_scores, 0.70),
        "model P(negative): best recall at precision >= 0.70": evaluation.recall_at_precision(
            gold_negative, negative_scores, 0.70)}
    labelled = [(i, a.category) for i, a in enumerate(air) if a.category]
    cats = sorted({c for _, c in labelled})
    category: dict[str, Any] = {"n": len(labelled)}
    for way, vs in verdicts.by_way.items():
        predicted = [vs[i].category for i, _ in labelled]
        gold_c = [c for _, c in labelled]
        category[way] = {"macro_f1": evaluation.macro_f1(gold_c, predicted, cats),
                         "accuracy": evaluation.accuracy(gold_c, predicted),
                         "per_class": evaluation.per_class(gold_c, predicted, cats)}
    out["airline_category"] = category
    # sentiment on tweeteval test: the headline counts only the tweets no training set holds
    # (XLM-T's English set is 870 tweets of this split, same labels, and trains the model)
    whole = tweeteval(data, "test")
    trained = {_same_text(e.text) for e in load_examples(data, seed=13)}
    test = [(g, t) for g, t in whole if _same_text(t) not in trained]
    predicted = {t: model.predict(t).best("sentiment") for _, t in whole}
    vader = {t: label(compound_score(t), SentimentSettings()) for _, t in whole}
    best = [predicted[t] for _, t in test]
    gold_s = [g for g, _ in test]
    out["sentiment"] = {"n": len(test), "n_split": len(whole), "model": evaluation.summary(
                            gold_s, [b[0] for b in best], [b[1] for b in best], LABELS),
                        "vader (sentiment plugin)": macro_f1(gold_s, [vader[t] for _, t in test], LABELS),
                        "whole split (some tweets trained on)": {
                            "model": macro_f1([g for g, _ in whole], [predicted[t][0] for _, t in whole], LABELS),
                            "vader (sentiment plugin)": macro_f1([g for g, _ in whole], [vader[t] for _, t in whole],
                                                                 LABELS)}}
    # spam: the held-out fifth the model never saw
    spam: dict[str, Any] = {}
    for name, rows_ in (("sms_spam", [r for part in sms_spam(data) for r in part]), ("youtube_spam", youtube(data))):
        held = [(g, t) for g, t in rows_ if heldout_by_hash(t)]
        gold_b = [g for g, _ in held]
        scores = [model.predict(t).p("spam", "spam") for _, t in held]
        spam[name] = {"n": len(held), "spam": sum(gold_b),
                      "model spam head (p >= 0.5)": evaluation.binary_f1(gold_b, [s >= 0.5 for s in scores]),
                      "noise plugin": evaluation.binary_f1(gold_b, [bool(spam_findings(t, NoiseSettings()))
                                                                   for _, t in held])}
    out["spam"] = spam
    out["training_heldout"] = model.meta.get("heldout", {})
    return out


def print_learned(r: dict[str, Any]) -> None:
    ways = ("keyword rules alone", "model alone", "model + keyword rules")
    c = r["complaints"]
    print(f"learned    complaints_social_media (n={c['n']}, {c['complaints']} complaints): F1 "
          + ", ".join(f"{w} {c[w]['f1']:.3f} (P {c[w]['precision']:.2f} R {c[w]['recall']:.2f})" for w in ways))
    u = r["airline_urgency"]
    print(f"           airline urgency (n={u['n']}, {u['urgent']} urgent): "
          + ", ".join(f"{w} P {u[w]['precision']:.3f} R {u[w]['recall']:.3f}" for w in ways))
    b = u["model: best recall at precision >= 0.70"]
    print(f"           model urgent recall at precision >= 0.70: {b['recall']:.3f} (P {b['precision']:.3f}, "
          f"threshold {b['threshold']:.3f}); ECE {u['model: ece (urgent vs not)']:.3f}")
    e = r["airline_urgency_every_negative"]
    print(f"           airline, every negative tweet urgent (n={e['n']}, {e['urgent']}): "
          + ", ".join(f"{w} P {e[w]['precision']:.3f} R {e[w]['recall']:.3f}" for w in ways))
    for key in ("model P(urgent): best recall at precision >= 0.70", "model P(negative): best recall at precision >= 0.70"):
        print(f"           {key}: {e[key]['recall']:.3f} (P {e[key]['precision']:.3f}, threshold {e[key]['threshold']:.3f})")
    cat = r["airline_category"]
    print(f"           airline category (n={cat['n']}) macro-F1: "
          + ", ".join(f"{w} {cat[w]['macro_f1']:.3f}" for w in ways))
    s = r["sentiment"]
    w = s["whole split (some tweets trained on)"]
    print(f"           tweeteval sentiment test, the {s['n']} of {s['n_split']} tweets no training set holds: "
          f"macro-F1 model {s['model']['macro_f1']:.3f} (ECE {s['model']['ece']:.3f}), VADER "
          f"{s['vader (sentiment plugin)']:.3f}; whole split: model {w['model']:.3f}, VADER "
          f"{w['vader (sentiment plugin)']:.3f}")
    for name, sp in r["spam"].items():
        m, n = sp["model spam head (p >= 0.5)"], sp["noise plugin"]
        print(f"           {name} held-out fifth (n={sp['n']}, {sp['spam']} spam): model P {m['precision']:.3f} "
              f"R {m['recall']:.3f}; noise plugin P {n['precision']:.3f} R {n['recall']:.3f}")
    for source, heads in r["training_heldout"].items():
        print(f"           held-out {source}: " + ", ".join(
            f"{h} macro-F1 {f['macro_f1']:.3f} (ECE {f['ece']:.3f})" for h, f in heads.items()))


_COST_PROBE = """
import os, sys, time
sys.path.insert(0, {root!r})
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
import numpy
from socialdesk.core.app import DeskApp  # what a replica imports anyway
from socialdesk.plugins.triage.sentiment import compound_score
compound_score('warm up VADER, which the sentiment plugin loads anyway')
before = rss()
from socialdesk.plugins.triage.learned import base_model
model = base_model()
model.predict('warm up')
print(rss() - before)
"""


def model_cost(data: Path) -> dict[str, Any]:
    """Memory a replica gains by loading the model (fresh process, RSS) and time per prediction."""
    import subprocess

    added = int(subprocess.run([sys.executable, "-c", _COST_PROBE.format(root=str(ROOT))], capture_output=True,
                               text=True, check=True).stdout.strip())
    model = base_model()
    texts = [t for _, t in tweeteval(data, "test")][:3000] + ["x" * 10_000] * 20
    from socialdesk.plugins.triage.sentiment import MAX_CHARS, polarity

    # Rounds interleaved, best of three: the model with its VADER scores computed, the
    # model once the `sentiment` plugin has computed them (as in a desk: they are cached
    # per mention and shared), and the keyword rules as the baseline.
    best = {"predict": float("inf"), "predict, VADER shared": float("inf"), "keyword rules": float("inf")}
    for _ in range(3):
        polarity.cache_clear()
        started = time.perf_counter()
        for t in texts:
            model.predict(t)
        best["predict"] = min(best["predict"], time.perf_counter() - started)
        shared = 0.0
        for t in texts:
            polarity(t[:MAX_CHARS])
            started = time.perf_counter()
            model.predict(t)
            shared += time.perf_counter() - started
        best["predict, VADER shared"] = min(best["predict, VADER shared"], shared)
        started = time.perf_counter()
        for t in texts:
            merge_triage(keyword_triage(t, list(DEFAULT_RULES)))
        best["keyword rules"] = min(best["keyword rules"], time.perf_counter() - started)
    ms = {k: v / len(texts) * 1000 for k, v in best.items()}
    return {"file_bytes": BASE_MODEL_PATH.stat().st_size, "rss_added_bytes": added,
            "predict_ms_per_mention": ms["predict"], "predict_vader_shared_ms_per_mention": ms["predict, VADER shared"],
            "keyword_rules_ms_per_mention": ms["keyword rules"], "n": len(texts)}


async def silencing_eval(data: Path) -> dict[str, Any]:
    """Mentions that need a reply, through every default plugin: none may be silenced."""
    sets = {"complaints": [t for g, t in complaints(data) if g],
            "airline negative": [a.text for a in airline(data) if a.sentiment == "negative"],
            "banking77 test": [row[0] for row in csv.reader((data / "banking77" / "test.csv").open())][1:]}
    per_set: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = _app({}, Path(tmp) / "silence.db")
        await upgrade(app.database)
        for name, texts in sets.items():
            verdicts = [await app.hooks.triage(m) for m in _mentions(texts, len(texts))]
            per_set[name] = {"n": len(texts), "auto_closed": sum(v.auto_close is not None for v in verdicts),
                             "spam": sum(v.spam for v in verdicts)}
        await app.close()
    return {"n": sum(p["n"] for p in per_set.values()), "auto_closed": sum(p["auto_closed"] for p in per_set.values()),
            "spam": sum(p["spam"] for p in per_set.values()), "per_set": per_set,
            "spam let through by the overrule": overrule_cost(data)}


def overrule_cost(data: Path) -> dict[str, dict[str, int]]:
    """The price of letting the model set a pattern aside: spam the patterns catch alone
    (one pattern, no link farm) that the model lets through, on all of each spam set and
    on its held-out fifth (the model trained on the rest)."""
    settings, model = NoiseSettings(), base_model()
    out: dict[str, dict[str, int]] = {}
    for name, rows in (("sms_spam", [r for part in sms_spam(data) for r in part]), ("youtube_spam", youtube(data))):
        caught = [t for is_spam, t in rows if is_spam and spam_findings(t, settings)]
        let_through = [t for t in caught if len(pattern_findings(t, settings)) == 1
                       and not link_findings(t, settings) and model_overrule(model.predict(t))]
        out[name] = {"caught by noise": len(caught), "let through": len(let_through),
                     "held-out caught": sum(heldout_by_hash(t) for t in caught),
                     "held-out let through": sum(heldout_by_hash(t) for t in let_through)}
    return out


def correction_loop(data: Path, seed: int, steps: Sequence[int] = (0, 50, 200, 1000), eval_n: int = 4000
                    ) -> dict[str, Any]:
    from socialdesk.plugins.triage.training import Weighted, fit
    from socialdesk.plugins.triage.training_data import Example, load_examples

    air = airline(data)
    random.Random(seed).shuffle(air)
    evaluated, stream = air[-eval_n:], air[:-eval_n]
    base_rows = [Weighted(e) for e in load_examples(data, seed) if e.split == "train"]
    weight = LearnedTriageSettings().correction_weight
    threshold = LearnedTriageSettings().urgent_at
    out: dict[str, Any] = {"eval_n": len(evaluated), "by_corrections": {}}
    for n in steps:
        corrected = [Weighted(Example("desk", "train", a.text, urgency="urgent" if a.urgent else "not_urgent",
                                      category=a.category), weight) for a in stream[:n]]
        model = base_model() if n == 0 else fit(base_rows + corrected, seed=seed, name=f"desk-{n}")
        predictions = [model.predict(a.text) for a in evaluated]
        scores = [p.p("urgency", "urgent") for p in predictions]
        gold = [a.urgent for a in evaluated]
        labelled = [(a.category, p.best("category")[0]) for a, p in zip(evaluated, predictions) if a.category]
        out["by_corrections"][n] = {
            "urgent": evaluation.binary_f1(gold, [s >= threshold for s in scores]),
            "urgent_recall_at_p70": evaluation.recall_at_precision(gold, scores, 0.70),
            "category_macro_f1": evaluation.macro_f1([g for g, _ in labelled], [p for _, p in labelled],
                                                     sorted({g for g, _ in labelled}))}
    return out


async def ingest_eval(data: Path, n: int, repeat: int) -> dict[str, Any]:
    """Whole ingest (triage, persist, outbox) per mention, with and without learned_triage."""
    texts = [text for _, text in tweeteval(data, "test")]
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"every default plugin but learned_triage (before)":
                    _app({"plugins": {"learned_triage": {"enabled": False}}}, Path(tmp) / "before.db"),
                    "every default plugin (learned_triage on)": _app({}, Path(tmp) / "after.db")}
        for app in variants.values():
            await upgrade(app.database)
            for m in _mentions(texts, 50):
                await app.service.ingest(replace(m, external_id="warm" + m.external_id))
        best: dict[str, float] = {}
        for round_ in range(repeat):
            mentions = [replace(m, external_id=f"r{round_}{m.external_id}", conversation_id=f"r{round_}{m.conversation_id}")
                        for m in _mentions(texts[round_ * n:], n)]
            for name, app in variants.items():
                started = time.perf_counter()
                for m in mentions:
                    await app.service.ingest(m)
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
        for app in variants.values():
            await app.close()
    before = best["every default plugin but learned_triage (before)"]
    return {"n": n, "repeat": repeat, "lines": {name: {"mentions_per_s": n / t, "cost_ratio": t / before}
                                                for name, t in best.items()}}


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=5000, help="mentions per throughput variant")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tune", action="store_true", help="also choose sentiment thresholds on tweeteval val")
    parser.add_argument("--skip", default="",
                        help="comma-separated: sentiment,spam,language,throughput,learned,silencing,loop,ingest")
    parser.add_argument("--seed", type=int, default=13, help="seed of the correction-loop simulation")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "triage_eval.json",
                        help="where to write the JSON results")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data {args.data}: no such folder; point it at the shared data (see its README.md)")
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {}

    if "sentiment" not in skip:
        s = results["sentiment"] = sentiment_eval(args.data, args.tune)
        print(f"sentiment  tweeteval test (n={s['test_n']}): macro-F1 {s['default']['macro_f1']:.3f} "
              f"(thresholds {s['default']['negative_threshold']} / {s['default']['positive_threshold']})")
        v = s["vader_authors_thresholds"]
        print(f"           with VADER's own thresholds -0.05 / 0.05: macro-F1 {v['macro_f1']:.3f}")
        if "tuned_on_val" in s:
            t = s["tuned_on_val"]
            print(f"           thresholds chosen on val {t['negative_threshold']} / {t['positive_threshold']}: "
                  f"val {t['val_macro_f1']:.3f}, test {t['macro_f1']:.3f}")
    if "spam" not in skip:
        sp = results["spam"] = spam_eval(args.data)
        for split in ("dev", "test"):
            r = sp[split]
            print(f"spam       sms_spam {split:4} (n={r['n']}, {r['spam']} spam): precision {r['precision']:.3f}, "
                  f"recall {r['recall']:.3f}")
    if "language" not in skip:
        lang = results["language"] = language_eval(args.data)
        codes = [*XLMT.values(), "all but hi"]
        print(f"language   xlmt odd rows (n={lang['n']})      " + " ".join(f"{c:>6}" for c in codes))
        for setting in ("every language", "the eight"):
            per = lang[setting]["per_language"]
            for metric in ("accuracy", "precision", "coverage"):
                print(f"           {setting:15} {metric:9} " + " ".join(f"{per[c][metric]:6.3f}" for c in codes))
    if "throughput" not in skip:
        tp = results["throughput"] = asyncio.run(throughput_eval(args.data, args.n, args.repeat))
        print(f"throughput app.hooks.triage, n={tp['n']}, best of {tp['repeat']} "
              f"(triage plugins in 'all': {', '.join(tp['triage_plugins_in_all'])})")
        for name, line in tp["lines"].items():
            print(f"           {name:34} {line['mentions_per_s']:9.0f} mentions/s  ratio {line['ratio_to_baseline']:.3f}")
    if "learned" not in skip:
        results["learned"] = learned_eval(args.data)
        print_learned(results["learned"])
    if "learned" not in skip:
        mc = results["model_cost"] = model_cost(args.data)
        print(f"cost       model file {mc['file_bytes'] / 1e6:.1f} MB; a replica's RSS grows {mc['rss_added_bytes'] / 1e6:.1f} MB "
              f"on loading it; predict {mc['predict_ms_per_mention']:.3f} ms/mention "
              f"({mc['predict_vader_shared_ms_per_mention']:.3f} ms with VADER's scores shared; keyword rules "
              f"{mc['keyword_rules_ms_per_mention']:.3f} ms), n={mc['n']} incl. 20 of 10,000 characters")
    if "silencing" not in skip:
        sl = results["silencing"] = asyncio.run(silencing_eval(args.data))
        print(f"silencing  needs-a-reply mentions through every default plugin (n={sl['n']}): "
              f"auto-closed {sl['auto_closed']}, called spam {sl['spam']}  " + json.dumps(sl["per_set"]))
        print("           spam the model's overrule lets through: "
              + json.dumps(sl["spam let through by the overrule"]))
    if "loop" not in skip:
        lp = results["loop"] = correction_loop(args.data, seed=args.seed)
        print(f"loop       airline desk, figures on the last {lp['eval_n']} tweets (never corrected)")
        for n, f in lp["by_corrections"].items():
            print(f"           N={n:>5}: urgent P {f['urgent']['precision']:.3f} R {f['urgent']['recall']:.3f} "
                  f"F1 {f['urgent']['f1']:.3f}; recall@P>=0.70 {f['urgent_recall_at_p70']['recall']:.3f}; "
                  f"category macro-F1 {f['category_macro_f1']:.3f}")
    if "ingest" not in skip:
        ig = results["ingest"] = asyncio.run(ingest_eval(args.data, min(args.n, 2000), args.repeat))
        for name, line in ig["lines"].items():
            print(f"ingest     {name:44} {line['mentions_per_s']:8.0f} mentions/s  cost ratio {line['cost_ratio']:.3f}")
    out = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
