"""One desk's Bluesky state: its connection (the session), rate budgets and poller.

Keyed by the ``DeskApp`` (weakly), never a module global: two desks in one process
share nothing. The connection opens on first use, so reconciling uncertain replies at
start-up (before listeners start) works too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from socialdesk.core.per_desk import PerDesk
from socialdesk.plugins.bluesky.connection import BlueskyConnection
from socialdesk.plugins.bluesky.poller import NotificationPoller
from socialdesk.plugins.bluesky.rate_budget import POST_COST, RateBudget
from socialdesk.plugins.bluesky.settings import PLUGIN_NAME, BlueskySettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


class BlueskyRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: BlueskySettings = app.settings(PLUGIN_NAME)
        interval = float(self.settings.poll_interval)
        self.reading = RateBudget("read", cost=1, base_backoff=interval)
        self.writing = RateBudget("write", cost=POST_COST, base_backoff=15.0)
        self.poller = NotificationPoller(self)
        self._connection: BlueskyConnection | None = None
        self._opening = asyncio.Lock()

    def epoch(self) -> float:
        """The desk's clock in epoch seconds: the PDS's rate-limit resets are epoch seconds."""
        return self.app.clock().timestamp()

    async def connection(self) -> BlueskyConnection:
        async with self._opening:
            if self._connection is None:
                self._connection = BlueskyConnection(self.app, self.settings, self.epoch)
            return self._connection

    async def close(self) -> None:
        async with self._opening:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


runtime_for: PerDesk[BlueskyRuntime] = PerDesk(BlueskyRuntime)


async def close_runtime(app: DeskApp) -> None:
    runtime = runtime_for.forget(app)
    if runtime is not None:
        await runtime.close()
