"""One desk's X state: its connection, rate budgets and pollers.

Keyed by the ``DeskApp`` (weakly), never a module global: two desks in one process
(tests, replicas in a benchmark) share nothing. The connection opens on first use, so
reconciling uncertain replies at start-up (before listeners start) works too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from socialdesk.core.per_desk import PerDesk
from socialdesk.plugins.x.connection import XConnection
from socialdesk.plugins.x.poller import TimelinePoller
from socialdesk.plugins.x.rate_budget import RateBudget
from socialdesk.plugins.x.settings import PLUGIN_NAME, XSettings
from socialdesk.plugins.x.timelines import MentionsTimeline, SearchTimeline

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

POSTING = "create_tweet"


class XRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: XSettings = app.settings(PLUGIN_NAME)
        interval = float(self.settings.poll_interval)
        self.budgets = {
            "mentions": RateBudget("mentions", interval),
            "search": RateBudget("search", interval),  # the search poller and reconcile share it
            POSTING: RateBudget(POSTING, None),
        }
        self.pollers = [TimelinePoller(self, MentionsTimeline())]
        if self.settings.search_query:
            self.pollers.append(TimelinePoller(self, SearchTimeline(self.settings.search_query)))
        self._connection: XConnection | None = None
        self._opening = asyncio.Lock()

    def epoch(self) -> float:
        """The desk's clock in epoch seconds: X's rate-limit resets are epoch seconds."""
        return self.app.clock().timestamp()

    def poller(self, job_id: str) -> TimelinePoller:
        return next(p for p in self.pollers if p.timeline.job_id == job_id)

    async def connection(self) -> XConnection:
        async with self._opening:
            if self._connection is None:
                self._connection = XConnection(self.app, self.settings)
            return self._connection

    async def close(self) -> None:
        async with self._opening:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


runtime_for: PerDesk[XRuntime] = PerDesk(XRuntime)


async def close_runtime(app: DeskApp) -> None:
    runtime = runtime_for.forget(app)
    if runtime is not None:
        await runtime.close()
