#!/usr/bin/env python
"""What the SLA plugin adds to ingest: N mentions with ``sla`` on vs off, same run.

The plugin settles each new ticket's clocks right after its ingest commits (one more
transaction per new ticket). Each variant gets a fresh, migrated database; the variants
take turns ``--repeat`` times and the best time of each counts. A measurement, not a
test: the output is the ratio against the same run's baseline (``sla`` off).

    python bench/sla_overhead.py [--n 2000] [--repeat 3] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.plugin_catalog import PluginEntry, discover_plugins  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema  # noqa: E402
from tests.platform_double import PLATFORM, TestPlatform  # noqa: E402


def mentions(n: int, run: str) -> list[Mention]:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    return [Mention(platform=PLATFORM, external_id=f"{run}-{i}", conversation_id=f"{run}-c{i}",
                    author=Author(platform=PLATFORM, external_id=f"a{i % 50}", handle=f"user{i % 50}"),
                    text=f"my order {i} never arrived", created_at=at) for i in range(n)]


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
        return time.perf_counter() - start
    finally:
        await app.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    best: dict[tuple[str, bool], float] = {}
    for round_ in range(args.repeat):
        for sla in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                t = await timed(f"sqlite+aiosqlite:///{tmp}/desk.db", {}, sla, args.n, f"s{round_}{sla}")
            best[("sqlite", sla)] = min(t, best.get(("sqlite", sla), t))
            if args.postgres_url:
                async with isolated_schema(args.postgres_url) as schema:
                    t = await timed(args.postgres_url, schema.engine_kwargs, sla, args.n, f"p{round_}{sla}")
                best[("postgresql", sla)] = min(t, best.get(("postgresql", sla), t))
    print(f"{'database':<12}{'sla off':>12}{'sla on':>12}{'ratio':>8}   ({args.n} mentions, best of {args.repeat})")
    for db in ("sqlite", "postgresql"):
        if (db, True) in best:
            off, on = best[(db, False)], best[(db, True)]
            print(f"{db:<12}{args.n / off:>9.0f}/s{args.n / on:>9.0f}/s{on / off:>8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
