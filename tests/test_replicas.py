"""Three `socialdesk run --http` processes on one PostgreSQL; the leader is SIGKILLed mid-storm.

Real OS processes against the sandbox (Slack, X and Discord emulators in this test's
process) and a database created for this test. The counts come from the emulators' own
state: what customers posted on X and Discord, the cards in the Slack channel, the
replies the brand posted. Every default plugin is on: a third of the posts are the same
complaint from different people (a storm: one incident card), and templated questions
that happen to match become incidents too. PostgreSQL only: SQLite is one replica by design.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from socialdesk.core.store.database import Database
from socialdesk.core.store.migrate import upgrade
from socialdesk.core.store.models import Cursor, Incident, Message, OutboxJob, Reply, Ticket
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.slack.card import CARD_EVENT_TYPE
from socialdesk.core.slack.incident_card import INCIDENT_EVENT_TYPE
from socialdesk.core.ticket import ReplyStatus
from socialdesk.demo.config import render_toml
from socialdesk.sandbox.cluster import Sandbox
from socialdesk.sandbox.slack import RateLimits
from tests.conftest import _postgres_url

CHANNEL = "C0SOCIAL01"
AGENT = "U0AGENT001"
REPLICAS = 3
STORM = 300  # mentions: half on X, half on Discord
KILL_AFTER = 120  # mentions fed before the leader is killed
FEED_PAUSE_SECONDS = 0.08
TAKEOVER_LIMIT_SECONDS = 30.0
# Distinct questions: templates and words with co-prime counts, so no two customers write
# the same thing (the storm below is the only crowd saying one thing).
QUESTIONS = ("my {a} {b} stopped working after {c}", "why does the {a} page ask for my {b} every {c}",
             "is {a} available for {b} accounts since {c}?", "I was charged for {a} but got {b} on {c}",
             "where do I change the {a} for {b}, support said {c}")
WORDS_A = ("parcel", "refund", "login", "invoice", "password", "delivery", "coupon", "battery", "screen",
           "account", "subscription", "warranty", "shipping", "checkout", "app", "order")
WORDS_B = ("family", "student", "business", "trial", "annual", "gift", "legacy", "partner", "premium", "team",
           "school", "charity", "beta")
WORDS_C = ("monday", "the update", "my trip", "yesterday", "last week", "the outage", "renewal", "two days",
           "my move", "the holidays", "signup")


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    """A database of its own: the replicas are separate processes, so no per-test search path."""
    url = make_url(_postgres_url())
    name = f"sd_replicas_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ReplicaProcess:
    name: str
    process: subprocess.Popen[bytes]
    slack_url: str
    status_url: str
    log: Path

    async def health(self) -> dict[str, Any] | None:
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.get(self.status_url + "/healthz") as answer:
                return await answer.json() if answer.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None


async def eventually(what: str, check: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


def desk_toml(sandbox: Sandbox, database_url: str) -> str:
    return render_toml({
        "desk": {
            "database_url": database_url, "channel": CHANNEL, "agents": [AGENT], "log_level": "info",
            # A short lease: the jobs the killed leader held are taken again within seconds.
            "outbox": {"workers": 2, "poll_interval_seconds": 0.1, "lease_seconds": 15, "batch_size": 5,
                       "backoff_base_seconds": 0.5, "backoff_max_seconds": 5.0},
        },
        "plugins": {
            "slack": {"enabled": True, "mode": "http", "api_url": sandbox.slack.api_url,
                      "http": {"host": "127.0.0.1"}, "rate": {"per_channel_per_second": 50.0, "burst": 20}},
            "x": {"enabled": True, "api_base": sandbox.x.base_url, "poll_interval": 15},
            "discord": {"enabled": True, "api_base": sandbox.discord.api_base,
                        "gateway_url": sandbox.discord.gateway_url},
        },
    })


def spawn(name: str, config: Path, env: dict[str, str], logs: Path) -> ReplicaProcess:
    slack_port, status_port = free_port(), free_port()
    log = logs / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "--config", str(config), "run", "--http", "--port", str(slack_port),
         "--status-port", str(status_port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=logs)
    return ReplicaProcess(name, process, f"http://127.0.0.1:{slack_port}/slack/events",
                          f"http://127.0.0.1:{status_port}", log)


async def stop_all(replicas: list[ReplicaProcess]) -> None:
    for replica in replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for replica in replicas:
        while replica.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait()


def tail(replica: ReplicaProcess, lines: int = 40) -> str:
    text = replica.log.read_text(errors="replace").splitlines()
    return f"--- {replica.name} (exit {replica.process.poll()}) ---\n" + "\n".join(text[-lines:])


class Storm:
    """Customers writing on X and Discord; remembers what they posted (the emulators' ids)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.x, self.discord = sandbox.x, sandbox.discord
        self.guild = self.discord.guild_id()
        self.channel = self.discord.channel_id("support")
        self.x_posts: list[str] = []
        self.discord_posts: list[str] = []  # external ids as the desk names them: guild/channel/message
        for n in range(30):
            self.x.add_user(f"cust{n:02d}", f"Customer {n}", followers=50 + n)
        for n in range(2, STORM, 3):
            self.x.add_user(f"storm{n:03d}", f"Storm Customer {n}", followers=10 + n)

    def post(self, n: int) -> None:
        question = QUESTIONS[n % len(QUESTIONS)].format(
            a=WORDS_A[n % len(WORDS_A)], b=WORDS_B[n * 3 % len(WORDS_B)], c=WORDS_C[n * 7 % len(WORDS_C)])
        if n % 3 == 2:  # the storm: the same complaint from a different X account each time
            post = self.x.post_as(f"storm{n:03d}", f"@acme checkout fails with error 502 when I pay, order {n}")
            self.x_posts.append(str(post["id"]))
        elif n % 2 == 0:
            post = self.x.post_as(f"cust{n % 30:02d}", f"@acme {question}")
            self.x_posts.append(str(post["id"]))
        else:
            message = self.discord.post_message(self.channel, f"member{n % 30:02d}",
                                                question, mentions_bot=True)
            self.discord_posts.append(f"{self.guild}/{self.channel}/{message['id']}")


@dataclass
class Stored:
    messages: dict[str, int]  # inbound external id -> times stored
    tickets: list[tuple[int, str | None, int | None]]  # (id, card ts, incident id)
    incidents: dict[int, str | None]  # id -> card ts
    replies: list[tuple[int, str, str]]  # (id, text, status)
    unfinished: int  # outbox jobs pending or running

    def shown(self) -> bool:
        """Every ticket is on a card of its own or on its incident's card."""
        return all(card or (incident is not None and self.incidents.get(incident))
                   for _, card, incident in self.tickets)


async def stored(database: Database) -> Stored:
    async with database.sessions() as session:
        messages = Counter((await session.scalars(
            select(Message.external_id).where(Message.direction == "inbound"))).all())
        tickets = [(t.id, t.card_ts, t.incident_id) for t in (await session.scalars(select(Ticket))).all()]
        incidents = {i.id: i.card_ts for i in (await session.scalars(select(Incident))).all()}
        replies = [(r.id, r.text, r.status) for r in (await session.scalars(select(Reply))).all()]
        unfinished = len((await session.scalars(select(OutboxJob.id).where(
            OutboxJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING])))).all())
    return Stored(dict(messages), tickets, incidents, replies, unfinished)


async def test_three_replicas_lose_nothing_and_double_nothing_when_the_leader_is_killed(
        fresh_database: str, tmp_path: Path) -> None:
    sandbox = await Sandbox.start(record=tmp_path / "traffic.jsonl")
    # Slack's real pace (1 card per second per channel) would make 300 cards take 5 minutes.
    sandbox.slack.limiter.limits = RateLimits(post_message_per_second=100.0, post_message_burst=50, tiers=False)
    database = Database(fresh_database)
    await upgrade(database)
    config = tmp_path / "plugins.toml"
    config.write_text(desk_toml(sandbox, fresh_database), encoding="utf-8")
    env = {**os.environ, **sandbox.environment(), "PYTHONUNBUFFERED": "1"}
    replicas = [spawn(f"replica-{n}", config, env, tmp_path) for n in range(REPLICAS)]
    storm = Storm(sandbox)
    replies_sent: dict[str, str] = {}  # reply text -> the replica it was sent through
    try:
        async def all_healthy() -> bool:
            for replica in replicas:
                assert replica.process.poll() is None, tail(replica)
            return all([await r.health() for r in replicas])

        await eventually("3 healthy replicas", all_healthy, 90)

        async def leaders() -> list[ReplicaProcess]:
            return [r for r in replicas if (await r.health() or {}).get("leader")]

        [leader] = await eventually("a leader", leaders, 30)
        assert len(await leaders()) == 1
        followers = [r for r in replicas if r is not leader]

        async def discord_caught_up() -> bool:
            # The desk's first look at a guild starts "from now" (backfill_limit = 0): customers
            # write once the leader has read the guild once, as they would on a desk in service.
            key = f"guild:{storm.guild}:caught_up"
            async with database.sessions() as session:
                return (await session.get(Cursor, ("discord", key))) is not None

        await eventually("the leader's first Discord catch-up", discord_caught_up, 60)

        async def reply_to(ticket_id: int, via: ReplicaProcess, n: int) -> None:
            """``/desk reply`` through ``via``; returns once the agent is told it is on its way
            (the reply and its send job are committed then: Slack's ack alone promises nothing)."""
            text = f"Thanks for writing in, we are on it (answer {n} for #{ticket_id})"
            driver = sandbox.slack.driver(via.slack_url, ack_timeout=10.0)
            delivery = await driver.slash_command("/desk", f"reply {ticket_id} {text}", user=AGENT, channel=CHANNEL)
            assert delivery.acked, f"/desk reply through {via.name} was not acknowledged"

            async def confirmed() -> bool:
                return any(e.text.startswith(f"Your reply to #{ticket_id} is on its way")
                           for e in sandbox.slack.ephemerals(CHANNEL, AGENT))

            await eventually(f"the confirmation of the reply to #{ticket_id}", confirmed, 30)
            replies_sent[text] = via.name

        async def carded_tickets(count: int) -> list[int]:
            tickets = (await stored(database)).tickets
            answered = {int(text.rsplit("#", 1)[1].rstrip(")")) for text in replies_sent}
            ready = [tid for tid, card, _ in sorted(tickets) if card and tid not in answered]
            return ready[:count] if len(ready) >= count else []

        fed = 0
        while fed < KILL_AFTER:
            storm.post(fed)
            fed += 1
            await asyncio.sleep(FEED_PAUSE_SECONDS)
            if fed == KILL_AFTER // 2:  # agents answer through every replica while the storm goes on
                for n, tid in enumerate(await eventually("cards to answer", lambda: carded_tickets(3), 60)):
                    await reply_to(tid, replicas[n % REPLICAS], n)

        # Replies written through the leader right before it dies: their sends are in flight
        # (in some replica's worker, or waiting in the outbox) when it is killed.
        ready = await eventually("more cards", lambda: carded_tickets(3), 60)
        await asyncio.gather(*(reply_to(tid, leader, n) for n, tid in enumerate(ready, start=100)))
        leader.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        leader.process.wait()

        async def new_leader() -> list[ReplicaProcess]:
            return [r for r in followers if (await r.health() or {}).get("leader")]

        [successor] = await eventually("another leader", new_leader, TAKEOVER_LIMIT_SECONDS)
        takeover_seconds = time.monotonic() - killed_at
        assert takeover_seconds < TAKEOVER_LIMIT_SECONDS
        print(f"takeover after SIGKILL: {takeover_seconds:.1f} s ({successor.name})")

        while fed < STORM:
            storm.post(fed)
            fed += 1
            await asyncio.sleep(FEED_PAUSE_SECONDS)
            if fed == (KILL_AFTER + STORM) // 2:
                for n, tid in enumerate(await eventually("cards after the kill", lambda: carded_tickets(4), 60),
                                        start=200):
                    await reply_to(tid, followers[n % 2], n)

        wanted = set(storm.x_posts) | set(storm.discord_posts)

        async def quiet() -> bool:
            now = await stored(database)
            return (wanted <= set(now.messages) and now.shown() and now.unfinished == 0
                    and len(now.replies) == len(replies_sent)
                    and all(status not in (ReplyStatus.PENDING, ReplyStatus.SENDING) for *_, status in now.replies))

        try:
            await eventually("every mention stored, every card and reply delivered", quiet, 120)
        except AssertionError:
            now = await stored(database)
            missing = sorted(wanted - set(now.messages))
            raise AssertionError(f"missing mentions {missing[:10]} ({len(missing)}), tickets without card "
                                 f"{[t for t, c, i in now.tickets if not c and not now.incidents.get(i)][:10]}, "
                                 f"unfinished jobs {now.unfinished}, replies "
                                 f"{[r for r in now.replies if r[2] != ReplyStatus.SENT]}, replies not written "
                                 f"{sorted(set(replies_sent) - {text for _, text, _ in now.replies})}\n"
                                 + "\n".join(tail(r) for r in replicas)) from None

        final = await stored(database)
        messages, tickets, replies = final.messages, final.tickets, final.replies
        # 0 lost, each stored once: every post the emulators hold is one stored message.
        assert len(storm.x_posts) + len(storm.discord_posts) == STORM
        assert all(messages.get(external_id) == 1 for external_id in wanted)

        # 0 duplicate cards: the Slack channel holds exactly one card per carded ticket, and
        # one per incident; the storm became an incident whatever replica was leading.
        def top_level(event_type: str, key: str) -> Counter[int]:
            return Counter(m.metadata["event_payload"][key] for m in sandbox.slack.timeline(CHANNEL)
                           if not m.is_reply and m.metadata and m.metadata.get("event_type") == event_type)

        cards = top_level(CARD_EVENT_TYPE, "ticket_id")
        assert set(cards) == {tid for tid, card, _ in tickets if card}
        assert max(cards.values()) == 1, {t: c for t, c in cards.items() if c > 1}
        incident_cards = top_level(INCIDENT_EVENT_TYPE, "incident_id")
        assert set(incident_cards) == set(final.incidents) and set(incident_cards.values()) == {1}
        # The storm ran on across the kill: the new leader went on filing it under the same
        # incident (at most its first two complaints were on the desk before it was recognised).
        per_incident = Counter(i for _, _, i in tickets if i is not None)
        assert per_incident and per_incident.most_common(1)[0][1] >= STORM // 3 - 2, per_incident
        print(f"{len(tickets)} tickets, {len(cards)} ticket cards, {len(incident_cards)} incident cards")

        # 0 duplicate replies: each reply is on its platform at most once, and once if sent.
        bot_id = str(sandbox.discord.bot_user["id"])
        on_platforms = [t["text"] for t in sandbox.x.replies_by("acme")] + [
            m["content"] for m in sandbox.discord.messages(storm.channel) if str(m["author"]["id"]) == bot_id]
        statuses = {text: status for _, text, status in replies}
        assert set(statuses) == set(replies_sent)
        for text, status in statuses.items():
            times = sum(text in post for post in on_platforms)  # a platform may add a mention or signature
            assert times <= 1, f"posted {times} times: {text}"
            if status == ReplyStatus.SENT:
                assert times == 1, f"recorded as sent but not on the platform: {text}"
        # Only a reply in the dying leader's hands may be left for an agent to check.
        assert sum(status == ReplyStatus.SENT for status in statuses.values()) >= len(statuses) - 2
        assert all(status in (ReplyStatus.SENT, ReplyStatus.UNCERTAIN) for status in statuses.values())
    finally:
        await stop_all(replicas)
        await database.dispose()
        await sandbox.stop()
