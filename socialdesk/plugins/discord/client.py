"""The discord.py client the desk runs: intents, base URLs, identify pacing, event routing.

discord.py keeps the REST base (``discord.http.Route.BASE``) and the gateway it IDENTIFYs
on (``DiscordWebSocket.DEFAULT_GATEWAY``) in two class attributes, so there is one Discord
per process. :data:`ENDPOINTS` hands them out as a lease: every client of this process must
agree on them, and the originals come back when the last lease is released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from socialdesk.core.errors import DeskError
from socialdesk.plugins.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

IDENTIFY_INTERVAL_SECONDS = 5.0  # Discord: one IDENTIFY per 5 s in each max_concurrency bucket
# Logging in posts nothing, so it gets a bound of its own, independent of the (possibly short)
# reply timeout whose expiry means "may have been posted".
LOGIN_TIMEOUT_SECONDS = 30.0


def desk_intents() -> discord.Intents:
    """Only what the desk needs: guilds and channels, guild messages, and their content.

    MESSAGE_CONTENT is privileged (switched on in the Developer Portal); without it the bot
    still receives messages that mention it, but keywords cannot match.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    return intents


class EndpointConflict(DeskError):
    """Two desks in one process want different Discord endpoints (discord.py allows one)."""


class _Endpoints:
    def __init__(self) -> None:
        self._holders = 0
        self._api: str | None = None
        self._gateway: yarl.URL | None = None
        self._saved: tuple[str, yarl.URL] | None = None

    def acquire(self, api_base: str) -> None:
        if self._holders and self._api != api_base:
            raise EndpointConflict(
                f"another desk in this process talks to Discord at {self._api}; discord.py keeps one "
                f"API base per process, so {api_base} cannot be used at the same time"
            )
        if not self._holders:
            self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
            Route.BASE = self._api = api_base
        self._holders += 1

    def pin_gateway(self, url: str) -> None:
        gateway = yarl.URL(url)
        if not gateway.path:
            gateway = gateway.with_path("/")
        if self._gateway is not None and self._gateway != gateway:
            raise EndpointConflict(f"another desk in this process uses the gateway {self._gateway}, not {gateway}")
        DiscordWebSocket.DEFAULT_GATEWAY = self._gateway = gateway

    def release(self) -> None:
        if self._holders == 0:
            return
        self._holders -= 1
        if self._holders == 0 and self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._api = self._gateway = self._saved = None


ENDPOINTS = _Endpoints()


class IdentifyPacer:
    """Waits the way Discord's identify limit asks: 5 s between IDENTIFYs in one bucket
    (shard id modulo ``max_concurrency``), instead of discord.py's flat 5 s before each."""

    def __init__(self, max_concurrency: int = 1) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait_turn(self, shard_id: int | None) -> None:
        bucket = (shard_id or 0) % self.max_concurrency
        lock = self._locks.setdefault(bucket, asyncio.Lock())
        loop = asyncio.get_running_loop()
        async with lock:
            last = self._last.get(bucket)
            if last is not None and loop.time() - last < IDENTIFY_INTERVAL_SECONDS:
                await asyncio.sleep(IDENTIFY_INTERVAL_SECONDS - (loop.time() - last))
            self._last[bucket] = loop.time()


class GatewayEvents(Protocol):
    """What the client forwards (see :class:`socialdesk.plugins.discord.listener.DiscordListener`)."""

    async def on_message(self, message: discord.Message) -> None: ...
    def on_connection_lost(self, shard_id: int) -> None: ...
    def on_connected(self, shard_id: int, how: str) -> None: ...


class _DeskClientMixin:
    """Routes the gateway events the desk needs to its listener; paces IDENTIFY.

    Connection events are per shard (0 for an unsharded client): an AutoShardedClient also
    fires the shard-less ``disconnect``/``ready``/``resumed``, which it ignores.
    """

    desk_events: GatewayEvents | None = None
    pacer: IdentifyPacer
    desk_sharded = False

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        await self.pacer.wait_turn(shard_id)

    async def on_message(self, message: discord.Message) -> None:
        if self.desk_events is not None:
            await self.desk_events.on_message(message)

    def _lost(self, shard_id: int) -> None:
        if self.desk_events is not None:
            self.desk_events.on_connection_lost(shard_id)

    def _connected(self, shard_id: int, how: str) -> None:
        if self.desk_events is not None:
            self.desk_events.on_connected(shard_id, how)

    async def on_disconnect(self) -> None:
        if not self.desk_sharded:
            self._lost(0)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        if self.desk_sharded:
            self._lost(shard_id)

    async def on_ready(self) -> None:
        if not self.desk_sharded:
            self._connected(0, "ready")

    async def on_shard_ready(self, shard_id: int) -> None:
        # A shard that IDENTIFYs again after op 9 fires shard_ready but not ready.
        if self.desk_sharded:
            self._connected(shard_id, "ready")

    async def on_resumed(self) -> None:
        if not self.desk_sharded:
            self._connected(0, "resumed")

    async def on_shard_resumed(self, shard_id: int) -> None:
        if self.desk_sharded:
            self._connected(shard_id, "resumed")


class DeskClient(_DeskClientMixin, discord.Client):
    pass


class DeskShardedClient(_DeskClientMixin, discord.AutoShardedClient):
    desk_sharded = True


def _options(settings: DiscordSettings, intents: discord.Intents) -> dict[str, Any]:
    return {
        "intents": intents,
        # Defence in depth: every send also passes AllowedMentions.none() itself.
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": settings.max_ratelimit_wait_seconds,
        "guild_ready_timeout": settings.guild_ready_timeout,
        "max_messages": None,  # the desk keeps no message cache; conversations are resolved apart
        "chunk_guilds_at_startup": False,
    }


def build_gateway_client(settings: DiscordSettings, events: GatewayEvents,
                         pacer: IdentifyPacer) -> discord.Client:
    options = _options(settings, desk_intents())
    client: DeskClient | DeskShardedClient
    if settings.sharded:
        client = DeskShardedClient(shard_count=settings.shard_count, **options)
    else:
        client = DeskClient(**options)
    client.desk_events = events
    client.pacer = pacer
    return client


def build_rest_client(settings: DiscordSettings) -> discord.Client:
    """A client that only speaks REST (no gateway): replies from replicas without the gateway."""
    return discord.Client(**_options(settings, discord.Intents.none()))


@asynccontextmanager
async def rest_session(settings: DiscordSettings, token: str) -> AsyncIterator[discord.Client]:
    """Log a REST-only client in for the length of the block; always closes it."""
    ENDPOINTS.acquire(settings.api_base)
    client = build_rest_client(settings)
    try:
        await asyncio.wait_for(client.login(token), LOGIN_TIMEOUT_SECONDS)
        yield client
    finally:
        try:
            await asyncio.wait_for(client.close(), LOGIN_TIMEOUT_SECONDS)
        finally:
            ENDPOINTS.release()
