"""Fixtures for the X plugin: the X emulator on loopback, credentials in the environment,
and desks (on SQLite and PostgreSQL) with the real plugin driving the real tweepy client.

The emulator's clock is the desk's FakeClock: rate-limit windows, post times and
snowflake ids move only when a test advances it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.x.plugin import poll_timeline
from socialdesk.plugins.x.poller import PollReport
from socialdesk.plugins.x.runtime import close_runtime
from socialdesk.sandbox.x import XEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

CREDENTIAL_ENV = {
    "bearer": "X_BEARER_TOKEN",
    "consumer_key": "X_CONSUMER_KEY",
    "consumer_secret": "X_CONSUMER_SECRET",
    "access_token": "X_ACCESS_TOKEN",
    "access_token_secret": "X_ACCESS_TOKEN_SECRET",
    "user_token": "X_USER_ACCESS_TOKEN",
}
MENTIONS_JOB = "x.poll_mentions"
SEARCH_JOB = "x.poll_search"


@pytest.fixture
async def x(clock: FakeClock) -> AsyncIterator[XEmulator]:
    async with XEmulator(brand_username="acme", brand_name="Acme Support",
                         clock=lambda: clock().timestamp()) as emulator:
        emulator.add_user("dana", "Dana Scully", followers=1200, verified=True)
        emulator.add_user("fox", "Fox", followers=3)
        yield emulator


@pytest.fixture
def x_secrets(x: XEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The emulator's credentials, in the environment variables the plugin reads by default."""
    values = {
        "bearer": x.app_credentials.bearer_token,
        "consumer_key": x.app_credentials.consumer_key,
        "consumer_secret": x.app_credentials.consumer_secret,
        "access_token": x.brand_credentials.access_token,
        "access_token_secret": x.brand_credentials.access_token_secret,
        "user_token": x.brand_credentials.oauth2_access_token,
    }
    for key, value in values.items():
        monkeypatch.setenv(CREDENTIAL_ENV[key], value)
    return values


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_x_desk(make_app: Any, x: XEmulator, x_secrets: dict[str, str],
                      cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    """``await make_x_desk(**plugins_x_settings)``: a desk with the X plugin on, pointed at the
    emulator. Calling it again makes another desk on the same database (a restart)."""
    desks: list[DeskApp] = []

    async def factory(**settings: Any) -> DeskApp:
        table = {"enabled": True, "api_base": x.base_url, **settings}
        app = await make_app({"plugins": {"x": table}}, extra=[PluginEntry("cards", cards, "test", True)],
                             with_platform=False)
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await close_runtime(app)


@pytest.fixture
async def desk(make_x_desk: DeskFactory) -> DeskApp:
    return await make_x_desk()


async def poll(app: DeskApp, job_id: str = MENTIONS_JOB) -> PollReport:
    """One run of the scheduled poll job, as APScheduler would run it."""
    report = await poll_timeline(app, job_id)
    assert report is not None, "the poll raised; see the log"
    return report


def brand_id(x: XEmulator) -> str:
    return str(x.brand["id"])


def mention_requests(x: XEmulator) -> list[dict[str, Any]]:
    return [r for r in x.recorder.of("x", method="GET") if r["path"] == f"/2/users/{brand_id(x)}/mentions"]


def posts_sent(x: XEmulator) -> list[dict[str, Any]]:
    return x.recorder.of("x", method="POST", path="/2/tweets")


async def spend_app_quota(x: XEmulator, bearer: str) -> int:
    """Use up the app's mentions window the way another tool sharing the app's bearer token
    would: real requests until X answers 429. Returns how many it made."""
    url = f"{x.base_url}/2/users/{brand_id(x)}/mentions"
    made = 0
    async with aiohttp.ClientSession() as session:
        while made < 1000:
            async with session.get(url, headers={"Authorization": f"Bearer {bearer}"}) as response:
                made += 1
                if response.status == 429:
                    return made
    raise AssertionError("the mentions window never ran out")
