"""Fixtures for the Discord plugin: the Discord emulator, and desks (on SQLite and PostgreSQL)
running the real plugin with the real discord.py against it.

Card jobs are performed by ``tests.platform_double.CardRecorder`` (registered as ``cards``);
every wait is bounded (``eventually`` / ``asyncio.wait_for``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.sandbox.discord import DiscordEmulator, DiscordSettings, GatewayFaults
from socialdesk.sandbox.faults import FaultPlan
from tests.discord_plugin.desk_driver import TOKEN_ENV, DiscordDesk
from tests.platform_double import CardRecorder

EmulatorFactory = Callable[..., Any]
DeskFactory = Callable[..., Any]

FAST = {"heartbeat_interval_ms": 1000}


@pytest.fixture
async def make_emulator() -> AsyncIterator[EmulatorFactory]:
    started: list[DiscordEmulator] = []

    async def factory(faults: FaultPlan | None = None, gateway_faults: GatewayFaults | None = None,
                      cls: type[DiscordEmulator] = DiscordEmulator, **settings: Any) -> DiscordEmulator:
        emulator = cls(faults=faults, gateway_faults=gateway_faults, settings=DiscordSettings(**{**FAST, **settings}))
        started.append(await emulator.start())
        return emulator

    yield factory
    for emulator in started:
        await emulator.stop()


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory) -> DiscordEmulator:
    return await make_emulator()


@pytest.fixture
async def make_desk(make_app: Any, cards: CardRecorder, emulator: DiscordEmulator,
                    monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DeskFactory]:
    """``await make_desk(**discord_settings)``: a desk with the Discord plugin on (not started).

    Several calls make several desks on one database (replicas, or a desk after a restart).
    ``on=`` points a desk at another emulator; ``config=`` adds to the raw plugins.toml.
    """
    original = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    desks: list[DiscordDesk] = []

    async def factory(on: DiscordEmulator | None = None, config: dict[str, Any] | None = None,
                      **settings: Any) -> DiscordDesk:
        target = on or emulator
        monkeypatch.setenv(TOKEN_ENV, target.token)
        discord_table = {"enabled": True, "token_env": TOKEN_ENV, "api_base": target.api_base,
                         "guild_ready_timeout": 0.05, **settings}
        raw = {"plugins": {"discord": discord_table}}
        for key, value in (config or {}).items():
            raw.setdefault(key, {}).update(value)
        app = await make_app(raw, extra=[PluginEntry("cards", cards, "test", True)], with_platform=False)
        desk = DiscordDesk(app, target, cards)
        desks.append(desk)
        return desk

    yield factory
    for desk in desks:
        await desk.stop()
    # discord.py's two process-wide endpoints are given back once no desk uses them.
    assert (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == original


@pytest.fixture
async def desk(make_desk: DeskFactory) -> DiscordDesk:
    """A running desk watching every channel, listening for mentions and the keyword "acme"."""
    started = await make_desk(keywords=["acme"])
    await started.start()
    return started
