#!/usr/bin/env python
"""Bluesky catch-up benchmark: what polling through atproto costs on top of ingest.

After downtime, N mentions wait on Bluesky. Two variants, in the same run, each round on
a fresh SQLite database and a fresh emulator holding the same N notifications:

* ``ingest_many`` -- the baseline: the same N mentions (built from the emulator's
                     notifications before timing) ingested with ``app.service.ingest_many``
                     in pages of ``page_size``, as the poller commits them, with the same
                     cursor row written per page. No HTTP, no JSON, no atproto.
* ``bluesky poll`` -- the Bluesky plugin's poller, from login to caught up: atproto's
                     ``AsyncClient`` over loopback to the emulator (listNotifications pages,
                     getProfile at login, updateSeen), parsing, and the same ingest.

Rounds are paired and interleaved (the order alternates each round); the medians of each
variant and the ratio of medians are printed and written to
``bench/results/bluesky_catch_up.json``. A measurement, not a test: nothing asserts on time.

    python bench/bluesky_catch_up.py [--n 500] [--page-size 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.store.cursors import CursorAdvance  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.plugins.bluesky.mentions import to_mention  # noqa: E402
from socialdesk.plugins.bluesky.plugin import poll_notifications  # noqa: E402
from socialdesk.plugins.bluesky.runtime import close_runtime  # noqa: E402
from socialdesk.sandbox.bluesky import BlueskyEmulator  # noqa: E402

START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
BRAND = "acme.bsky.social"


def build_emulator(n: int) -> BlueskyEmulator:
    now = [START.timestamp()]
    emulator = BlueskyEmulator(brand_handle=BRAND, clock=lambda: now[0])
    for a in range(50):
        emulator.add_user(f"person{a}.bsky.social")
    for i in range(n):
        now[0] += 3
        emulator.post_as(f"person{i % 50}.bsky.social", f"@{BRAND} order {1000 + i} has not arrived, help? 📦")
    return emulator


async def fresh_desk(workdir: Path, name: str, emulator: BlueskyEmulator, page_size: int) -> DeskApp:
    catalog = discover_plugins()
    raw = {"plugins": {"storms": {"enabled": False},
                       "bluesky": {"enabled": True, "service": emulator.base_url, "page_size": page_size,
                                   "first_poll_lookback_minutes": 7 * 24 * 60}}}
    config = parse_config(raw, catalog)
    clock = lambda: START + timedelta(days=1)  # noqa: E731
    app = DeskApp(config, build_plugin_manager(catalog, config),
                  Database(f"sqlite+aiosqlite:///{workdir / (name + '.db')}"), clock)
    await upgrade(app.database)
    return app


async def run_poll(workdir: Path, n: int, page_size: int, round_no: int) -> float:
    emulator = build_emulator(n)
    await emulator.start()
    os.environ.update(BLUESKY_HANDLE=emulator.brand_handle, BLUESKY_APP_PASSWORD=emulator.brand_password)
    try:
        app = await fresh_desk(workdir, f"poll{round_no}", emulator, page_size)
        try:
            started = time.perf_counter()
            while True:
                report = await poll_notifications(app)
                if report is None or report.caught_up:
                    break
                if report.stopped != "page limit per poll":
                    raise RuntimeError(f"the poll stopped: {report.stopped}")
            elapsed = time.perf_counter() - started
            assert report is not None and report.new + report.duplicates <= n
        finally:
            await close_runtime(app)
            await app.close()
    finally:
        await emulator.stop()
    return elapsed


async def run_ingest(workdir: Path, n: int, page_size: int, round_no: int) -> float:
    emulator = build_emulator(n)
    did = emulator.brand_did
    views = [note.view(None) for note in emulator.network.notifications_of(did, None)]
    mentions = [m for m in (to_mention(v) for v in reversed(views)) if m is not None]
    await emulator.start()  # only for the same settings; no request is made
    try:
        app = await fresh_desk(workdir, f"ingest{round_no}", emulator, page_size)
        try:
            started = time.perf_counter()
            for page in range(0, len(mentions), page_size):
                advance = CursorAdvance("bluesky", f"notifications:{did}", json.dumps({"floor": page}))
                await app.service.ingest_many(mentions[page:page + page_size], cursor=advance)
            elapsed = time.perf_counter() - started
        finally:
            await app.close()
    finally:
        await emulator.stop()
    return elapsed


async def main(args: argparse.Namespace) -> dict[str, Any]:
    times: dict[str, list[float]] = {"ingest_many": [], "bluesky poll": []}
    with tempfile.TemporaryDirectory(prefix="bench-bluesky-") as scratch:
        work = Path(scratch)
        await run_ingest(work, 50, args.page_size, -1)  # warm-up: imports, first migrations
        await run_poll(work, 50, args.page_size, -1)
        for round_no in range(args.rounds):
            order = ("ingest_many", "bluesky poll") if round_no % 2 == 0 else ("bluesky poll", "ingest_many")
            for variant in order:
                run = run_ingest if variant == "ingest_many" else run_poll
                times[variant].append(await run(work, args.n, args.page_size, round_no))
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = {"n": args.n, "page_size": args.page_size, "rounds": args.rounds,
              "seconds": times, "median_seconds": medians,
              "ratio_poll_to_ingest": medians["bluesky poll"] / medians["ingest_many"],
              "python": sys.version.split()[0], "cpus": os.cpu_count()}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    result = asyncio.run(main(parser.parse_args()))
    for variant, seconds in result["median_seconds"].items():
        print(f"{variant:14} median {seconds:.3f} s for {result['n']} mentions "
              f"({result['n'] / seconds:,.0f} per second)")
    print(f"bluesky poll / ingest_many = {result['ratio_poll_to_ingest']:.2f}")
    out = ROOT / "bench" / "results" / "bluesky_catch_up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
