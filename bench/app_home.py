#!/usr/bin/env python
"""App Home refresh benchmark: how many ``views.publish`` a burst of ticket changes costs.

Ten agents have their Home open; a burst of changes (claims and unclaims on 50 tickets, as
fast as the desk takes them) follows. Each Home is refreshed on change, debounced per agent
(``home.debounce_seconds``, default 2 s). The fair baseline, in the same run, is the same
desk with no debounce window (a refresh runs as soon as the previous one for that agent
finished). Rounds are paired and interleaved (the order alternates). Measured: publishes
per agent for the burst, and the most publishes in any 60 s (Slack's Tier 4 allows about
100 a minute for ``views.publish``). The real Bolt app runs in HTTP mode against the
sandbox Slack on 127.0.0.1, on SQLite.

Results are printed and written to ``bench/results/app_home.json``. A measurement, not a
test: nothing here asserts on time.

    python bench/app_home.py [--agents 10] [--changes 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as platform_module
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.extensions import Actor  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.slack.home_publisher import existing_publisher  # noqa: E402
from socialdesk.core.slack.runtime import runtime_for  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.sandbox.slack import DEMO_CHANNELS, RateLimits, SlackEmulator, SlackUser  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results" / "app_home.json"
CHANNEL = DEMO_CHANNELS[0].id
TOKEN_ENV = {"bot_token_env": "BENCH_SLACK_BOT_TOKEN", "signing_secret_env": "BENCH_SLACK_SIGNING_SECRET"}
TICKETS = 50


def peak_per_minute(moments: list[float]) -> int:
    moments = sorted(moments)
    best, start = 0, 0
    for end, at in enumerate(moments):
        while at - moments[start] > 60:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(debounce: float, agents: int, changes: int, label: str) -> dict[str, Any]:
    users = [SlackUser(f"U0HOME{n:04d}", f"agent{n}", f"Agent {n}") for n in range(agents)]
    admin = Actor(users[0].id, is_admin=True)
    with tempfile.TemporaryDirectory() as tmp:
        async with SlackEmulator(users=users, rate_limits=RateLimits.off()) as slack:
            os.environ[TOKEN_ENV["bot_token_env"]] = slack.bot_token
            os.environ[TOKEN_ENV["signing_secret_env"]] = slack.signing_secret
            raw = {"desk": {"channel": CHANNEL, "agents": [u.id for u in users], "admins": [users[0].id]},
                   "plugins": {"slack": {"enabled": True, "mode": "http", "api_url": slack.api_url,
                                         "http": {"host": "127.0.0.1", "port": 0},
                                         "home": {"debounce_seconds": debounce}, **TOKEN_ENV},
                               "storms": {"enabled": False}, "learned_triage": {"enabled": False}}}
            catalog = discover_plugins()
            config = parse_config(raw, catalog)
            app = DeskApp(config, build_plugin_manager(catalog, config), Database(f"sqlite+aiosqlite:///{tmp}/h.db"))
            await upgrade(app.database)
            await app.hooks.start_services()
            rt = runtime_for(app)
            assert rt.listener is not None and rt.listener.request_url
            driver = slack.driver(rt.listener.request_url, ack_timeout=30)  # counts, not ack times, are measured
            try:
                ids = [(await app.service.ingest(Mention(
                    platform="bench", external_id=f"{label}{n}", conversation_id=f"{label}c{n}",
                    author=Author("bench", f"a{n}", f"customer{n}"), text="Where is my parcel?",
                    created_at=datetime.now(timezone.utc)))).ticket_id for n in range(TICKETS)]
                for user in users:
                    assert (await driver.open_home(user.id)).acked
                while len(slack.state.homes.publishes) < agents:
                    await asyncio.sleep(0.02)
                before = len(slack.state.homes.publishes)
                started = time.monotonic()
                for n in range(changes):
                    tid = ids[(n // 2) % TICKETS]
                    if n % 2 == 0:
                        await app.service.claim(tid, admin)
                    else:
                        await app.service.unclaim(tid, admin)
                burst_seconds = time.monotonic() - started
                publisher = existing_publisher(rt)
                assert publisher is not None
                while not publisher.idle:  # every refresh the burst caused has been published
                    await asyncio.sleep(0.05)
                moments = [at for _, at in slack.state.homes.publishes[before:]]
            finally:
                await app.hooks.stop_services()
                await app.close()
    return {"debounce_seconds": debounce, "changes": changes, "agents": agents,
            "publishes": len(moments), "per_agent": len(moments) / agents,
            "peak_per_minute": peak_per_minute(moments), "burst_seconds": round(burst_seconds, 2)}


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--debounce", type=float, default=2.0)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    rounds = []
    for n in range(args.rounds):
        order = [(args.debounce, "debounced"), (0.0, "baseline")]
        if n % 2:
            order.reverse()  # interleaved: neither mode always runs first
        pair = {name: await run(debounce, args.agents, args.changes, f"r{n}{name[0]}") for debounce, name in order}
        pair["ratio"] = pair["debounced"]["publishes"] / max(1, pair["baseline"]["publishes"])
        rounds.append(pair)
        print(f"round {n + 1}: debounced {pair['debounced']['publishes']} publishes "
              f"(peak {pair['debounced']['peak_per_minute']}/min), baseline {pair['baseline']['publishes']} "
              f"(peak {pair['baseline']['peak_per_minute']}/min), ratio {pair['ratio']:.3f}")
    ratio = statistics.median(r["ratio"] for r in rounds)
    print(f"median ratio debounced/baseline publishes: {ratio:.3f} ({args.changes} changes, {args.agents} agents)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "app_home", "python": platform_module.python_version(), "machine": platform_module.machine(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "median_ratio": ratio, "rounds": rounds,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
