"""Fixtures for the Discourse plugin: the forum emulator on loopback, its credentials in the
environment, desks whose push server receives the forum's webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.push.plugin import push_server
from socialdesk.plugins.discourse.backfill import BackfillReport
from socialdesk.plugins.discourse.plugin import run_backfill
from socialdesk.plugins.discourse.runtime import close_runtime
from socialdesk.sandbox.discourse import DiscourseEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

AGENT = Actor("U1")


@pytest.fixture
async def forum(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscourseEmulator]:
    async with DiscourseEmulator(clock=lambda: clock().timestamp()) as emulator:
        monkeypatch.setenv("DISCOURSE_API_KEY", emulator.api_key)
        monkeypatch.setenv("DISCOURSE_API_USERNAME", emulator.api_username)
        monkeypatch.setenv("DISCOURSE_WEBHOOK_SECRET", emulator.webhooks.secret)
        yield emulator


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_discourse_desk(make_app: Any, forum: DiscourseEmulator,
                              cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    """``await make_discourse_desk(**settings)``: a desk receiving the forum's webhooks (the
    newest desk made receives them). Calling it again is a restart on the same database."""
    desks: list[DeskApp] = []

    async def factory(**settings: Any) -> DeskApp:
        table = {"enabled": True, "base_url": forum.base_url, **settings}
        app = await make_app({"plugins": {"discourse": table, "push": {"host": "127.0.0.1", "port": 0}}},
                             extra=[PluginEntry("cards", cards, "test", True)], with_platform=False)
        await app.hooks.start_services()
        forum.webhooks.url = push_url(app)
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await app.hooks.stop_services()
        await close_runtime(app)


@pytest.fixture
async def desk(make_discourse_desk: DeskFactory) -> DeskApp:
    return await make_discourse_desk()


def push_url(desk: DeskApp) -> str:
    server = push_server(desk)
    assert server is not None and server.url is not None
    return f"{server.url}/push/discourse"


async def backfill(desk: DeskApp) -> BackfillReport:
    report = await run_backfill(desk)
    assert report is not None, "the backfill raised; see the log"
    return report


async def tickets(desk: DeskApp) -> list[Any]:
    return await desk.service.queue(platform="discourse")
