#!/usr/bin/env python
"""What a report costs: ``build_report`` over a busy week against the old ``/desk stats``
query (``ticket_queries.stats``) on the same rows, and the digest chart against an empty
matplotlib figure. Ratios against the same run's baselines; a measurement, not a test.

    python bench/reports.py [--tickets 20000] [--repeat 5] [--postgres-url URL]

Each database gets a fresh schema (a temporary SQLite file; a PostgreSQL schema dropped
at the end) seeded with ``--tickets`` tickets over 7 days, each with an inbound message,
a claim, a sent reply, a close, two SLA timers and a CSAT survey for half of them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from socialdesk.core.store import ticket_queries  # noqa: E402
from socialdesk.core.store.database import Database  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.store.models import AuditEvent, CsatSurvey, Message, Reply, SlaTimer, Ticket  # noqa: E402
from socialdesk.core.reports.report import build_report, daily_series  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema  # noqa: E402
from socialdesk.plugins.digest.chart import render_chart  # noqa: E402

START = datetime(2026, 11, 2, tzinfo=timezone.utc)
PLATFORMS, CATEGORIES = ("x", "discord", "reddit"), ("outage", "bug", "billing", "question", "praise")


async def seed(database: Database, n: int) -> None:
    step = timedelta(days=7) / n
    tickets, messages, replies, events, timers, surveys = [], [], [], [], [], []
    for i in range(1, n + 1):
        created = START + i * step
        answered, closed = created + timedelta(minutes=3 + i % 40), created + timedelta(hours=1 + i % 9)
        agent = f"U0AGENT{i % 12:03d}"
        tickets.append({"id": i, "platform": PLATFORMS[i % 3], "conversation_id": f"c{i}", "status": "closed",
                        "priority": 1 + i % 4, "category": CATEGORIES[i % 5], "tags": [], "priority_reasons": [],
                        "spam_suspected": False, "assignee": agent, "first_response_at": answered,
                        "closed_at": closed, "closed_by": agent, "created_at": created, "updated_at": closed,
                        "last_message_at": created, "version": 3, "first_response_due": created + timedelta(minutes=30)})
        messages.append({"ticket_id": i, "platform": PLATFORMS[i % 3], "external_id": f"m{i}", "direction": "inbound",
                         "text": "my order never arrived", "public": True, "attachments": [], "created_at": created,
                         "received_at": created})
        replies.append({"ticket_id": i, "text": "on it", "agent": agent, "status": "sent", "close_after": False,
                        "created_at": answered, "finished_at": answered})
        events += [{"ticket_id": i, "kind": "claimed", "actor": agent, "at": created, "details": {}},
                   {"ticket_id": i, "kind": "closed", "actor": agent, "at": closed, "details": {}}]
        for kind, due, met in (("first_response", created + timedelta(minutes=30), answered),
                               ("resolution", created + timedelta(hours=4), closed)):
            timers.append({"ticket_id": i, "kind": kind, "target_seconds": 1800, "started_at": created, "due_at": due,
                           "remind_at": due, "met_at": met, "breached_at": due if met > due else None})
        if i % 2:
            surveys.append({"ticket_id": i, "platform": "x", "conversation_id": f"c{i}", "status": "answered",
                            "created_at": closed, "sent_at": closed, "answered_at": closed + timedelta(minutes=5),
                            "score": 1 + i % 5})
    async with database.transaction() as session:
        for model, rows in ((Ticket, tickets), (Message, messages), (Reply, replies), (AuditEvent, events),
                            (SlaTimer, timers), (CsatSurvey, surveys)):
            for chunk in range(0, len(rows), 2000):
                await session.execute(insert(model), rows[chunk:chunk + 2000])


async def best_of(repeat: int, work: Callable[[], Awaitable[object]]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - started)
    return best


async def measure(name: str, url: str, kwargs: dict, n: int, repeat: int) -> None:
    database = Database(url, **kwargs)
    try:
        await upgrade(database)
        await seed(database, n)
        until = START + timedelta(days=7, seconds=1)

        async def old_stats() -> object:
            async with database.sessions() as session:
                return await ticket_queries.stats(session, START, until)

        baseline = await best_of(repeat, old_stats)
        report = await best_of(repeat, lambda: build_report(database, START, until, now=until))
        series = await best_of(repeat, lambda: daily_series(database, date(2026, 11, 8), 7, "UTC"))
        print(f"{name:<11} {n:>7} tickets  old /desk stats {baseline * 1000:8.1f} ms   build_report "
              f"{report * 1000:8.1f} ms (x{report / baseline:.2f})   daily_series {series * 1000:7.1f} ms "
              f"(x{series / baseline:.2f})")
    finally:
        await database.dispose()


def chart_ratio(repeat: int) -> None:
    def empty() -> bytes:
        figure = Figure(figsize=(8, 5.5), dpi=110)
        FigureCanvasAgg(figure)
        figure.subplots(2, 1)
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()

    from socialdesk.core.reports.report import DaySeries, Durations
    days = [DaySeries(date(2026, 11, d), {"x": 40 + d, "discord": 20 + d, "reddit": d},
                      Durations(60, 300.0 + d * 10, 900.0 + d * 20)) for d in range(1, 8)]
    timings = {}
    for label, work in (("empty figure", empty), ("digest chart", lambda: render_chart(days, "bench"))):
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - started)
        timings[label] = best
    print(f"chart       empty 2-axes figure {timings['empty figure'] * 1000:.1f} ms   digest chart "
          f"{timings['digest chart'] * 1000:.1f} ms (x{timings['digest chart'] / timings['empty figure']:.2f})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "SOCIALDESK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await measure("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", {}, args.tickets, args.repeat)
    try:
        async with isolated_schema(args.postgres_url) as schema:
            await measure("postgresql", args.postgres_url, schema.engine_kwargs, args.tickets, args.repeat)
    except OSError as exc:
        print(f"postgresql  not measured: {exc}")
    chart_ratio(args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
