"""Crash-and-fault soak: `socialdesk run` processes SIGKILLed again and again while customers
write, agents answer and the emulators misbehave; then nothing may be lost or doubled.

    .venv/bin/python bench/soak.py --database sqlite
    .venv/bin/python bench/soak.py --database postgresql      # two replicas on one PostgreSQL

Real OS processes (``python -m socialdesk run --http``) against the sandbox emulators of
this process, on 127.0.0.1 only. During the stream of ``--mentions`` posts (X and Discord,
a quarter of them follow-ups in an existing conversation) a random replica is SIGKILLed
every few seconds (``--kills`` times) and started again; agents send ``/desk reply``
through a live replica; X, Slack and Discord answer 429 and 5xx to a share of requests,
drop some connections, answer some Slack posts after the desk gave up waiting, and
lose the answer to some X replies after posting them.

At the end (faults off, replicas running) it checks from the emulators' own state:
every post stored exactly once, at most one card per ticket and every ticket shown,
no reply on a platform twice, every reply the agent saw confirmed stored, every stored
reply sent or marked uncertain on its card (never left pending). It prints the figures
and exits 1 if any check fails. PostgreSQL: ``--postgres-url`` or
``$SOCIALDESK_TEST_DATABASE_URL``; the soak creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from socialdesk.core.slack.card import CARD_EVENT_TYPE
from socialdesk.core.slack.incident_card import INCIDENT_EVENT_TYPE
from socialdesk.core.store.database import Database
from socialdesk.core.store.migrate import upgrade
from socialdesk.core.store.models import Incident, Message, OutboxJob, Reply, Ticket
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.ticket import ReplyStatus
from socialdesk.demo.config import render_toml
from socialdesk.sandbox.cluster import Sandbox
from socialdesk.sandbox.slack import RateLimits

CHANNEL = "C0SOCIAL01"
AGENT = "U0AGENT001"
CONFIRMED = "is on its way"
# Distinct questions (co-prime word counts), so the storm detector files them one by one.
QUESTIONS = ("my {a} {b} stopped working after {c}", "why does the {a} page ask for my {b} every {c}",
             "is {a} available for {b} accounts since {c}?", "I was charged for {a} but got {b} on {c}",
             "where do I change the {a} for {b}, support said {c}")
WORDS_A = ("parcel", "refund", "login", "invoice", "password", "delivery", "coupon", "battery", "screen",
           "account", "subscription", "warranty", "shipping", "checkout", "app", "order")
WORDS_B = ("family", "student", "business", "trial", "annual", "gift", "legacy", "partner", "premium", "team",
           "school", "charity", "beta")
WORDS_C = ("monday", "the update", "my trip", "yesterday", "last week", "the outage", "renewal", "two days",
           "my move", "the holidays", "signup")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    name: str
    config: Path
    env: dict[str, str]
    logs: Path
    process: subprocess.Popen[bytes] | None = None
    slack_url: str = ""
    status_url: str = ""
    starts: int = 0

    def start(self) -> None:
        slack_port, status_port = free_port(), free_port()
        self.starts += 1
        log = (self.logs / f"{self.name}.{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "--config", str(self.config), "run", "--http", "--port",
             str(slack_port), "--status-port", str(status_port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.logs)
        self.slack_url = f"http://127.0.0.1:{slack_port}/slack/events"
        self.status_url = f"http://127.0.0.1:{status_port}"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session, \
                    session.get(self.status_url + "/healthz") as answer:
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Figures:
    mentions: int = 0
    follow_ups: int = 0
    kills: int = 0
    replies_asked: int = 0
    replies_confirmed: list[str] = field(default_factory=list)
    replies_unacknowledged: int = 0


def desk_toml(sandbox: Sandbox, database_url: str) -> str:
    return render_toml({
        "desk": {
            "database_url": database_url, "channel": CHANNEL, "agents": [AGENT], "log_level": "info",
            "outbox": {"workers": 2, "poll_interval_seconds": 0.1, "lease_seconds": 10, "batch_size": 5,
                       "backoff_base_seconds": 0.5, "backoff_max_seconds": 4.0},
        },
        "plugins": {
            "slack": {"enabled": True, "mode": "http", "api_url": sandbox.slack.api_url, "request_timeout_seconds": 5,
                      "http": {"host": "127.0.0.1"}, "rate": {"per_channel_per_second": 50.0, "burst": 20}},
            "x": {"enabled": True, "api_base": sandbox.x.base_url, "poll_interval": 15},
            "discord": {"enabled": True, "api_base": sandbox.discord.api_base,
                        "gateway_url": sandbox.discord.gateway_url},
        },
    })


def faults_on(sandbox: Sandbox, share: float) -> None:
    for emulator in (sandbox.x, sandbox.discord):
        emulator.faults.set(rate_limited=share, server_error=share, dropped=share / 4, seed=7)
    # Slack: 429s and 5xx on every method, and card posts answered after the desk gave up.
    sandbox.slack.faults.set(rate_limited=share, server_error=share / 2, slow=share / 2, slow_seconds=6.0, seed=11)


def faults_off(sandbox: Sandbox) -> None:
    for emulator in (sandbox.x, sandbox.discord, sandbox.slack):
        emulator.faults.clear()


class Customers:
    """Distinct posts on X and Discord; a quarter are follow-ups in an earlier conversation."""

    def __init__(self, sandbox: Sandbox, rng: random.Random) -> None:
        self.x, self.discord, self.rng = sandbox.x, sandbox.discord, rng
        self.guild = self.discord.guild_id()
        self.channel = self.discord.channel_id("support")
        self.posted: list[str] = []  # external ids as the desk names them
        self._x_openers: list[tuple[str, str]] = []  # (username, post id)
        self._discord_openers: list[tuple[str, int]] = []
        for n in range(40):
            self.x.add_user(f"cust{n:02d}", f"Customer {n}", followers=20 + n)

    def post(self, n: int) -> bool:
        """Post mention ``n``; True when it was a follow-up."""
        follow_up = n % 4 == 3 and (self._x_openers or self._discord_openers)
        text = QUESTIONS[n % len(QUESTIONS)].format(
            a=WORDS_A[n % len(WORDS_A)], b=WORDS_B[n * 3 % len(WORDS_B)], c=WORDS_C[n * 7 % len(WORDS_C)])
        if n % 2 == 0:
            if follow_up and self._x_openers:
                user, parent = self.rng.choice(self._x_openers)
                post = self.x.post_as(user, f"@acme still waiting, {text}", in_reply_to=parent)
            else:
                user = f"cust{n % 40:02d}"
                post = self.x.post_as(user, f"@acme {text}")
                self._x_openers.append((user, str(post["id"])))
                follow_up = False
            self.posted.append(str(post["id"]))
        else:
            member = f"member{n % 40:02d}"
            if follow_up and self._discord_openers:
                member, parent_id = self.rng.choice(self._discord_openers)
                message = self.discord.post_message(self.channel, member, f"still waiting, {text}",
                                                    reply_to=parent_id, mentions_bot=True)
            else:
                message = self.discord.post_message(self.channel, member, text, mentions_bot=True)
                self._discord_openers.append((member, int(message["id"])))
                follow_up = False
            self.posted.append(f"{self.guild}/{self.channel}/{message['id']}")
        return bool(follow_up)


async def reply_through(sandbox: Sandbox, replica: Replica, ticket_id: int, n: int, figures: Figures) -> None:
    text = f"We are on it (soak answer {n} for #{ticket_id})"
    figures.replies_asked += 1
    driver = sandbox.slack.driver(replica.slack_url, ack_timeout=3.0)
    delivery = await driver.slash_command("/desk", f"reply {ticket_id} {text}", user=AGENT, channel=CHANNEL)
    if not delivery.acked:
        figures.replies_unacknowledged += 1  # the agent saw Slack's error: nothing was promised
        return
    if CONFIRMED in str(delivery.body):  # acknowledged after the commit, with the confirmation
        figures.replies_confirmed.append(text)


async def carded_open_tickets(database: Database, exclude: set[int]) -> list[int]:
    async with database.sessions() as session:
        rows = (await session.execute(select(Ticket.id).where(
            Ticket.card_ts.is_not(None), Ticket.status == "open"))).scalars().all()
    return [t for t in rows if t not in exclude]


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="socialdesk-soak-"))
    admin: asyncpg.Connection | None = None
    if args.database == "postgresql":
        base = make_url(args.postgres_url)
        name = f"sd_soak_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False))
        await admin.execute(f'CREATE DATABASE "{name}"')
        database_url = base.set(database=name).render_as_string(hide_password=False)
        replicas_wanted = 2
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'desk.db'}"
        replicas_wanted = 1  # SQLite is one replica by design
    sandbox = await Sandbox.start()
    sandbox.slack.limiter.limits = RateLimits(post_message_per_second=100.0, post_message_burst=50, tiers=False)
    database = Database(database_url)
    await upgrade(database)
    config = workdir / "plugins.toml"
    config.write_text(desk_toml(sandbox, database_url), encoding="utf-8")
    env = {**os.environ, **sandbox.environment(), "PYTHONUNBUFFERED": "1"}
    replicas = [Replica(f"replica-{n}", config, env, workdir) for n in range(replicas_wanted)]
    customers = Customers(sandbox, rng)
    figures = Figures()
    started = time.monotonic()
    try:
        for replica in replicas:
            replica.start()
        await until(lambda: all_healthy(replicas), 120, "healthy replicas")
        await asyncio.sleep(3)  # the leader's first Discord catch-up ("from now")
        faults_on(sandbox, args.fault_share)
        answered: set[int] = set()
        fed = asyncio.Event()

        async def feed() -> None:
            n = 0
            while n < args.mentions:
                # Spread the stream over the kills: each kill interval gets its share of posts.
                share = args.mentions * (figures.kills + 1) // (args.kills + 1)
                if n >= share:
                    await asyncio.sleep(0.2)
                    continue
                figures.follow_ups += customers.post(n)
                figures.mentions += 1
                if n % 20 == 10:
                    sandbox.x.lose_next_response("/2/tweets", "POST")  # an X reply posted, its answer lost
                n += 1
                await asyncio.sleep(args.pause)
            fed.set()

        async def agent() -> None:
            rounds_after_feed = 0
            while not fed.is_set() or (len(figures.replies_confirmed) < args.replies // 2 and rounds_after_feed < 60):
                rounds_after_feed += fed.is_set()
                await asyncio.sleep(rng.uniform(1.0, 3.0))
                if figures.replies_asked >= args.replies:
                    return
                live = [r for r in replicas if await r.healthy()]
                ready = await carded_open_tickets(database, answered)
                if live and ready:
                    ticket = rng.choice(ready)
                    answered.add(ticket)
                    await reply_through(sandbox, rng.choice(live), ticket, figures.replies_asked, figures)

        async def kill() -> None:
            while figures.kills < args.kills:
                victim = rng.choice(replicas)
                await until(victim.healthy, 180, f"{victim.name} to serve")
                await asyncio.sleep(rng.uniform(1.0, 4.0))  # it works a while, then dies mid-work
                victim.kill()
                figures.kills += 1
                await asyncio.sleep(rng.uniform(0.2, 1.5))
                victim.start()

        await asyncio.gather(feed(), kill(), agent())
        # The desk catches up with the faults still on, then they stop for the final count.
        await until(lambda: all_healthy(replicas), 180, "healthy replicas after the last kill")
        await asyncio.sleep(args.faulty_seconds)
        faults_off(sandbox)
        await until(lambda: all_healthy(replicas), 120, "healthy replicas after the last kill")
        wanted = set(customers.posted)

        async def quiet() -> bool:
            state = await read_state(database)
            return (wanted <= set(state["messages"]) and state["unfinished"] == 0
                    and all(s not in (ReplyStatus.PENDING, ReplyStatus.SENDING) for _, s in state["replies"].values()))

        settled = await until(quiet, args.settle_seconds, "everything stored and delivered", fail=False)
        state = await read_state(database)
        elapsed = time.monotonic() - started
        return report(args, sandbox, customers, figures, state, settled, elapsed)
    finally:
        for replica in replicas:
            replica.stop()
        await database.dispose()
        await sandbox.stop()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)')
            await admin.close()


async def all_healthy(replicas: list[Replica]) -> bool:
    return all([await r.healthy() for r in replicas])


async def until(check: Any, timeout: float, what: str, *, fail: bool = True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.5)
    if fail:
        raise SystemExit(f"soak: timed out waiting for {what}")
    return False


async def read_state(database: Database) -> dict[str, Any]:
    async with database.sessions() as session:
        messages = Counter((await session.scalars(
            select(Message.external_id).where(Message.direction == "inbound"))).all())
        tickets = {t.id: (t.card_ts, t.incident_id) for t in (await session.scalars(select(Ticket))).all()}
        incidents = {i.id: i.card_ts for i in (await session.scalars(select(Incident))).all()}
        replies = {r.id: (r.text, r.status) for r in (await session.scalars(select(Reply))).all()}
        unfinished = len((await session.scalars(select(OutboxJob.id).where(
            OutboxJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING])))).all())
        failed = len((await session.scalars(select(OutboxJob.id).where(OutboxJob.status == JobStatus.FAILED))).all())
    return {"messages": messages, "tickets": tickets, "incidents": incidents, "replies": replies,
            "unfinished": unfinished, "failed_jobs": failed}


def report(args: argparse.Namespace, sandbox: Sandbox, customers: Customers, figures: Figures,
           state: dict[str, Any], settled: bool, elapsed: float) -> int:
    messages, tickets, replies = state["messages"], state["tickets"], state["replies"]
    wanted = set(customers.posted)
    lost = sorted(wanted - set(messages))
    doubled = sorted(k for k in wanted if messages.get(k, 0) > 1)
    cards = Counter(m.metadata["event_payload"]["ticket_id"] for m in sandbox.slack.timeline(CHANNEL)
                    if not m.is_reply and m.metadata and m.metadata.get("event_type") == CARD_EVENT_TYPE)
    incident_cards = Counter(m.metadata["event_payload"]["incident_id"] for m in sandbox.slack.timeline(CHANNEL)
                             if not m.is_reply and m.metadata and m.metadata.get("event_type") == INCIDENT_EVENT_TYPE)
    double_cards = {t: c for t, c in cards.items() if c > 1}
    unshown = [t for t, (card, incident) in tickets.items()
               if not card and not (incident is not None and state["incidents"].get(incident))]
    bot_id = str(sandbox.discord.bot_user["id"])
    on_platforms = [t["text"] for t in sandbox.x.replies_by("acme")] + [
        m["content"] for m in sandbox.discord.messages(customers.channel) if str(m["author"]["id"]) == bot_id]
    posted_twice = [text for text, _ in replies.values() if sum(text in p for p in on_platforms) > 1]
    stored_texts = {text for text, _ in replies.values()}
    vanished = [t for t in figures.replies_confirmed if t not in stored_texts]
    statuses = Counter(status for _, status in replies.values())
    unreconciled = statuses.get(ReplyStatus.PENDING, 0) + statuses.get(ReplyStatus.SENDING, 0)
    faults = {name: {k: v for k, v in e.faults.counts.items()} for name, e in
              (("x", sandbox.x), ("discord", sandbox.discord), ("slack", sandbox.slack))}
    lines = [
        f"soak on {args.database} ({'2 replicas' if args.database == 'postgresql' else '1 process'}), "
        f"seed {args.seed}, {elapsed:.0f} s",
        f"  mentions posted: {figures.mentions} ({figures.follow_ups} follow-ups); SIGKILLs: {figures.kills}",
        f"  faults injected: {faults}",
        f"  /desk reply sent: {figures.replies_asked}; confirmed in the ack: {len(figures.replies_confirmed)}; "
        f"not acknowledged (replica killed): {figures.replies_unacknowledged}",
        f"  stored: {len(messages)} inbound messages, {len(tickets)} tickets, {sum(cards.values())} ticket cards, "
        f"{sum(incident_cards.values())} incident cards, {len(replies)} replies {dict(statuses)}",
        f"  lost mentions: {len(lost)}; stored twice: {len(doubled)}; tickets with two cards: {len(double_cards)}; "
        f"tickets not shown: {len(unshown)}",
        f"  replies on a platform twice: {len(posted_twice)}; confirmed replies not stored: {len(vanished)}; "
        f"replies left pending/sending: {unreconciled}; failed outbox jobs: {state['failed_jobs']}",
        f"  settled: {settled}",
    ]
    print("\n".join(lines))
    ok = settled and not (lost or doubled or double_cards or unshown or posted_twice or vanished or unreconciled)
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("SOCIALDESK_TEST_DATABASE_URL")
                        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--mentions", type=int, default=500)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--fault-share", type=float, default=0.05, help="share of requests answered 429 (and 5xx)")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between two posts")
    parser.add_argument("--replies", type=int, default=30, help="/desk reply commands the agent sends")
    parser.add_argument("--faulty-seconds", type=float, default=60,
                        help="how long the faults go on after the last kill")
    parser.add_argument("--settle-seconds", type=float, default=240)
    parser.add_argument("--seed", type=int, default=13)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
