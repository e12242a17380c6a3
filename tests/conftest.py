"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from SOCIALDESK_TEST_DATABASE_URL (`.ci/run` sets it); each test gets
its own schema, dropped afterwards. Without the variable the PostgreSQL half is
skipped, except under CI=true where a missing database is an error.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web_app

from socialdesk.core.app import DeskApp
from socialdesk.core.config import parse_config
from socialdesk.core.store.database import Database
from socialdesk.core.mention import Author, Mention
from socialdesk.core.store.migrate import upgrade
from socialdesk.devtools.postgres import isolated_schema
from socialdesk.core.plugin_catalog import PluginEntry, discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from tests.platform_double import PLATFORM, CardRecorder, TestPlatform

POSTGRES_ENV = "SOCIALDESK_TEST_DATABASE_URL"


class FakeClock:
    """A clock tests move by hand; starts at a fixed, timezone-aware instant."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set; CI must run the PostgreSQL half (use .ci/run)")
        pytest.skip(f"{POSTGRES_ENV} not set; run .ci/run to include PostgreSQL")
    return url


@pytest.fixture(autouse=True)
def _forget_aiohttp_handlers() -> Iterator[None]:
    """aiohttp caches each request handler it built with the applications that served it
    (``web_app._cached_build_middleware``, up to 1,024 entries). A test's emulators and
    desk servers are done when it ends; without this, the cache keeps them and all they
    hold alive for hundreds of tests, and the process's garbage collections grow to
    seconds, long enough to make Slack's 3-second acknowledgements miss."""
    yield
    cached = getattr(web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url_and_kwargs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, dict]]:
    """(url, engine kwargs) of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}", {}
        return
    async with isolated_schema(_postgres_url()) as schema:
        yield _postgres_url(), _without_flush_waits(schema.engine_kwargs)


def _without_flush_waits(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Commits that do not wait for the WAL's fsync. The tests kill desks, never the
    PostgreSQL server, so every commit they make stays visible; what this removes is a
    checkpoint's disk flush on a shared CI machine holding a commit for seconds, which
    made a modal's refusal miss Slack's deadline (an acknowledgement test measures the
    desk, not the CI disk)."""
    connect_args = dict(kwargs.get("connect_args") or {})
    connect_args["server_settings"] = {**connect_args.get("server_settings", {}), "synchronous_commit": "off"}
    return {**kwargs, "connect_args": connect_args}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def platform() -> TestPlatform:
    return TestPlatform()


@pytest.fixture
def cards() -> CardRecorder:
    return CardRecorder()


AppFactory = Callable[..., Any]


def _rules_only_unless_asked(raw_config: dict[str, Any] | None) -> dict[str, Any]:
    """Tests pin triage to the rule-based plugins unless they configure ``learned_triage``:
    a learned model's verdicts move whenever it is retrained, and most tests are about
    something else. ``tests/triage/test_learned_*`` turn it on (``{"learned_triage": {}}``)."""
    raw = dict(raw_config or {})
    plugins = dict(raw.get("plugins") or {})
    plugins.setdefault("learned_triage", {"enabled": False})
    raw["plugins"] = plugins
    return raw


@pytest.fixture
async def make_app(database_url_and_kwargs: tuple[str, dict], clock: FakeClock,
                   platform: TestPlatform, cards: CardRecorder) -> AsyncIterator[AppFactory]:
    """Build desks sharing one migrated database; each call is a separate desk (a 'replica')."""
    url, kwargs = database_url_and_kwargs
    apps: list[DeskApp] = []
    migrated = False

    async def factory(raw_config: dict[str, Any] | None = None, extra: list[PluginEntry] | None = None,
                      with_platform: bool = True) -> DeskApp:
        nonlocal migrated
        entries = list(extra or [])
        if with_platform:
            entries.append(PluginEntry(PLATFORM, platform, "test", True))
            entries.append(PluginEntry("cards", cards, "test", True))
        catalog = discover_plugins().with_extra(entries)
        config = parse_config(_rules_only_unless_asked(raw_config), catalog)
        app = DeskApp(config, build_plugin_manager(catalog, config), Database(url, **kwargs), clock)
        if not migrated:
            await upgrade(app.database)
            migrated = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        await app.close()


@pytest.fixture
async def app(make_app: AppFactory) -> DeskApp:
    return await make_app()


_counter = iter(range(1, 10**9))


def mention(
    external_id: str | None = None,
    *,
    conversation_id: str | None = None,
    text: str = "My order never arrived",
    author_id: str = "u1",
    handle: str = "customer",
    followers: int | None = 10,
    created_at: datetime | None = None,
    platform: str = PLATFORM,
) -> Mention:
    """A mention on the test platform; a new conversation unless one is given."""
    external_id = external_id or f"m{next(_counter)}"
    return Mention(
        platform=platform,
        external_id=external_id,
        conversation_id=conversation_id or f"conv-{external_id}",
        author=Author(platform=platform, external_id=author_id, handle=handle, followers=followers),
        text=text,
        created_at=created_at or datetime(2026, 11, 2, 8, 59, tzinfo=timezone.utc),
        url=f"https://testnet.example/p/{external_id}",
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Any]:
    """Slack, X, Discord and Bluesky emulators on loopback, recording traffic to ``traffic_record``."""
    from socialdesk.sandbox.cluster import Sandbox

    started = await Sandbox.start(record=tmp_path / "traffic.jsonl")
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
def traffic_record(sandbox: Any, tmp_path: Path) -> Path:
    """The JSON-lines traffic record of the ``sandbox`` fixture."""
    return tmp_path / "traffic.jsonl"


def sqlite_upgrade(path: Path) -> None:
    """Migrate the SQLite file at ``path`` to head: `check` refuses what `run` refuses, an
    un-migrated database included. Synchronous on purpose: tests call it inside a running loop."""
    from alembic import command
    from sqlalchemy import create_engine

    from socialdesk.core.store.migrate import alembic_config

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()  # synchronous on purpose: the tests call it inside a running event loop
