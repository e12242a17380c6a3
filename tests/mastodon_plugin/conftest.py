"""Fixtures for the Mastodon plugin: the Mastodon emulator on loopback, the token in the
environment, and desks (on SQLite and PostgreSQL) with the real plugin driving Mastodon.py.

The emulator's clock is the desk's FakeClock: statuses, ids, rate-limit windows and the
``Date`` of its answers move only when a test advances it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.mastodon.catch_up import PollReport
from socialdesk.plugins.mastodon.plugin import catch_up
from socialdesk.plugins.mastodon.runtime import close_runtime
from socialdesk.sandbox.mastodon import MastodonEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

TOKEN_ENV = "MASTODON_ACCESS_TOKEN"
DANA = "dana@example.social"


@pytest.fixture
async def masto(clock: FakeClock) -> AsyncIterator[MastodonEmulator]:
    async with MastodonEmulator(brand_username="acme", brand_name="Acme Support",
                                clock=lambda: clock().timestamp()) as emulator:
        emulator.add_account("dana", "Dana Scully", domain="example.social", followers=1200)
        emulator.add_account("fox", "Fox")
        yield emulator


@pytest.fixture
def masto_token(masto: MastodonEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, masto.brand_token)
    return masto.brand_token


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_masto_desk(make_app: Any, masto: MastodonEmulator, masto_token: str,
                          cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    """``await make_masto_desk(**plugins_mastodon_settings)``: a desk with the Mastodon plugin on,
    pointed at the emulator. Calling it again makes another desk on the same database (a restart)."""
    desks: list[DeskApp] = []

    async def factory(**settings: Any) -> DeskApp:
        table = {"enabled": True, "api_base": masto.base_url, **settings}
        app = await make_app({"plugins": {"mastodon": table}}, extra=[PluginEntry("cards", cards, "test", True)],
                             with_platform=False)
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await close_runtime(app)


@pytest.fixture
async def desk(make_masto_desk: DeskFactory) -> DeskApp:
    return await make_masto_desk()


async def catch_up_once(app: DeskApp) -> PollReport:
    """One run of the scheduled catch-up job, as APScheduler would run it."""
    report = await catch_up(app)
    assert report is not None, "the catch-up raised; see the log"
    return report


def notification_requests(masto: MastodonEmulator) -> list[dict[str, Any]]:
    return masto.recorder.of("mastodon", method="GET", path="/api/v1/notifications")


def posts_sent(masto: MastodonEmulator) -> list[dict[str, Any]]:
    return masto.recorder.of("mastodon", method="POST", path="/api/v1/statuses")


async def eventually(condition: Callable[[], Any], what: str, rounds: int = 400) -> None:
    """Wait for something another thread or task does (the stream's reader), by yielding, not by timing."""
    for _ in range(rounds):
        if await _check(condition):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def _check(condition: Callable[[], Any]) -> bool:
    result = condition()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)
