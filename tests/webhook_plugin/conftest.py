"""Fixtures for the webhook platform: the webhook emulator on loopback, its secret in the
environment, and desks (SQLite and PostgreSQL) whose push server runs on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.push.plugin import push_server
from socialdesk.sandbox.webhook import WebhookEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

SECRET_ENV = "WEBHOOK_SHOP_SECRET"
AGENT = Actor("U1")


@pytest.fixture
async def sender(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WebhookEmulator]:
    async with WebhookEmulator(clock=lambda: clock().timestamp()) as emulator:
        monkeypatch.setenv(SECRET_ENV, emulator.secret)
        yield emulator


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_webhook_desk(make_app: Any, sender: WebhookEmulator, cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    """``await make_webhook_desk()``: a desk with source ``shop`` and its push server started.
    Calling it again makes another desk on the same database (a restart or a replica)."""
    desks: list[DeskApp] = []

    async def factory(**source: Any) -> DeskApp:
        table = {"label": "Shop reviews", "secret_env": SECRET_ENV,
                 "callback_url": sender.callback_url("shop"), **source}
        app = await make_app({"plugins": {"webhook": {"enabled": True, "sources": {"shop": table}},
                                          "push": {"host": "127.0.0.1", "port": 0, "max_body_bytes": 4096}}},
                             extra=[PluginEntry("cards", cards, "test", True)], with_platform=False)
        await app.hooks.start_services()
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await app.hooks.stop_services()


@pytest.fixture
async def desk(make_webhook_desk: DeskFactory) -> DeskApp:
    return await make_webhook_desk()


def push_url(desk: DeskApp, source: str = "shop") -> str:
    server = push_server(desk)
    assert server is not None and server.url is not None
    return f"{server.url}/push/webhook/{source}"
