#!/usr/bin/env python
"""Ingest benchmark: N mentions through the whole desk ingest path vs the raw driver.

For each database kind (SQLite, PostgreSQL) and in the same run:

* ``raw driver``  -- the baseline: the rows the desk writes for each mention (author
                     upsert, ticket with its SLA due times, message, audit event, outbox
                     jobs, the two SLA timers of a new ticket) as hand-written SQL through
                     the driver alone -- the stdlib ``sqlite3`` module called directly (no
                     thread hops), or asyncpg -- one transaction per mention, after the same
                     triage call the desk makes (``app.hooks.triage``), whose verdict fills the
                     rows; no SQLAlchemy, no reads (ids are kept in dicts);
* ``raw driver/100`` -- the same, one transaction per page of 100 (triage of the page first);
* ``raw executemany/100`` -- SQLite only, a reference: pages of 100 with ``executemany``
                     wherever no id has to come back;
* ``desk ingest`` -- ``await app.service.ingest(mention)`` once per mention, the way single
                     mentions arrive (idempotency check, triage, persist, outbox, SLA clocks);
* ``desk ingest_many/100`` -- ``ingest_many`` with pages of 100 (what pollers deliver).

``desk ingest`` is compared with ``raw driver`` and ``desk ingest_many/100`` with
``raw driver/100``: the same rows in the same transaction sizes, with the same triage.
Each variant gets a fresh database (a temp SQLite file, or a fresh PostgreSQL schema that
is dropped afterwards) migrated with the project's Alembic migration, is warmed up, then
timed with ``time.perf_counter``. ``--repeat`` rounds are paired and interleaved (every
variant once per round, the order rotating); the ratio is of the medians. Results are
printed as a table and written to ``bench/results/ingest.json``. This is a measurement,
not a test: nothing here asserts on time.

    python bench/ingest.py [--n 5000] [--repeat 3] [--databases sqlite,postgresql] [--postgres-url URL]
                           [--no-batch] [--event-log]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform as platform_module
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from socialdesk.core.app import DeskApp  # noqa: E402
from socialdesk.core.config import parse_config  # noqa: E402
from socialdesk.core.logging_setup import configure_logging  # noqa: E402
from socialdesk.core.store.database import SQLITE_BUSY_TIMEOUT_SECONDS, Database  # noqa: E402
from socialdesk.core.mention import Author, Mention  # noqa: E402
from socialdesk.core.store.migrate import upgrade  # noqa: E402
from socialdesk.core.plugin_catalog import discover_plugins  # noqa: E402
from socialdesk.core.plugin_manager import build_plugin_manager  # noqa: E402
from socialdesk.core.triage import TriageResult  # noqa: E402
from socialdesk.devtools.postgres import isolated_schema, raw_dsn  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_ENV = "SOCIALDESK_TEST_DATABASE_URL"
RESULTS_FILE = ROOT / "bench" / "results" / "ingest.json"
TABLES = ("authors", "tickets", "messages", "audit_events", "outbox_jobs", "sla_timers")

PLATFORM = "x"
AUTHOR_POOL = 2000
FOLLOW_UP_SHARE = 0.2
BATCH_SIZE = 100
SEED = 20261102

RAW, DESK_ONE, DESK_MANY = "raw driver", "desk ingest", f"desk ingest_many/{BATCH_SIZE}"
RAW_PAGES = f"raw driver/{BATCH_SIZE}"
RAW_EXECUTEMANY = f"raw executemany/{BATCH_SIZE}"  # SQLite only: a reference line
BASELINE = {DESK_ONE: RAW, DESK_MANY: RAW_PAGES, RAW_EXECUTEMANY: RAW_PAGES}


# --- the workload -----------------------------------------------------------------------

OPENERS = (
    "@acme", "Hey @acme,", "@acme_support", "Dear @acme", "@acme hi!", "Yo @acme", "@acme quick one:",
)
COMPLAINTS = (
    "the app has been down for me since this morning and I can't get anything done",
    "I was charged twice for my subscription this month, can someone look at my invoice",
    "I want a refund for the order that never arrived, it's been three weeks",
    "my account got hacked last night and someone changed the email address",
    "the checkout page keeps showing an error when I try to pay with my card",
    "the iOS app crashes every time I open the settings screen after the update",
    "how do I export my data to CSV? I looked through the help center but found nothing",
    "is there a way to change the delivery address after placing an order?",
    "your new dashboard is really slow to load on my laptop, is that expected",
    "do you ship to Canada yet? thinking about ordering the starter kit",
    "what's the difference between the pro and team plans, the pricing page is unclear",
    "can I pause my subscription for a couple of months while I'm travelling",
    "just wanted to say the new release looks awesome, great work team",
    "love the dark mode, thanks for listening to feedback",
    "the password reset email never shows up, checked spam already",
    "my order status has said 'processing' for 5 days now, order #48213",
)
CLOSERS = (
    "", "", " Thanks!", " Please help.", " Any update?", " This is really frustrating.", " 🙏",
    " Cheers", " DM me if you need details.", " #customerservice",
)
FOLLOW_UPS = (
    "any news on this? still waiting",
    "still broken for me, tried reinstalling already",
    "sent you the order number in DM",
    "ok it works now, thanks!",
    "this is the third time I'm asking, please reply",
    "adding a screenshot of the error I get",
    "it's down again, same problem as yesterday",
    "can someone from billing take a look please",
)


@dataclass(frozen=True, slots=True)
class Workload:
    warmup: list[Mention]
    timed: list[Mention]


def make_workload(n: int, warmup: int, seed: int = SEED) -> Workload:
    """``warmup + n`` distinct mentions; about 20% follow up an earlier conversation."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    conversations: list[tuple[str, str]] = []  # (conversation id, last external id)
    mentions: list[Mention] = []
    for i in range(warmup + n):
        external_id = str(1_850_000_000_000_000_000 + i * 7919)
        a = rng.randrange(AUTHOR_POOL)
        author = Author(
            platform=PLATFORM, external_id=str(9_000_000 + a), handle=f"customer_{a}",
            display_name=f"Customer {a}", followers=rng.randrange(0, 50_000),  # changes: the upsert updates
            verified=a % 97 == 0, profile_url=f"https://x.example/customer_{a}",
        )
        if conversations and rng.random() < FOLLOW_UP_SHARE:
            k = len(conversations) - 1 - min(int(rng.expovariate(1 / 50)), len(conversations) - 1)  # mostly recent
            conversation_id, previous = conversations[k]
            text = f"@acme {rng.choice(FOLLOW_UPS)}{rng.choice(CLOSERS)}"
            in_reply_to = previous
            conversations[k] = (conversation_id, external_id)
        else:
            conversation_id, in_reply_to = external_id, None
            conversations.append((conversation_id, external_id))
            text = f"{rng.choice(OPENERS)} {rng.choice(COMPLAINTS)}.{rng.choice(CLOSERS)}"
        mentions.append(Mention(
            platform=PLATFORM, external_id=external_id, conversation_id=conversation_id, author=author,
            text=text[:280], created_at=start + timedelta(seconds=i),
            url=f"https://x.example/customer_{a}/status/{external_id}", in_reply_to_id=in_reply_to,
        ))
    return Workload(mentions[:warmup], mentions[warmup:])


# --- results ----------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    path: str
    mentions: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    ratio_to_raw: float | None = None

    @property
    def per_second(self) -> float:
        return self.mentions / self.seconds if self.seconds else float("inf")


# --- fresh databases --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A fresh, empty database: the SQLAlchemy URL and engine kwargs the desk uses, and how
    the raw driver connects to the same place."""

    kind: str  # sqlite | postgresql
    url: str
    engine_kwargs: dict[str, Any]
    sqlite_path: Path | None = None
    pg_dsn: str | None = None
    pg_schema: str | None = None


@asynccontextmanager
async def fresh_target(kind: str, postgres_url: str) -> AsyncIterator[Target]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="socialdesk-bench-") as tmp:
            path = Path(tmp) / "desk.db"
            yield Target(kind, f"sqlite+aiosqlite:///{path}", {}, sqlite_path=path)
        return
    async with isolated_schema(postgres_url, "bench") as schema:
        yield Target(kind, postgres_url, schema.engine_kwargs, pg_dsn=schema.dsn, pg_schema=schema.name)


async def migrate(target: Target) -> None:
    database = Database(target.url, **target.engine_kwargs)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


async def count_rows(target: Target) -> dict[str, int]:
    if target.kind == "sqlite":
        async with aiosqlite.connect(target.sqlite_path) as conn:
            return {t: (await conn.execute_fetchall(f"SELECT count(*) FROM {t}"))[0][0] for t in TABLES}
    conn = await asyncpg.connect(target.pg_dsn, server_settings={"search_path": target.pg_schema})
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


# --- the desk ---------------------------------------------------------------------------


def build_desk(target: Target) -> DeskApp:
    """A desk with the default plugins (keyword_triage, sentiment, sla, ...), storms off.

    The workload's texts come from a few templates, so the storms plugin would file many
    of them under incidents with one card each, writing fewer rows than the baseline;
    what storms cost per mention is measured by ``bench/triage_eval.py``.
    """
    catalog = discover_plugins()
    config = parse_config({"plugins": {"storms": {"enabled": False}}}, catalog)
    return DeskApp(config, build_plugin_manager(catalog, config), Database(target.url, **target.engine_kwargs))


async def run_desk_one(app: DeskApp, mentions: Sequence[Mention]) -> None:
    ingest = app.service.ingest
    for m in mentions:
        await ingest(m)


async def run_desk_many(app: DeskApp, mentions: Sequence[Mention]) -> None:
    for i in range(0, len(mentions), BATCH_SIZE):
        await app.service.ingest_many(mentions[i:i + BATCH_SIZE])


async def bench_desk(kind: str, postgres_url: str, workload: Workload, path: str) -> Result:
    run = run_desk_one if path == DESK_ONE else run_desk_many
    async with fresh_target(kind, postgres_url) as target:
        app = build_desk(target)
        try:
            await upgrade(app.database)
            await run(app, workload.warmup)
            started = time.perf_counter()
            await run(app, workload.timed)
            seconds = time.perf_counter() - started
        finally:
            await app.close()
        return Result(kind, path, len(workload.timed), seconds, await count_rows(target))


# --- the raw driver ---------------------------------------------------------------------
# The same rows as the desk writes, after the same triage call. The raw side knows which
# conversations have a ticket and which tickets have a pending card update from its own
# dicts, so it does no reads at all: a strict baseline. SLA due times are fixed offsets
# (the desk computes them in business time: part of what it does more).

MAX_ATTEMPTS = 8
FIRST_RESPONSE, RESOLUTION = timedelta(hours=1), timedelta(hours=24)

AUTHOR_UPSERT = """
INSERT INTO authors (platform, external_id, handle, display_name, followers, verified, profile_url,
                     first_seen, last_seen)
VALUES ({p}) ON CONFLICT (platform, external_id) DO UPDATE SET
  handle = excluded.handle, display_name = excluded.display_name, followers = excluded.followers,
  verified = excluded.verified, profile_url = excluded.profile_url, last_seen = excluded.last_seen
RETURNING id"""
TICKET_INSERT = """
INSERT INTO tickets (platform, conversation_id, status, priority, category, tags, sentiment, sentiment_score,
                     language, spam_suspected, priority_reasons, suggested_macro, author_id, created_at,
                     updated_at, last_message_at, version, first_response_due, resolution_due)
VALUES ({p}) RETURNING id"""
MESSAGE_INSERT = """
INSERT INTO messages (ticket_id, platform, external_id, direction, author_id, text, url, public,
                      in_reply_to_id, attachments, created_at, received_at)
VALUES ({p}) RETURNING id"""
AUDIT_INSERT = "INSERT INTO audit_events (ticket_id, kind, actor, at, details) VALUES ({p})"
OUTBOX_INSERT = """
INSERT INTO outbox_jobs (kind, payload, ticket_id, priority, status, attempts, max_attempts, not_before,
                         dedupe_key, created_at)
VALUES ({p}) RETURNING id"""
SLA_INSERT = """
INSERT INTO sla_timers (ticket_id, kind, target_seconds, started_at, due_at, remind_at) VALUES ({p})"""
TICKET_JOIN = ("UPDATE tickets SET priority = {0}, tags = {1}, priority_reasons = {2}, last_message_at = {3}, "
               "updated_at = {4}, version = version + 1 WHERE id = {5}")
OUTBOX_RAISE = "UPDATE outbox_jobs SET priority = {0} WHERE id = {1} AND priority > {2}"


def _sql(template: str, n: int, style: str) -> str:
    marks = ["?"] * n if style == "qmark" else [f"${i}" for i in range(1, n + 1)]
    return template.format(p=", ".join(marks)) if "{p}" in template else template.format(*marks)


Statement = tuple[str, tuple[Any, ...]]


class RawWriter:
    """Hand-written SQL for one paramstyle. ``plan`` yields the statements of one mention
    and receives each one's first column of the first row (an id from RETURNING)."""

    def __init__(self, style: str, stamp: Callable[[datetime], Any], boolean: Callable[[bool], Any]) -> None:
        self.author = _sql(AUTHOR_UPSERT, 9, style)
        self.ticket = _sql(TICKET_INSERT, 19, style)
        self.message = _sql(MESSAGE_INSERT, 12, style)
        self.audit = _sql(AUDIT_INSERT, 5, style)
        self.outbox = _sql(OUTBOX_INSERT, 10, style)
        self.sla = _sql(SLA_INSERT, 6, style)
        self.join = _sql(TICKET_JOIN, 6, style)
        self.raise_ = _sql(OUTBOX_RAISE, 3, style)
        self.stamp, self.boolean = stamp, boolean
        self.tickets: dict[str, int] = {}  # conversation -> active ticket
        self.card_updates: dict[int, int] = {}  # ticket -> pending update_card job

    def plan(self, m: Mention, v: TriageResult) -> Generator[Statement, Any, None]:
        now = datetime.now(timezone.utc)
        at, b = self.stamp(now), self.boolean
        a = m.author
        tags, reasons = json.dumps(list(v.tags)), json.dumps(list(v.reasons))
        author_id = yield self.author, (m.platform, a.external_id, a.handle, a.display_name, a.followers,
                                        b(a.verified), a.profile_url, at, at)
        ticket_id = self.tickets.get(m.conversation_id)
        if ticket_id is None:
            ticket_id = yield self.ticket, (m.platform, m.conversation_id, "open", v.priority, v.category, tags,
                                            v.sentiment, v.sentiment_score, v.language, b(v.spam), reasons,
                                            v.suggested_macro, author_id, at, at, at, 1,
                                            self.stamp(now + FIRST_RESPONSE), self.stamp(now + RESOLUTION))
            self.tickets[m.conversation_id] = ticket_id
            message_id = yield self._message(ticket_id, m, author_id, at)
            yield self.audit, (ticket_id, "created", "system", at, json.dumps(
                {"platform": m.platform, "message_id": message_id, "priority": v.priority,
                 "category": v.category, "reasons": list(v.reasons)}))
            yield self._job("post_card", {"ticket_id": ticket_id}, ticket_id, v.priority, at,
                            f"post_card:{ticket_id}")
            for kind, target in (("first_response", FIRST_RESPONSE), ("resolution", RESOLUTION)):
                yield self.sla, (ticket_id, kind, int(target.total_seconds()), at, self.stamp(now + target),
                                 self.stamp(now + target * 0.75))
            return
        message_id = yield self._message(ticket_id, m, author_id, at)
        yield self.join, (v.priority, tags, reasons, at, at, ticket_id)
        yield self.audit, (ticket_id, "message_added", "system", at, json.dumps(
            {"message_id": message_id, "status": "open", "priority": v.priority}))
        yield self._job("post_to_card_thread", {"ticket_id": ticket_id, "message_id": message_id}, ticket_id,
                        v.priority, at, f"thread:{message_id}")
        waiting = self.card_updates.get(ticket_id)
        if waiting is not None:
            yield self.raise_, (v.priority, waiting, v.priority)
        else:
            self.card_updates[ticket_id] = yield self._job("update_card", {"ticket_id": ticket_id}, ticket_id,
                                                           v.priority, at, None)

    def _message(self, ticket_id: int, m: Mention, author_id: int, at: Any) -> Statement:
        return self.message, (ticket_id, m.platform, m.external_id, "inbound", author_id, m.text, m.url,
                              self.boolean(m.public), m.in_reply_to_id, json.dumps(list(m.attachments)),
                              self.stamp(m.created_at), at)

    def _job(self, kind: str, payload: dict[str, Any], ticket_id: int, priority: int, at: Any,
             dedupe_key: str | None) -> Statement:
        return self.outbox, (kind, json.dumps(payload), ticket_id, priority, "pending", 0, MAX_ATTEMPTS, at,
                             dedupe_key, at)

    async def ingest(self, execute: Callable[..., Awaitable[Any]], m: Mention, v: TriageResult) -> None:
        """One mention, each statement awaited in turn (asyncpg)."""
        plan, result = self.plan(m, v), None
        try:
            while True:
                sql, args = plan.send(result)
                result = await execute(sql, *args)
        except StopIteration:
            pass

    def ingest_sync(self, execute: Callable[..., Any], m: Mention, v: TriageResult) -> None:
        plan, result = self.plan(m, v), None
        try:
            while True:
                sql, args = plan.send(result)
                result = execute(sql, *args)
        except StopIteration:
            pass

    def ingest_page_executemany(self, conn: sqlite3.Connection, page: Sequence[tuple[Mention, TriageResult]]) -> None:
        """A page with ``executemany`` for every statement whose id nobody needs back."""
        deferred: dict[str, list[tuple[Any, ...]]] = {}

        def execute(sql: str, *args: Any) -> Any:
            if sql in (self.audit, self.sla) or (sql == self.outbox and args[0] == "post_to_card_thread"):
                deferred.setdefault(sql.replace(" RETURNING id", ""), []).append(args)
                return None
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None

        for m, v in page:
            self.ingest_sync(execute, m, v)
        for sql, rows in deferred.items():
            conn.executemany(sql, rows)


def _sqlite_stamp(value: datetime) -> str:
    """How SQLAlchemy stores an aware UTC datetime in SQLite: naive UTC text."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")
Triage = Callable[[Mention], Awaitable[TriageResult]]


def pages(mentions: Sequence[Mention], size: int) -> list[Sequence[Mention]]:
    return [mentions[i:i + size] for i in range(0, len(mentions), size)]


async def raw_sqlite(path: Path, triage: Triage, warmup: Sequence[Mention], timed: Sequence[Mention],
                     page_size: int, executemany: bool = False) -> float:
    """The stdlib sqlite3 module on the event loop's thread, with the desk's connection
    settings (WAL, synchronous=NORMAL, foreign keys, BEGIN IMMEDIATE): no thread hops."""
    writer = RawWriter("qmark", _sqlite_stamp, int)
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)

        def execute(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None

        async def run(mentions: Sequence[Mention]) -> None:
            for page in pages(mentions, page_size):
                verdicts = [await triage(m) for m in page]  # before the transaction, as the desk does
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if executemany:
                        writer.ingest_page_executemany(conn, list(zip(page, verdicts)))
                    else:
                        for m, v in zip(page, verdicts):
                            writer.ingest_sync(execute, m, v)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")

        await run(warmup)
        started = time.perf_counter()
        await run(timed)
        return time.perf_counter() - started
    finally:
        conn.close()


async def raw_postgres(target: Target, triage: Triage, warmup: Sequence[Mention], timed: Sequence[Mention],
                       page_size: int) -> float:
    """asyncpg (its prepared-statement cache on); one transaction per page."""
    writer = RawWriter("numeric", lambda value: value, bool)
    conn = await asyncpg.connect(target.pg_dsn, server_settings={"search_path": target.pg_schema})
    try:
        execute = conn.fetchval

        async def run(mentions: Sequence[Mention]) -> None:
            for page in pages(mentions, page_size):
                verdicts = [await triage(m) for m in page]
                async with conn.transaction():
                    for m, v in zip(page, verdicts):
                        await writer.ingest(execute, m, v)

        await run(warmup)
        started = time.perf_counter()
        await run(timed)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def bench_raw(kind: str, postgres_url: str, workload: Workload, path: str) -> Result:
    page_size = 1 if path == RAW else BATCH_SIZE
    async with fresh_target(kind, postgres_url) as target:
        await migrate(target)  # the Alembic schema: same tables, indexes and constraints as the desk's
        triage_desk = build_desk(target)  # the same plugins, for the same triage call; it writes nothing
        try:
            if kind == "postgresql":
                seconds = await raw_postgres(target, triage_desk.hooks.triage, workload.warmup, workload.timed,
                                             page_size)
            else:
                seconds = await raw_sqlite(target.sqlite_path, triage_desk.hooks.triage, workload.warmup,
                                           workload.timed, page_size, executemany=path == RAW_EXECUTEMANY)
        finally:
            await triage_desk.close()
        return Result(kind, path, len(workload.timed), seconds, await count_rows(target))


# --- driver -----------------------------------------------------------------------------


async def postgres_problem(url: str) -> str | None:
    """None if PostgreSQL answers, else why not (one line)."""
    try:
        conn = await asyncpg.connect(raw_dsn(url), timeout=5)
    except Exception as exc:  # unreachable, auth, missing database...
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    await conn.close()
    return None


async def server_version(kind: str, postgres_url: str) -> str:
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    conn = await asyncpg.connect(raw_dsn(postgres_url))
    try:
        return "PostgreSQL " + await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


def print_table(results: list[Result]) -> None:
    header = f"{'database':<11} {'path':<22} {'mentions':>8} {'seconds':>8} {'mentions/s':>11} {'ratio to raw':>12}"  # noqa: E501
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio_to_raw:.3f}" if r.ratio_to_raw is not None else "-"
        print(f"{r.database:<11} {r.path:<22} {r.mentions:>8} {r.seconds:>8.2f} {r.per_second:>11.0f} {ratio:>12}")


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="mentions per timed run (default 5000)")
    parser.add_argument("--warmup", type=int, default=200, help="mentions ingested before timing (default 200)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--repeat", type=int, default=3,
                        help="paired rounds: every variant once per round (fresh database each time); medians")
    parser.add_argument("--no-batch", action="store_true", help=f"skip the ingest_many/{BATCH_SIZE} line")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where to write the JSON results")
    parser.add_argument("--event-log", action="store_true",
                        help="log as `socialdesk run` does (JSON lines at INFO, masked), into /dev/null; "
                             "by default nothing is logged, on either side")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in ("sqlite", "postgresql")]
    if unknown or not kinds:
        parser.error(f"--databases takes sqlite and/or postgresql (got {args.databases!r})")
    if args.n < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--n and --repeat must be positive, --warmup not negative")

    if args.event_log:
        configure_logging("info")
        logging.getLogger().handlers[0].setStream(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    workload = make_workload(args.n, args.warmup)
    follow_ups = sum(1 for m in workload.timed if m.in_reply_to_id is not None)
    print(f"Python {platform_module.python_version()} ({platform_module.python_implementation()}), "
          f"{platform_module.system()} {platform_module.machine()}")
    print(f"N = {args.n} mentions timed per run ({follow_ups} follow-ups), {args.warmup} warm-up, "
          f"authors from a pool of {AUTHOR_POOL}, medians of {args.repeat} paired rounds")

    results: list[Result] = []
    servers: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for kind in kinds:
        if kind == "postgresql":
            problem = await postgres_problem(args.postgres_url)
            if problem is not None:
                safe = make_url(args.postgres_url).render_as_string(hide_password=True)
                print(f"PostgreSQL at {safe} is unreachable ({problem}); skipping PostgreSQL")
                skipped[kind] = problem
                continue
        servers[kind] = await server_version(kind, args.postgres_url)
        print(f"{servers[kind]} ...", flush=True)
        paths = [RAW, DESK_ONE, *([] if args.no_batch else [RAW_PAGES, DESK_MANY]),
                 *([RAW_EXECUTEMANY] if kind == "sqlite" and not args.no_batch else [])]
        runs: dict[str, list[Result]] = {path: [] for path in paths}
        for round_ in range(args.repeat):  # paired and interleaved: every variant once per round
            shift = round_ % len(paths)
            for path in paths[shift:] + paths[:shift]:  # the order rotates from round to round
                if path.startswith("raw"):
                    r = await bench_raw(kind, args.postgres_url, workload, path)
                else:
                    r = await bench_desk(kind, args.postgres_url, workload, path)
                runs[path].append(r)
        for path in paths:
            seconds = statistics.median(r.seconds for r in runs[path])
            r = Result(kind, path, len(workload.timed), seconds, runs[path][-1].rows)
            base = BASELINE.get(path)
            if base is not None:
                r.ratio_to_raw = statistics.median(b.seconds for b in runs[base]) / seconds  # ratio of medians
                if r.rows != runs[base][-1].rows:
                    print(f"  note: {r.path} wrote {r.rows}, {base} wrote {runs[base][-1].rows}")
            results.append(r)

    print()
    print_table(results)
    print(f"(ratio: the matching raw line's median time over this line's: {DESK_ONE} against {RAW}, "
          f"{DESK_MANY} and {RAW_EXECUTEMANY} against {RAW_PAGES})")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "ingest",
        "python": platform_module.python_version(),
        "implementation": platform_module.python_implementation(),
        "machine": f"{platform_module.system()} {platform_module.machine()}",
        "n": args.n,
        "warmup": args.warmup,
        "follow_ups": follow_ups,
        "author_pool": AUTHOR_POOL,
        "batch_size": BATCH_SIZE,
        "repeat": args.repeat,
        "event_log": args.event_log,
        "servers": servers,
        "skipped": skipped,
        "results": [{**asdict(r), "mentions_per_second": r.per_second} for r in results],
    }, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
