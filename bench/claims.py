#!/usr/bin/env python
"""Claim benchmark: 50 agents click Claim at once, on one card or each on a card of its own.

For each database kind, a desk runs its real Bolt app in HTTP mode (signed requests,
``process_before_response`` off) and its outbox worker against the sandbox Slack on
127.0.0.1, which enforces Slack's own rate limits (the desk paces itself at Slack's rate).
The cards are posted first; each round every agent clicks Claim at the same moment, then
the cards are unclaimed for the next round. The sandbox driver times each request until
the desk's HTTP answer (the *ack*, which Slack wants within 3 s) and, the number that
matters to the agent, the ephemeral *answer* that follows ("You have #N now" / "#N is
claimed by <@U...>"), from the click to the ``ts`` Slack gave the answer. Every card
must have exactly one winner per round.

Results are printed and written to ``bench/results/claims.json``. A measurement, not a
test: nothing here asserts on time.

    python bench/claims.py [--agents 50] [--rounds 20] [--cards one,many] [--databases sqlite,postgresql]
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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.extensions import Actor  # noqa: E402
from socialdesk.core.slack.card import Actions  # noqa: E402
from socialdesk.core.slack.runtime import runtime_for  # noqa: E402
from socialdesk.sandbox.slack import DEMO_CHANNELS, RateLimits, SlackEmulator, SlackUser, TimelineCaps  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_ENV = "SOCIALDESK_TEST_DATABASE_URL"
RESULTS_FILE = ROOT / "bench" / "results" / "claims.json"
CHANNEL = DEMO_CHANNELS[0].id
TOKEN_ENV = {"bot_token_env": "BENCH_SLACK_BOT_TOKEN", "signing_secret_env": "BENCH_SLACK_SIGNING_SECRET"}


def percentile(values: Sequence[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


@asynccontextmanager
async def database(kind: str, postgres_url: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A fresh, migrated database: a temp SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/claims.db", {}
        return
    async with isolated_schema(postgres_url, "bench") as schema:
        yield postgres_url, schema.engine_kwargs


def card_mention(n: int, run: str) -> Mention:
    return Mention(platform="bench", external_id=f"{run}{n}", conversation_id=f"{run}c{n}",
                   author=Author("bench", f"{run}a{n}", f"customer{n}"), text="Checkout is down!",
                   created_at=datetime.now(timezone.utc))


async def run(kind: str, agents: int, rounds: int, postgres_url: str, cards: str) -> dict[str, Any]:
    """``cards``: "one" (every agent clicks Claim on the same card) or "many" (each agent on
    a card of its own, all at once)."""
    users = [SlackUser(f"U0BENCH{n:03d}", f"agent{n}", f"Agent {n}") for n in range(agents)]
    admin = Actor(users[0].id, is_admin=True)
    async with database(kind, postgres_url) as (url, engine_kwargs), \
            SlackEmulator(users=users, rate_limits=RateLimits(),  # Slack's own limits
                          caps=TimelineCaps(max_ephemerals=agents * rounds + 10)) as slack:
        os.environ[TOKEN_ENV["bot_token_env"]] = slack.bot_token
        os.environ[TOKEN_ENV["signing_secret_env"]] = slack.signing_secret
        raw = {"desk": {"channel": CHANNEL, "agents": [u.id for u in users], "admins": [users[0].id],
                        "outbox": {"poll_interval_seconds": 0.02}},
               "plugins": {"slack": {"enabled": True, "mode": "http", "api_url": slack.api_url,
                                     "http": {"host": "127.0.0.1", "port": 0},
                                     "rate": {"per_channel_per_second": 1.0, "burst": 3}, **TOKEN_ENV}}}
        catalog = discover_plugins()
        config = parse_config(raw, catalog)
        app = DeskApp(config, build_plugin_manager(catalog, config), Database(url, **engine_kwargs))
        await upgrade(app.database)
        stop = asyncio.Event()
        await app.hooks.start_services()
        worker = asyncio.create_task(app.outbox_runner("bench").run_forever(stop))
        listener = runtime_for(app).listener
        assert listener is not None and listener.request_url
        driver = slack.driver(listener.request_url)
        acks: list[float] = []
        answers: list[float] = []
        try:
            ids = [(await app.service.ingest(card_mention(n, kind))).ticket_id
                   for n in range(1 if cards == "one" else agents)]
            for tid in ids:  # cards are posted at Slack's pace (one a second)
                while not (await app.service.get_ticket(tid)).card_ts:
                    await asyncio.sleep(0.05)
            card_ts = {tid: (await app.service.get_ticket(tid)).card_ts for tid in ids}
            targets = [ids[0]] * agents if cards == "one" else ids
            for n in range(rounds):
                seen = len(slack.ephemerals(CHANNEL))
                started = time.time()
                deliveries = await asyncio.gather(*(driver.click(CHANNEL, card_ts[tid], Actions.CLAIM, user=u.id)
                                                     for u, tid in zip(users, targets)))
                assert all(d.acked for d in deliveries), "an ack was late or missing"
                acks += [d.seconds or 0.0 for d in deliveries]
                while len(slack.ephemerals(CHANNEL)) < seen + agents:
                    await asyncio.sleep(0.005)
                told = slack.ephemerals(CHANNEL)[seen:]
                answers += [float(e.ts) - started for e in told]
                winners = [e for e in told if e.text.startswith("You have #")]
                assert len(winners) == len(ids), f"round {n}: {len(winners)} winners for {len(ids)} cards"
                for tid in ids:  # free the cards for the next round
                    await app.service.unclaim(tid, admin)
        finally:
            stop.set()
            await worker
            await app.hooks.stop_services()
            await app.close()
    ms = [a * 1000 for a in acks]
    answer_ms = [a * 1000 for a in answers]
    return {"database": kind, "cards": cards, "agents": agents, "rounds": rounds, "clicks": len(ms),
            "ack_ms": {"p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99),
                       "max": max(ms)},
            "answer_ms": {"p50": percentile(answer_ms, 50), "p99": percentile(answer_ms, 99), "max": max(answer_ms)},
            "one_winner_per_card_and_round": True}


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50, help="agents clicking at once (default 50)")
    parser.add_argument("--rounds", type=int, default=20, help="cards to race for (default 20)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--cards", default="one,many", help="one card for all agents, a card each, or both")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL))
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where to write the JSON results")
    args = parser.parse_args(argv)
    results = [await run(kind.strip(), args.agents, args.rounds, args.postgres_url, cards)
               for kind in args.databases.split(",") if kind.strip() for cards in args.cards.split(",")]
    print(f"{'database':<11}{'cards':>6}{'clicks':>7}{'ack p50':>10}{'ack p90':>10}{'ack p99':>10}{'ack max':>10}"
          f"{'answer p50':>12}{'answer p99':>12}")
    for r in results:
        a, b = r["ack_ms"], r["answer_ms"]
        print(f"{r['database']:<11}{r['cards']:>6}{r['clicks']:>7}{a['p50']:>8.1f}ms{a['p90']:>8.1f}ms{a['p99']:>8.1f}ms"
              f"{a['max']:>8.1f}ms{b['p50']:>10.1f}ms{b['p99']:>10.1f}ms")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "claims", "python": platform_module.python_version(), "machine": platform_module.machine(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "results": results,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
