"""Fixtures for the Slack side: the sandbox Slack emulator and a running desk wired to it.

Every desk here runs the real Bolt app (HTTP mode or Socket Mode) and its real outbox
workers against the emulator on 127.0.0.1; the store is SQLite or PostgreSQL (the
``make_app`` fixture of tests/conftest.py is parametrised over both).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.slack.app import STILL_WORKING
from socialdesk.core.slack.runtime import existing_runtime, runtime_for
from socialdesk.sandbox.slack import (
    DEMO_CHANNELS,
    DEMO_USERS,
    Message,
    RateLimits,
    SlackChannel,
    SlackDriver,
    SlackEmulator,
    SlackUser,
    UserGroup,
)
from socialdesk.sandbox.slack import payloads, signed_headers
from tests.conftest import mention
from tests.platform_double import PLATFORM, TestPlatform
from tests.store_queries import jobs

STILL_WORKING_PREFIX = STILL_WORKING.split("{", 1)[0]

CHANNEL = "C0SOCIAL01"
ESCALATIONS = "C0ESCALAT1"
ALICE, BOB, DANA = "U0AGENT001", "U0AGENT002", "U0AGENT003"
CAROL = "U0LEAD0001"  # desk admin
ERIN = "U0OUTSIDE1"  # in the workspace, not an agent
ONCALL = "S0ONCALL1"
AGENT_GROUP = "S0RACERS01"
RACERS = tuple(f"U0RACER{n:03d}" for n in range(1, 21))  # agents through AGENT_GROUP only

USERS = (*DEMO_USERS, *(SlackUser(u, f"racer{n}", f"Racer {n}") for n, u in enumerate(RACERS, 1)))
GROUPS = (
    UserGroup(ONCALL, "desk-oncall", "Desk on-call", (ALICE, BOB)),
    UserGroup(AGENT_GROUP, "desk-racers", "Racers", RACERS),
)
ENV = {"bot": "SANDBOX_SLACK_BOT_TOKEN", "app": "SANDBOX_SLACK_APP_TOKEN", "secret": "SANDBOX_SLACK_SIGNING_SECRET"}
FAST_RATE = RateLimits(post_message_per_second=50.0, post_message_burst=10)


class LiveClock:
    """Real UTC time (outbox delays and Slack's clock must agree), movable by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class Ticking:
    """A monotonic clock for caches (seconds), moved by hand: ``clock.now += 61``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> LiveClock:  # overrides tests/conftest.py's fixed clock for this package
    return LiveClock()


async def eventually(predicate: Callable[[], Any], timeout: float = 15.0, message: str = "") -> None:
    """Wait for what a background task (Bolt listener, outbox worker) does."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


# Many people sending the same words at once is a storm (one incident card); tests about
# one card per ticket pass ``plugins=NO_STORMS``.
NO_STORMS = {"storms": {"enabled": False}}


def desk_config(slack: SlackEmulator, mode: str, *, desk: dict[str, Any] | None = None,
                plugin: dict[str, Any] | None = None, plugins: dict[str, Any] | None = None) -> dict[str, Any]:
    """``plugin``: more [plugins.slack] settings; ``plugins``: other plugins' sections."""
    return {
        "desk": {
            "channel": CHANNEL, "agents": [ALICE, BOB, DANA], "agent_groups": [AGENT_GROUP], "admins": [CAROL],
            "oncall_group": ONCALL,
            "outbox": {"poll_interval_seconds": 0.02, "backoff_base_seconds": 0.1, "backoff_max_seconds": 1.0,
                       "batch_size": 20},
            **(desk or {}),
        },
        "plugins": {"slack": {
            "enabled": True, "mode": mode, "api_url": slack.api_url,
            "bot_token_env": ENV["bot"], "app_token_env": ENV["app"], "signing_secret_env": ENV["secret"],
            "http": {"host": "127.0.0.1", "port": 0},
            "rate": {"per_channel_per_second": 50.0, "burst": 10},
            "macros": {"thanks": "Thanks {author}! {agent} from the team here, we are on it ({ticket}).",
                       "refund": "Hi {handle}, refunds take 5-7 days."},
            **(plugin or {}),
        }, **(plugins or {})},
    }


@dataclass
class Desk:
    """A running desk: its app, the emulator, and a driver that plays Slack towards it."""

    app: DeskApp
    slack: SlackEmulator
    driver: SlackDriver
    platform: TestPlatform
    mode: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    workers: list[asyncio.Task[None]] = field(default_factory=list)

    async def mention(self, text: str = "My order never arrived", **kwargs: Any) -> int:
        return (await self.app.service.ingest(mention(text=text, **kwargs))).ticket_id

    async def card(self, ticket_id: int, timeout: float = 15.0) -> Message:
        """The ticket's card, once the outbox has posted it."""
        async def posted() -> bool:
            return bool((await self.app.service.get_ticket(ticket_id)).card_ts)

        await eventually(posted, timeout, f"card of #{ticket_id}")
        ticket = await self.app.service.get_ticket(ticket_id)
        assert ticket.card_channel and ticket.card_ts
        message = self.slack.message(ticket.card_channel, ticket.card_ts)
        assert message is not None
        return message

    async def settled(self, timeout: float = 15.0) -> None:
        """Every outbox job has run (done or failed)."""
        async def idle() -> bool:
            return all(j.status in (JobStatus.DONE, JobStatus.FAILED) for j in await jobs(self.app))

        await eventually(idle, timeout, "outbox idle")

    def ephemerals(self, user: str, channel: str = CHANNEL, interim: bool = False) -> list[str]:
        """What ``user`` was told. On a loaded machine a slow command is first acknowledged
        as still working (Slack's 3-second deadline) and its outcome follows; that interim
        acknowledgement is left out unless ``interim``."""
        texts = [e.text for e in self.slack.ephemerals(channel, user)]
        return texts if interim else [t for t in texts if not t.startswith(STILL_WORKING_PREFIX)]

    async def told(self, user: str, count: int = 1, channel: str = CHANNEL) -> list[str]:
        """Wait for ``count`` ephemerals to ``user``; returns them all."""
        await eventually(lambda: len(self.ephemerals(user, channel)) >= count, message=f"ephemeral to {user}")
        return self.ephemerals(user, channel)

    async def command(self, text: str, user: str = ALICE, channel: str = CHANNEL) -> str:
        """Type ``/desk text``; returns the ephemeral answer."""
        before = len(self.ephemerals(user, channel))
        delivery = await self.driver.slash_command("/desk", text, user=user, channel=channel)
        assert delivery.acked, delivery
        return (await self.told(user, before + 1, channel))[-1]

    async def click(self, ticket_id: int, action_id: str, user: str = ALICE, value: str | None = None) -> None:
        ticket = await self.app.service.get_ticket(ticket_id)
        assert ticket.card_channel and ticket.card_ts
        if value is None:
            delivery = await self.driver.click(ticket.card_channel, ticket.card_ts, action_id, user=user)
        else:
            delivery = await self.driver.choose(ticket.card_channel, ticket.card_ts, action_id, value, user=user)
        assert delivery.acked, delivery

    async def choose_in_overflow(self, ticket_id: int, value: str, user: str = ALICE) -> None:
        """Pick an option of the card's overflow menu, signed, over HTTP.

        The emulator's driver cannot pick overflow options (reported as a gap), so the
        block_actions payload is built here from the emulator's own payload builders.
        """
        assert self.driver.request_url, "overflow clicks are sent in HTTP mode"
        ticket = await self.app.service.get_ticket(ticket_id)
        state = self.slack.state
        message = self.slack.message(ticket.card_channel or "", ticket.card_ts or "")
        assert message is not None
        block = next(b for b in message.blocks or [] if b.get("type") == "actions"
                     and any(e.get("type") == "overflow" for e in b["elements"]))
        element = next(e for e in block["elements"] if e.get("type") == "overflow")
        option = next(o for o in element["options"] if o["value"] == value)
        channel = state.resolve_channel(message.channel, for_posting=False)
        await self.send_interaction(payloads.message_actions(
            state, user_id=user, channel=channel, message=message,
            action=payloads.element_action(element, block["block_id"], state.ts.next(), option),
            trigger=self.slack.trigger_id(user), state_values={},
            response_url=self.slack.response_url(channel.id, user, kind="actions", message_ts=message.ts)))

    async def pick_in_view(self, view_id: str, action_id: str, value: str) -> None:
        """Pick an option of a select inside an open modal (block_actions from the view)."""
        view = self.slack.view(view_id)
        assert view is not None and not view.closed
        block = next(b for b in view.blocks if (b.get("element") or {}).get("action_id") == action_id)
        option = next(o for o in block["element"]["options"] if o["value"] == value)
        state = self.slack.state
        await self.send_interaction(payloads.view_actions(
            state, user_id=view.user, view=view, trigger=self.slack.trigger_id(view.user),
            action=payloads.element_action(block["element"], block["block_id"], state.ts.next(), option)))

    async def send_interaction(self, payload: dict[str, Any]) -> None:
        """Deliver an interaction payload the way Slack does: form-encoded and signed."""
        assert self.driver.request_url, "built interactions are sent in HTTP mode"
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   **signed_headers(self.slack.signing_secret, body)}
        async with aiohttp.ClientSession() as session, \
                session.post(self.driver.request_url, data=body, headers=headers) as answer:
            assert answer.status == 200

    def open_view(self, user: str, callback_id: str) -> Any:
        views = [v for v in self.slack.views if v.user == user and not v.closed and v.callback_id == callback_id]
        return views[-1] if views else None

    async def view(self, user: str, callback_id: str) -> Any:
        await eventually(lambda: self.open_view(user, callback_id) is not None, message=f"{callback_id} open")
        return self.open_view(user, callback_id)

    def card_text(self, message: Message) -> str:
        return json.dumps(message.blocks, ensure_ascii=False)


DeskFactory = Callable[..., Any]


@pytest.fixture
async def start_desk(make_app: Any, platform: TestPlatform,
                     monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DeskFactory]:
    """``await start_desk(mode="http"|"socket", ...)``: an emulator and a desk running against it."""
    stack = contextlib.AsyncExitStack()

    async def factory(mode: str = "http", *, desk: dict[str, Any] | None = None, plugin: dict[str, Any] | None = None,
                      plugins: dict[str, Any] | None = None,
                      rate_limits: RateLimits = FAST_RATE, channels: tuple[SlackChannel, ...] = DEMO_CHANNELS,
                      history: bool = True, start: bool = True, **emulator: Any) -> Desk:
        slack = await stack.enter_async_context(
            SlackEmulator(users=USERS, usergroups=GROUPS, channels=channels, rate_limits=rate_limits, **emulator))
        if not history:  # as if the app lacked the channels:history scope
            del slack.web_api.methods["conversations.history"]
        monkeypatch.setenv(ENV["bot"], slack.bot_token)
        monkeypatch.setenv(ENV["app"], slack.app_token)
        monkeypatch.setenv(ENV["secret"], slack.signing_secret)
        app = await make_app(desk_config(slack, mode, desk=desk, plugin=plugin, plugins=plugins),
                             extra=[PluginEntry(PLATFORM, platform, "test", True)], with_platform=False)
        running = Desk(app, slack, slack.driver(), platform, mode)
        if start:
            await start_running(running)
        stack.push_async_callback(stop_running, running)
        return running

    yield factory
    await stack.aclose()


async def start_running(desk: Desk) -> None:
    await desk.app.hooks.start_services()
    rt = runtime_for(desk.app)
    if desk.mode == "socket":
        await desk.slack.socket_mode.wait_connected()
        desk.driver = desk.slack.driver()
    else:
        assert rt.listener is not None and rt.listener.request_url
        desk.driver = desk.slack.driver(rt.listener.request_url)
    desk.workers = [asyncio.create_task(desk.app.outbox_runner(f"w{n}").run_forever(desk.stop))
                    for n in range(desk.app.config.desk.outbox.workers)]


async def stop_running(desk: Desk) -> None:
    desk.stop.set()
    await asyncio.gather(*desk.workers, return_exceptions=True)
    if existing_runtime(desk.app) is not None:
        await desk.app.hooks.stop_services()
