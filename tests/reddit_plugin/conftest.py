"""Fixtures for the Reddit plugin: the Reddit emulator on loopback, a script app's
credentials in the environment, and desks driving the real asyncpraw client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from socialdesk.core.app import DeskApp
from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.reddit.plugin import poll_stream
from socialdesk.plugins.reddit.runtime import close_runtime
from socialdesk.plugins.reddit.streams import PollReport
from socialdesk.sandbox.reddit import RedditEmulator
from tests.conftest import FakeClock
from tests.platform_double import CardRecorder

AGENT = Actor("U1")


@pytest.fixture
async def reddit(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedditEmulator]:
    async with RedditEmulator(clock=lambda: clock().timestamp()) as emulator:
        monkeypatch.setenv("REDDIT_CLIENT_ID", emulator.script_app.client_id)
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", emulator.script_app.client_secret)
        monkeypatch.setenv("REDDIT_USERNAME", emulator.brand)
        monkeypatch.setenv("REDDIT_PASSWORD", emulator.password)
        yield emulator


DeskFactory = Callable[..., Awaitable[DeskApp]]


@pytest.fixture
async def make_reddit_desk(make_app: Any, reddit: RedditEmulator, cards: CardRecorder) -> AsyncIterator[DeskFactory]:
    desks: list[DeskApp] = []

    async def factory(**settings: Any) -> DeskApp:
        table = {"enabled": True, "oauth_url": reddit.base_url, "reddit_url": reddit.base_url,
                 "subreddits": ["acme"], "keywords": ["acme", "order"], "developer": "acme_dev", **settings}
        app = await make_app({"plugins": {"reddit": table}}, extra=[PluginEntry("cards", cards, "test", True)],
                             with_platform=False)
        desks.append(app)
        return app

    yield factory
    for app in desks:
        await close_runtime(app)


@pytest.fixture
async def desk(make_reddit_desk: DeskFactory) -> DeskApp:
    return await make_reddit_desk()


async def poll(desk: DeskApp, stream: str) -> PollReport:
    report = await poll_stream(desk, stream)
    assert report is not None, "the poll raised; see the log"
    return report


async def poll_all(desk: DeskApp) -> dict[str, PollReport]:
    return {name: await poll(desk, name)
            for name in ("mentions", "comment_replies", "subreddit_comments", "subreddit_posts")}
