"""Fixtures for the Bluesky plugin: the Bluesky emulator on loopback, the brand's handle and
app password in the environment, and desks (on SQLite and PostgreSQL) with the real plugin
driving atproto's real ``AsyncClient``.

The emulator's clock is the desk's FakeClock: post times, ``indexedAt`` and rate-limit
windows move only when a test advances it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.bluesky.plugin import poll_notifications
from socialdesk.plugins.bluesky.poller import PollReport
from socialdesk.plugins.bluesky.runtime import close_runtime
from socialdesk.sandbox.bluesky import BlueskyEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

BRAND = "acme.bsky.social"
DANA = "dana.bsky.social"
FOX = "fox.bsky.social"


@pytest.fixture
async def bsky(clock: FakeClock) -> AsyncIterator[BlueskyEmulator]:
    async with BlueskyEmulator(brand_handle=BRAND, brand_name="Acme Support",
                               clock=lambda: clock().timestamp()) as emulator:
        emulator.add_user(DANA, "Dana Scully", followers=1200)
        emulator.add_user(FOX, "Fox")
        yield emulator


@pytest.fixture
def bsky_secrets(bsky: BlueskyEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The brand's handle and app password, in the variables the plugin reads by default."""
    values = {"BLUESKY_HANDLE": bsky.brand_handle, "BLUESKY_APP_PASSWORD": bsky.brand_password}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_bsky_desk(make_app: Any, bsky: BlueskyEmulator, bsky_secrets: dict[str, str],
                         cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    """``await make_bsky_desk(**plugins_bluesky_settings)``: a desk with the Bluesky plugin on,
    pointed at the emulator. Calling it again makes another desk on the same database (a restart)."""
    desks: list[DeskApp] = []

    async def factory(**settings: Any) -> DeskApp:
        table = {"enabled": True, "service": bsky.base_url, **settings}
        app = await make_app({"plugins": {"bluesky": table}}, extra=[PluginEntry("cards", cards, "test", True)],
                             with_platform=False)
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await close_runtime(app)


@pytest.fixture
async def desk(make_bsky_desk: DeskFactory) -> DeskApp:
    return await make_bsky_desk()


async def poll(app: DeskApp) -> PollReport:
    """One run of the scheduled poll job, as APScheduler would run it."""
    report = await poll_notifications(app)
    assert report is not None, "the poll raised; see the log"
    return report


def calls(bsky: BlueskyEmulator, nsid: str) -> list[dict[str, Any]]:
    return [r for r in bsky.recorder.of("bluesky") if r["path"] == f"/xrpc/{nsid}"]


def records_created(bsky: BlueskyEmulator) -> list[dict[str, Any]]:
    return calls(bsky, "com.atproto.repo.createRecord")
