#!/usr/bin/env python
"""Claim benchmark: 50 agents click Claim at once, on one card or each on a card of its own.

For each database kind, a desk runs its real Bolt app in HTTP mode (signed requests,
``process_before_response`` off) and its outbox worker against the sandbox Slack on
127.0.0.1, which enforces Slack's own rate limits (the desk paces itself at Slack's rate).
Slack is another process, as it is in production: the emulator and the 50 agents' clients
run in a child process (``--slack-side``), so the desk's event loop serves only the desk.
(``--one-process`` puts them back in the desk's process, as before.)

Both card layouts live in one desk per database (one card every agent races for, and a
card per agent). Rounds are paired and interleaved: in each round every (database, cards)
line runs once, the order rotating, so a busy moment on the shared machine hits every
line alike. The Slack side times each request until the desk's HTTP answer (the *ack*,
which Slack wants within 3 s) and, the number that matters to the agent, the ephemeral
*answer* that follows ("You have #N now" / "#N is claimed by <@U...>"), from the click to
the ``ts`` Slack gave the answer. Every card must have exactly one winner per round.
Reported per line: the median over rounds of each round's p50 and p99 (and the pooled
p99 of every click).

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
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
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


def agents_of(count: int) -> list[SlackUser]:
    return [SlackUser(f"U0BENCH{n:03d}", f"agent{n}", f"Agent {n}") for n in range(count)]


# --- the Slack side: the emulator and the agents' clients ------------------------------------


class SlackSide:
    """Clicks and what Slack made of them, in this process."""

    def __init__(self, slack: SlackEmulator) -> None:
        self.slack = slack
        self.request_urls: dict[str, str] = {}

    async def clicks(self, desk: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
        """Every (user, card ts) clicks Claim at the same moment; the acks and the answers."""
        driver = self.slack.driver(self.request_urls[desk])
        seen = len(self.slack.ephemerals(CHANNEL))
        started = time.time()
        deliveries = await asyncio.gather(*(driver.click(CHANNEL, ts, Actions.CLAIM, user=user)
                                            for user, ts in targets))
        while len(self.slack.ephemerals(CHANNEL)) < seen + len(targets):
            await asyncio.sleep(0.005)
        told = self.slack.ephemerals(CHANNEL)[seen:]
        return {"acked": all(d.acked for d in deliveries), "acks": [d.seconds or 0.0 for d in deliveries],
                "answers": [float(e.ts) - started for e in told], "texts": [e.text for e in told]}


async def slack_side_main(agents: int, rounds: int) -> int:
    """``--slack-side``: the emulator in this process; commands as JSON lines on stdin."""
    async with SlackEmulator(users=agents_of(agents), rate_limits=RateLimits(),  # Slack's own limits
                             caps=TimelineCaps(max_ephemerals=agents * rounds * 8 + 100,
                                               max_messages=10_000)) as slack:
        side = SlackSide(slack)
        print(json.dumps({"api_url": slack.api_url, "bot_token": slack.bot_token,
                          "signing_secret": slack.signing_secret}), flush=True)
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            if "request_url" in command:
                side.request_urls[command["desk"]] = command["request_url"]
                answer: dict[str, Any] = {}
            elif "clicks" in command:
                answer = await side.clicks(command["desk"], [tuple(t) for t in command["clicks"]])
            else:
                break
            print(json.dumps(answer), flush=True)
    return 0


class SlackProcess:
    """The Slack side in a child process, driven over its stdin and stdout."""

    def __init__(self, agents: int, rounds: int) -> None:
        self._args = [sys.executable, __file__, "--slack-side", "--agents", str(agents), "--rounds", str(rounds)]
        self._child: asyncio.subprocess.Process | None = None
        self.credentials: dict[str, str] = {}

    async def __aenter__(self) -> SlackProcess:
        self._child = await asyncio.create_subprocess_exec(*self._args, stdin=asyncio.subprocess.PIPE,
                                                           stdout=asyncio.subprocess.PIPE, limit=1 << 24)
        self.credentials = await self._answer()
        return self

    async def _answer(self) -> dict[str, Any]:
        assert self._child is not None and self._child.stdout is not None
        line = await self._child.stdout.readline()
        if not line:
            raise SystemExit("the Slack side stopped")
        return dict(json.loads(line))

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._child is not None and self._child.stdin is not None
        self._child.stdin.write(json.dumps(command).encode() + b"\n")
        await self._child.stdin.drain()
        return await self._answer()

    async def __aexit__(self, *_exc: object) -> None:
        assert self._child is not None and self._child.stdin is not None
        self._child.stdin.close()
        await self._child.wait()


class SlackInProcess:
    """``--one-process``: the same Slack side on the desk's own event loop."""

    def __init__(self, agents: int, rounds: int) -> None:
        self._emulator = SlackEmulator(users=agents_of(agents), rate_limits=RateLimits(),
                                       caps=TimelineCaps(max_ephemerals=agents * rounds * 8 + 100,
                                                         max_messages=10_000))
        self._side: SlackSide | None = None
        self.credentials: dict[str, str] = {}

    async def __aenter__(self) -> SlackInProcess:
        slack = await self._emulator.__aenter__()
        self._side = SlackSide(slack)
        self.credentials = {"api_url": slack.api_url, "bot_token": slack.bot_token,
                            "signing_secret": slack.signing_secret}
        return self

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._side is not None
        if "request_url" in command:
            self._side.request_urls[command["desk"]] = command["request_url"]
            return {}
        return await self._side.clicks(command["desk"], [tuple(t) for t in command["clicks"]])

    async def __aexit__(self, *exc: Any) -> None:
        await self._emulator.__aexit__(*exc)


# --- the desk side ------------------------------------------------------------------------------


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


@dataclass
class Desk:
    kind: str
    app: DeskApp
    one: int  # the card every agent races for
    many: list[int]  # a card per agent
    card_ts: dict[int, str]


@asynccontextmanager
async def desk(kind: str, postgres_url: str, users: list[SlackUser], slack: SlackProcess | SlackInProcess,
               ) -> AsyncIterator[Desk]:
    async with database(kind, postgres_url) as (url, engine_kwargs):
        os.environ[TOKEN_ENV["bot_token_env"]] = slack.credentials["bot_token"]
        os.environ[TOKEN_ENV["signing_secret_env"]] = slack.credentials["signing_secret"]
        raw = {"desk": {"channel": CHANNEL, "agents": [u.id for u in users], "admins": [users[0].id]},
               "plugins": {"slack": {"enabled": True, "mode": "http", "api_url": slack.credentials["api_url"],
                                     "http": {"host": "127.0.0.1", "port": 0},
                                     "rate": {"per_channel_per_second": 1.0, "burst": 3}, **TOKEN_ENV}}}
        catalog = discover_plugins()
        config = parse_config(raw, catalog)
        app = DeskApp(config, build_plugin_manager(catalog, config), Database(url, **engine_kwargs))
        await upgrade(app.database)
        stop = asyncio.Event()
        await app.hooks.start_services()
        worker = asyncio.create_task(app.outbox_runner("bench").run_forever(stop))
        try:
            listener = runtime_for(app).listener
            assert listener is not None and listener.request_url
            await slack.ask({"desk": kind, "request_url": listener.request_url})
            ids = [(await app.service.ingest(card_mention(n, kind))).ticket_id for n in range(len(users) + 1)]
            for tid in ids:  # cards are posted at Slack's pace (one a second)
                while not (await app.service.get_ticket(tid)).card_ts:
                    await asyncio.sleep(0.05)
            card_ts = {tid: str((await app.service.get_ticket(tid)).card_ts) for tid in ids}
            yield Desk(kind, app, ids[0], ids[1:], card_ts)
        finally:
            stop.set()
            await worker
            await app.hooks.stop_services()
            await app.close()


async def click_round(d: Desk, cards: str, users: list[SlackUser], slack: SlackProcess | SlackInProcess,
                      n: int) -> dict[str, Any]:
    targets = [d.one] * len(users) if cards == "one" else d.many
    cpu = time.process_time()
    answer = await slack.ask({"desk": d.kind, "clicks": [[u.id, d.card_ts[t]] for u, t in zip(users, targets)]})
    late = sum(1 for a in answer["acks"] if a > 3.0)  # Slack would have shown the agent an error
    winners = sum(1 for text in answer["texts"] if text.startswith("You have #"))
    claimed = set(targets)
    if winners != len(claimed):
        raise SystemExit(f"{d.kind} {cards} round {n}: {winners} winners for {len(claimed)} cards")
    cpu_per_click = (time.process_time() - cpu) / len(targets)
    admin = Actor(users[0].id, is_admin=True)
    for tid in claimed:  # free the cards for the next round
        await d.app.service.unclaim(tid, admin)
    return {"acks": answer["acks"], "answers": answer["answers"], "cpu_per_click": cpu_per_click, "late_acks": late}


def line_summary(kind: str, cards: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    acks = [[a * 1000 for a in r["acks"]] for r in rounds]
    answers = [[a * 1000 for a in r["answers"]] for r in rounds]

    def per_round(values: list[list[float]], p: int) -> float:
        return statistics.median(percentile(v, p) for v in values)

    every_ack, every_answer = [a for r in acks for a in r], [a for r in answers for a in r]
    return {"database": kind, "cards": cards, "rounds": len(rounds), "clicks": len(every_ack),
            "ack_ms": {"p50": per_round(acks, 50), "p99": per_round(acks, 99),
                       "pooled_p99": percentile(every_ack, 99), "max": max(every_ack)},
            "answer_ms": {"p50": per_round(answers, 50), "p99": per_round(answers, 99),
                          "pooled_p99": percentile(every_answer, 99), "max": max(every_answer)},
            "desk_cpu_ms_per_click": statistics.median(r["cpu_per_click"] for r in rounds) * 1000,
            "acks_over_3s": sum(r["late_acks"] for r in rounds),
            "one_winner_per_card_and_round": True}


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50, help="agents clicking at once (default 50)")
    parser.add_argument("--rounds", type=int, default=20, help="paired rounds (default 20)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--cards", default="one,many", help="one card for all agents, a card each, or both")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL))
    parser.add_argument("--one-process", action="store_true",
                        help="run the Slack emulator and the agents in the desk's process")
    parser.add_argument("--slack-side", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where to write the JSON results")
    args = parser.parse_args(argv)
    if args.slack_side:
        return await slack_side_main(args.agents, args.rounds)
    users = agents_of(args.agents)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    layouts = [c.strip() for c in args.cards.split(",") if c.strip()]
    lines = [(kind, cards) for kind in kinds for cards in layouts]
    measured: dict[tuple[str, str], list[dict[str, Any]]] = {line: [] for line in lines}
    slack = SlackInProcess(args.agents, args.rounds) if args.one_process else SlackProcess(args.agents, args.rounds)
    async with slack, AsyncExitStack() as stack:
        desks = {kind: await stack.enter_async_context(desk(kind, args.postgres_url, users, slack)) for kind in kinds}
        for n in range(args.rounds):
            shift = n % len(lines)
            for kind, cards in lines[shift:] + lines[:shift]:
                measured[(kind, cards)].append(await click_round(desks[kind], cards, users, slack, n))
    results = [line_summary(kind, cards, measured[(kind, cards)]) for kind, cards in lines]
    where = "in the desk's process" if args.one_process else "in a process of its own"
    print(f"{args.agents} agents, {args.rounds} paired rounds, Slack {where}; medians over rounds of each round's "
          "percentile (pooled p99 over every click in brackets)")
    print(f"{'database':<11}{'cards':>6}{'clicks':>7}{'ack p50':>10}{'ack p99':>10}{'(pooled)':>10}"
          f"{'answer p50':>12}{'answer p99':>12}{'(pooled)':>10}{'desk CPU/click':>16}{'acks > 3 s':>12}")
    for r in results:
        a, b = r["ack_ms"], r["answer_ms"]
        print(f"{r['database']:<11}{r['cards']:>6}{r['clicks']:>7}{a['p50']:>8.1f}ms{a['p99']:>8.1f}ms"
              f"{a['pooled_p99']:>8.1f}ms{b['p50']:>10.1f}ms{b['p99']:>10.1f}ms{b['pooled_p99']:>8.1f}ms"
              f"{r['desk_cpu_ms_per_click']:>14.1f}ms{r['acks_over_3s']:>12}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "claims", "python": platform_module.python_version(), "machine": platform_module.machine(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "slack": where,
        "rounds_raw": {f"{k}/{c}": v for (k, c), v in measured.items()}, "results": results,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
