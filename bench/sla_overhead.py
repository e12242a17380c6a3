#!/usr/bin/env python
"""What the SLA plugin adds to ingest: N mentions with ``sla`` on vs off, same run.

The plugin writes each new ticket's clocks in the ingest transaction. The mentions are
ordinary traffic, not a storm: every text is a different sentence (no two share a run of
three words), so the storms plugin files none of them under an incident and every
mention gets a ticket, a card job and, with ``sla`` on, its clocks; the script checks
that. Each variant gets a fresh, migrated database; rounds are paired (off then on, the
order alternating) and the ratio is taken per round; the median of the rounds' ratios
is reported. A measurement, not a test.

    python bench/sla_overhead.py [--n 2000] [--repeat 3] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.store.models import Ticket  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.plugin_catalog import PluginEntry, discover_plugins  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema  # noqa: E402
from tests.platform_double import PLATFORM, TestPlatform  # noqa: E402


WORDS = ("order parcel invoice refund login password screen button app update version phone laptop "
         "delivery courier address payment card account email message support chat price discount coupon "
         "size colour color shirt shoes jacket battery charger cable speaker camera photo video music "
         "playlist ticket seat flight hotel room booking reservation menu table pizza coffee delivery "
         "subscription plan trial upgrade downgrade export import backup sync folder file upload").split()


def sentence(i: int, rng: random.Random) -> str:
    """A sentence of its own: random words, so that no two mentions look alike to the storms plugin."""
    return " ".join(rng.sample(WORDS, 9)) + f" {i}?"


def mentions(n: int, run: str) -> list[Mention]:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    rng = random.Random(f"{run}-{n}")
    return [Mention(platform=PLATFORM, external_id=f"{run}-{i}", conversation_id=f"{run}-c{i}",
                    author=Author(platform=PLATFORM, external_id=f"a{i % 50}", handle=f"user{i % 50}"),
                    text=sentence(i, rng), created_at=at) for i in range(n)]


async def timed(url: str, kwargs: dict, sla: bool, n: int, run: str) -> float:
    catalog = discover_plugins().with_extra([PluginEntry(PLATFORM, TestPlatform(), "test", True)])
    config = parse_config({"plugins": {"sla": {"enabled": sla}}}, catalog)
    from socialdesk.core.plugin_manager import build_plugin_manager
    app = DeskApp(config, build_plugin_manager(catalog, config), Database(url, **kwargs))
    try:
        await upgrade(app.database)
        batch = mentions(n, run)
        for m in mentions(20, run + "-warm"):
            await app.service.ingest(m)
        start = time.perf_counter()
        for m in batch:
            await app.service.ingest(m)
        elapsed = time.perf_counter() - start
        async with app.database.sessions() as session:
            tickets = await session.scalar(select(func.count()).select_from(Ticket))
            in_incidents = await session.scalar(select(func.count()).select_from(Ticket)
                                                .where(Ticket.incident_id.is_not(None)))
        if tickets != n + 20 or in_incidents:
            raise SystemExit(f"the workload formed a storm: {tickets} tickets, {in_incidents} in incidents")
        return elapsed
    finally:
        await app.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    times: dict[tuple[str, bool], list[float]] = {}
    kinds = ["sqlite", *(["postgresql"] if args.postgres_url else [])]
    for round_ in range(args.repeat):
        for db in kinds:
            for sla in ((False, True) if round_ % 2 == 0 else (True, False)):  # paired, order alternating
                run = f"{db[0]}{round_}{sla}"
                if db == "sqlite":
                    with tempfile.TemporaryDirectory() as tmp:
                        t = await timed(f"sqlite+aiosqlite:///{tmp}/desk.db", {}, sla, args.n, run)
                else:
                    async with isolated_schema(args.postgres_url) as schema:
                        t = await timed(args.postgres_url, schema.engine_kwargs, sla, args.n, run)
                times.setdefault((db, sla), []).append(t)
    print(f"{'database':<12}{'sla off':>12}{'sla on':>12}{'ratio':>8}   "
          f"({args.n} mentions, medians of {args.repeat} paired rounds)")
    for db in kinds:
        off, on = times[(db, False)], times[(db, True)]
        ratio = statistics.median(b / a for a, b in zip(off, on))
        print(f"{db:<12}{args.n / statistics.median(off):>9.0f}/s{args.n / statistics.median(on):>9.0f}/s"
              f"{ratio:>8.2f}")

if __name__ == "__main__":
    asyncio.run(main())
