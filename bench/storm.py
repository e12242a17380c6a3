#!/usr/bin/env python
"""P1 cards in a storm: how long after its ingest each P1 card is in Slack, while thousands
of other mentions queue for the same channel at Slack's own pace.

Arrivals: ``--mentions`` distinct mentions spread evenly over ``--seconds`` (5,000 over
50 s by default: 100 a second), ``--p1`` of them urgent ("the site is down ..."), evenly
spaced among the others (41: about 0.8 a second); the rest are questions (P3) and praise
(P4). The Slack emulator enforces Slack's limits (chat.postMessage: 1 a second per channel,
bursts of 3; the method tiers), and the desk paces itself at Slack's documented rate.

Two lines, on the same arrivals, taking turns ``--rounds`` times:

* ``desk``: a replica's outbox as ``socialdesk run`` starts it (the configured workers and
  urgent workers) delivering the cards the desk's ``service.ingest`` queues, with the
  default plugins but ``storms`` (distinct texts: this is a flood of separate cards,
  not one incident). A P1's latency: from the moment its ingest committed to the ``ts``
  Slack gave its card.
* ``P1-first poster`` (the reference): one loop that holds every arrived card in a
  priority queue and posts the most urgent one at each of Slack's slots, through the same
  client library to the same emulator, no database. From arrival to ``ts``.

The ratio is the desk's median over the reference's median, per round; the table shows the
median of the rounds. A measurement, not a test: nothing here asserts on time.

    python bench/storm.py [--mentions 5000] [--p1 41] [--seconds 50] [--rounds 1]
                          [--database sqlite|postgresql] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import platform as platform_module
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slack_sdk.errors import SlackApiError  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.slack.card import CARD_EVENT_TYPE  # noqa: E402
from socialdesk.core.slack.pacing import Pacer  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema  # noqa: E402
from socialdesk.core.plugin_catalog import PluginEntry  # noqa: E402
from socialdesk.sandbox.slack import DEMO_CHANNELS, RateLimits, SlackEmulator, TimelineCaps  # noqa: E402
from tests.platform_double import PLATFORM, TestPlatform  # noqa: E402  (replies are not measured here)

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_ENV = "SOCIALDESK_TEST_DATABASE_URL"
RESULTS_FILE = ROOT / "bench" / "results" / "storm.json"
CHANNEL = DEMO_CHANNELS[0].id
TOKEN_ENV = {"bot_token_env": "BENCH_SLACK_BOT_TOKEN", "signing_secret_env": "BENCH_SLACK_SIGNING_SECRET"}
SLACK_PACE = {"per_channel_per_second": 1.0, "burst": 3}  # Slack's documented chat.postMessage limit
OVER_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # seconds after the start
    n: int
    priority: int  # what the text is written to be triaged as
    text: str


def arrivals(mentions: int, p1: int, seconds: float) -> list[Arrival]:
    step = seconds / mentions
    urgent = {round((k + 0.5) * mentions / p1) for k in range(p1)}
    out = []
    for n in range(mentions):
        if n in urgent:
            out.append(Arrival(n * step, n, 1, f"the site is down for me, order {n} stuck at checkout"))
        elif n % 2:
            out.append(Arrival(n * step, n, 3, f"quick question about order {n}: can I change the address?"))
        else:
            out.append(Arrival(n * step, n, 4, f"thanks, love the app (customer {n})"))
    return out


def mention(a: Arrival, run: str) -> Mention:
    return Mention(platform=PLATFORM, external_id=f"{run}-{a.n}", conversation_id=f"{run}-c{a.n}",
                   author=Author(PLATFORM, f"{run}-a{a.n}", f"customer{a.n}"), text=a.text,
                   created_at=datetime.now(timezone.utc))


def rss_mib() -> float:
    """This process's resident memory (Linux), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(latencies: Sequence[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"p50": statistics.median(ordered), "p90": ordered[int(0.9 * (len(ordered) - 1))],
            "max": ordered[-1], "over_5s": sum(1 for x in ordered if x > OVER_SECONDS), "count": len(ordered)}


@asynccontextmanager
async def database(kind: str, postgres_url: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/storm.db", {}
        return
    async with isolated_schema(postgres_url, "bench") as schema:
        yield postgres_url, schema.engine_kwargs


def emulator() -> SlackEmulator:
    return SlackEmulator(rate_limits=RateLimits(), caps=TimelineCaps(max_messages=100_000))


async def run_desk(kind: str, postgres_url: str, schedule: list[Arrival], run: str,
                   memory: dict[str, float]) -> list[float]:
    async with database(kind, postgres_url) as (url, engine_kwargs), emulator() as slack:
        os.environ[TOKEN_ENV["bot_token_env"]] = slack.bot_token
        os.environ[TOKEN_ENV["signing_secret_env"]] = slack.signing_secret
        raw = {"desk": {"channel": CHANNEL},
               "plugins": {"storms": {"enabled": False},
                           "slack": {"enabled": True, "mode": "http", "api_url": slack.api_url,
                                     "http": {"host": "127.0.0.1", "port": 0}, "rate": SLACK_PACE, **TOKEN_ENV}}}
        catalog = discover_plugins().with_extra([PluginEntry(PLATFORM, TestPlatform(), "test", True)])
        config = parse_config(raw, catalog)
        app = DeskApp(config, build_plugin_manager(catalog, config), Database(url, **engine_kwargs))
        await upgrade(app.database)
        outbox = config.desk.outbox
        stop = asyncio.Event()
        await app.hooks.start_services()
        workers = [asyncio.create_task(app.outbox_runner(f"outbox-{n}").run_forever(stop))
                   for n in range(outbox.workers)]
        workers += [asyncio.create_task(app.outbox_runner(f"urgent-{n}", urgent=True).run_forever(stop))
                    for n in range(outbox.urgent_workers)]
        committed: dict[int, float] = {}  # ticket id -> when its ingest returned (epoch seconds)
        await asyncio.sleep(1.0)  # started and idle
        memory["idle_mib"] = rss_mib()
        peak = memory["idle_mib"]

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mib())
                await asyncio.sleep(0.25)

        sampler = asyncio.create_task(sample())
        try:
            start = time.monotonic()
            for a in schedule:
                delay = start + a.at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                result = await app.service.ingest(mention(a, run))
                if a.priority == 1:
                    committed[result.ticket_id] = time.time()
            urgent = set(committed)
            posted: dict[int, float] = {}
            deadline = time.monotonic() + 120
            while set(posted) != urgent and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                for m in slack.timeline(CHANNEL):
                    meta = m.metadata or {}
                    if meta.get("event_type") == CARD_EVENT_TYPE:
                        tid = int(meta["event_payload"]["ticket_id"])
                        if tid in urgent:
                            posted[tid] = float(m.ts)
            sampler.cancel()
            memory["peak_mib"] = max(peak, rss_mib())
            missing = urgent - set(posted)
            if missing:
                raise SystemExit(f"{len(missing)} P1 cards never reached Slack within 120 s after the storm")
            return [posted[t] - committed[t] for t in urgent]
        finally:
            sampler.cancel()
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
            await app.hooks.stop_services()
            await app.close()


async def run_reference(schedule: list[Arrival]) -> list[float]:
    """The P1-first poster: a priority queue and Slack's slots, nothing else."""
    async with emulator() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        pacer = Pacer(SLACK_PACE["per_channel_per_second"], int(SLACK_PACE["burst"]))
        queue: list[tuple[int, int, float]] = []  # (priority, n, arrived)
        arrived = asyncio.Event()
        done = asyncio.Event()
        latencies: list[float] = []
        remaining = sum(1 for a in schedule if a.priority == 1)

        async def arrive() -> None:
            start = time.monotonic()
            for a in schedule:
                delay = start + a.at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                heapq.heappush(queue, (a.priority, a.n, time.time()))
                arrived.set()

        async def post() -> None:
            nonlocal remaining
            while remaining:
                if not queue:
                    arrived.clear()
                    await arrived.wait()
                    continue
                slot = pacer.reserve(CHANNEL, max_wait=3600)
                await asyncio.sleep(slot.wait)
                item = heapq.heappop(queue)  # the most urgent at the moment of the slot
                priority, n, at = item
                try:
                    answer = await client.chat_postMessage(channel=CHANNEL, text=f"card {n}")
                except SlackApiError as exc:  # as the desk does: wait out Retry-After, lose nothing
                    if exc.response.status_code != 429:
                        raise
                    pacer.blocked(CHANNEL, float(exc.response.headers.get("Retry-After", "1")))
                    heapq.heappush(queue, item)
                    continue
                if priority == 1:
                    latencies.append(float(answer["ts"]) - at)
                    remaining -= 1
            done.set()

        feeder = asyncio.create_task(arrive())
        await post()
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        return latencies


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=5000)
    parser.add_argument("--p1", type=int, default=41)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=1, help="paired rounds, the two lines taking turns")
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL))
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    schedule = arrivals(args.mentions, args.p1, args.seconds)
    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        order = ("desk", "reference") if r % 2 == 0 else ("reference", "desk")
        measured: dict[str, list[float]] = {}
        memory: dict[str, float] = {}
        for line in order:
            if line == "desk":
                measured[line] = await run_desk(args.database, args.postgres_url, schedule, f"r{r}", memory)
            else:
                measured[line] = await run_reference(schedule)
        desk, ref = summary(measured["desk"]), summary(measured["reference"])
        rounds.append({"desk": desk, "reference": ref, "ratio_p50": desk["p50"] / ref["p50"], "memory": memory})
        print(f"round {r + 1}: desk p50 {desk['p50']:.2f}s max {desk['max']:.2f}s over 5 s {desk['over_5s']}"
              f"/{desk['count']}; reference p50 {ref['p50']:.2f}s max {ref['max']:.2f}s; process RSS idle "
              f"{memory['idle_mib']:.0f} MiB, peak {memory['peak_mib']:.0f} MiB", flush=True)
    med = {line: {k: statistics.median(r[line][k] for r in rounds) for k in ("p50", "p90", "max", "over_5s")}
           for line in ("desk", "reference")}
    ratio = statistics.median(r["ratio_p50"] for r in rounds)
    print(f"\n{args.mentions} mentions over {args.seconds:.0f} s, {args.p1} P1, {args.database}, "
          f"median of {args.rounds} round(s)")
    print(f"{'line':<18}{'P1 p50':>9}{'P1 p90':>9}{'P1 max':>9}{'over 5 s':>10}")
    for line, name in (("reference", "P1-first poster"), ("desk", "desk")):
        m = med[line]
        print(f"{name:<18}{m['p50']:>8.2f}s{m['p90']:>8.2f}s{m['max']:>8.2f}s{m['over_5s']:>10.0f}")
    print(f"desk p50 / reference p50: {ratio:.2f}")
    print("memory of the bench process running the desk (it also holds the Slack emulator): idle "
          f"{statistics.median(r['memory']['idle_mib'] for r in rounds):.0f} MiB, peak through the storm "
          f"{statistics.median(r['memory']['peak_mib'] for r in rounds):.0f} MiB")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "storm", "python": platform_module.python_version(), "database": args.database,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "mentions": args.mentions,
        "p1": args.p1, "seconds": args.seconds, "rounds": rounds, "median": med, "ratio_p50": ratio,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
