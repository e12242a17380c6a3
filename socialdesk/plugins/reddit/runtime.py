"""One desk's Reddit state: the connection (made on first use) and the rate budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from socialdesk.core.per_desk import PerDesk
from socialdesk.core.store.models import Ticket
from socialdesk.core.ticket import ACTIVE_STATUSES
from socialdesk.plugins.reddit.connection import RedditConnection, connect
from socialdesk.plugins.reddit.rate_budget import RateBudget
from socialdesk.plugins.reddit.settings import PLATFORM, PLUGIN_NAME, RedditSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

class RedditRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: RedditSettings = app.settings(PLUGIN_NAME)
        self.budget = RateBudget(lambda: app.clock().timestamp())
        self._connection: RedditConnection | None = None

    def connection(self) -> RedditConnection:
        if self._connection is None:
            self._connection = connect(self.app.config, self.settings, self.budget)
        return self._connection

    async def has_open_ticket(self, conversation_id: str) -> bool:
        query = select(Ticket.id).where(Ticket.platform == PLATFORM, Ticket.conversation_id == conversation_id,
                                        Ticket.status.in_(ACTIVE_STATUSES)).limit(1)
        return await self.app.database.run_read(lambda connection: connection.execute(query).first() is not None)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


runtime_for: PerDesk[RedditRuntime] = PerDesk(RedditRuntime)


async def close_runtime(app: DeskApp) -> None:
    runtime = runtime_for.forget(app)
    if runtime is not None:
        await runtime.close()
