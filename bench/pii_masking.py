"""What finding personal data costs per mention, as a ratio to keyword triage on the same texts.

    .venv/bin/python bench/pii_masking.py [--n 5000] [--repeat 3]

Both run on the ingest path for every mention. The texts are tweet-length; a quarter
carry numbers (order numbers, dates, a phone, a card), the rest none. ``pii (first
sight)`` clears the phone cache before each pass (triage sees each text once);
``pii (card update)`` is a card rendered again from the same text.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from socialdesk.plugins.triage.keyword_rules import DEFAULT_RULES, triage_text
from socialdesk.plugins.pii import PiiSettings, _phone_spans, find_spans

WORDS = ("order", "never", "arrived", "refund", "please", "help", "app", "love", "the", "site", "is", "down",
         "thanks", "waiting", "since", "monday", "support", "account", "charged", "twice")
NUMBERS = ("order 48213 is late", "since 2026-11-02 10:30", "call me on +44 20 7946 0958",
           "card 4111 1111 1111 1111", "ref 2125551234", "mail jo@example.com")


def corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
        texts.append(f"{words} {rng.choice(NUMBERS)} #{i}" if rng.random() < 0.25 else f"{words} #{i}")
    return texts


def best(work: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = corpus(args.n)
    settings = PiiSettings()
    rules = list(DEFAULT_RULES)

    def baseline() -> None:
        for text in texts:
            triage_text(text, rules)

    def first_sight() -> None:
        _phone_spans.cache_clear()
        for text in texts:
            find_spans(text, settings)

    def again() -> None:
        for text in texts:
            find_spans(text, settings)

    base = best(baseline, args.repeat)
    rows = [("keyword_triage (baseline)", base), ("pii (first sight)", best(first_sight, args.repeat)),
            ("pii (card update)", best(again, args.repeat))]
    print(f"{args.n} texts, best of {args.repeat}")
    for name, seconds in rows:
        print(f"{name:28} {seconds / args.n * 1e6:8.1f} µs/text  {seconds / base:6.2f}x baseline")


if __name__ == "__main__":
    main()
