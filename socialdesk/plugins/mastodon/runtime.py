"""One desk's Mastodon state: its connection, rate budget, instance limit, catch-up and stream.

Keyed by the ``DeskApp`` (weakly), never a module global: two desks in one process
(tests, replicas) share nothing. The connection opens on first use, so reconciling
uncertain replies at start-up (before listeners start) works too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mastodon import Mastodon

from socialdesk.core.per_desk import PerDesk
from socialdesk.plugins.mastodon.catch_up import CatchUp
from socialdesk.plugins.mastodon.connection import MastodonConnection
from socialdesk.plugins.mastodon.rate_budget import RateBudget
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME, MastodonSettings
from socialdesk.plugins.mastodon.status_length import DEFAULT_MAX_CHARACTERS
from socialdesk.plugins.mastodon.user_stream import UserStream

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

INSTANCE_TTL_SECONDS = 3600.0  # an admin may change the limit; read it again hourly


class MastodonRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: MastodonSettings = app.settings(PLUGIN_NAME)
        self.budget = RateBudget()
        self.catch_up = CatchUp(self)
        self.stream = UserStream(self)
        self._connection: MastodonConnection | None = None
        self._opening = asyncio.Lock()
        self._max_characters: tuple[int, float] | None = None  # (limit, when read)

    def epoch(self) -> float:
        """The desk's clock in epoch seconds."""
        return self.app.clock().timestamp()

    async def connection(self) -> MastodonConnection:
        async with self._opening:
            if self._connection is None:
                self._connection = MastodonConnection(self.app, self.settings, self.budget, self.epoch)
            return self._connection

    def stream_client(self) -> Mastodon:
        if self._connection is None:
            raise RuntimeError("the Mastodon connection is not open")
        return self._connection.stream_client()

    def known_max_characters(self) -> int:
        """The last limit read from the instance (Mastodon's default before the first read)."""
        return self._max_characters[0] if self._max_characters else DEFAULT_MAX_CHARACTERS

    async def max_characters(self) -> int:
        """The instance's status limit (``/api/v2/instance``), read at most hourly; raises when unreadable."""
        if self._max_characters is None or self.epoch() - self._max_characters[1] > INSTANCE_TTL_SECONDS:
            connection = await self.connection()
            instance = await connection.call(connection.client.instance_v2)
            limit = int(instance["configuration"]["statuses"]["max_characters"])
            self._max_characters = (limit, self.epoch())
        return self._max_characters[0]

    async def close(self) -> None:
        await self.stream.stop()
        async with self._opening:
            if self._connection is not None:
                self._connection.client.session.close()
                self._connection = None


runtime_for: PerDesk[MastodonRuntime] = PerDesk(MastodonRuntime)


async def close_runtime(app: DeskApp) -> None:
    runtime = runtime_for.forget(app)
    if runtime is not None:
        await runtime.close()
