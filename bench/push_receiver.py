#!/usr/bin/env python
"""What receiving a mention by signed webhook costs, against ingesting the same mention directly.

Both variants run in one desk (SQLite file, the webhook plugin on, its push server on a
free loopback port) and produce the same rows:

* ``direct ingest`` (the baseline): ``to_mention(document)`` then ``service.ingest_many``,
  what the push source does once a request is accepted;
* ``signed webhook``: a real HTTP POST over one kept-alive aiohttp connection, Standard
  Webhooks signed, through the server's bounded read, constant-time signature and
  staleness checks, the replay lookup, the same ingest, and the delivery record.

Rounds alternate the two variants (``--rounds``, each with ``--n`` fresh mentions); the
best round of each counts. A measurement, not a test.

    python bench/push_receiver.py [--n 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.push.plugin import push_server  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.plugins.webhook.payload import to_mention  # noqa: E402
from socialdesk.sandbox.webhook import WebhookEmulator  # noqa: E402

SECRET_ENV = "BENCH_WEBHOOK_SECRET"


def document(sender: WebhookEmulator, run: str, i: int) -> bytes:
    return sender.mention_body(id=f"{run}-{i}", conversation_id=f"{run}-c{i}", handle=f"user{i % 50}",
                               text=f"my order {i} never arrived, please help")


async def direct(app: DeskApp, sender: WebhookEmulator, run: str, n: int) -> float:
    bodies = [document(sender, run, i) for i in range(n)]
    start = time.perf_counter()
    for body in bodies:
        await app.service.ingest_many([to_mention(json.loads(body), "shop")])
    return time.perf_counter() - start


async def pushed(session: aiohttp.ClientSession, url: str, sender: WebhookEmulator, run: str, n: int) -> float:
    bodies = [document(sender, run, i) for i in range(n)]
    start = time.perf_counter()
    for body in bodies:
        async with session.post(url, data=body, headers=sender.signed_headers(body)) as response:
            if response.status != 200 or (await response.json())["stored"] != 1:
                raise SystemExit(f"the push server answered {response.status}")
    return time.perf_counter() - start


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        sender = WebhookEmulator()
        os.environ[SECRET_ENV] = sender.secret
        catalog = discover_plugins()
        config = parse_config({"plugins": {"push": {"host": "127.0.0.1", "port": 0},
                                           "storms": {"enabled": False},
                                           "webhook": {"enabled": True, "sources": {"shop": {
                                               "secret_env": SECRET_ENV}}}}}, catalog)
        app = DeskApp(config, build_plugin_manager(catalog, config),
                      Database(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"))
        await upgrade(app.database)
        await app.hooks.start_services()
        server = push_server(app)
        assert server is not None and server.url is not None
        url = f"{server.url}/push/webhook/shop"
        best = {"direct ingest": float("inf"), "signed webhook": float("inf")}
        try:
            async with aiohttp.ClientSession() as session:
                await direct(app, sender, "warm-d", 20)
                await pushed(session, url, sender, "warm-p", 20)
                for r in range(rounds):
                    best["direct ingest"] = min(best["direct ingest"], await direct(app, sender, f"d{r}", n))
                    best["signed webhook"] = min(best["signed webhook"], await pushed(session, url, sender, f"p{r}", n))
        finally:
            await app.hooks.stop_services()
            await app.close()
    baseline = best["direct ingest"]
    print(f"{n} mentions per round, best of {rounds} rounds (SQLite file, one connection)")
    print(f"{'variant':16} {'mentions/s':>11} {'ratio to direct':>16}")
    for name, seconds in best.items():
        print(f"{name:16} {n / seconds:11.1f} {baseline / seconds:16.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
