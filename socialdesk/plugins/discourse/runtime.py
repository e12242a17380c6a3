"""One desk's Discourse state: the REST client, the tags of topics seen, and who we post as.

Built-in plugins are modules, so per-desk state lives here, keyed weakly by the DeskApp.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from sqlalchemy import select

from socialdesk.core.per_desk import PerDesk
from socialdesk.core.store.models import Ticket
from socialdesk.core.ticket import ACTIVE_STATUSES
from socialdesk.plugins.discourse.api import DiscourseClient
from socialdesk.plugins.discourse.settings import PLATFORM, PLUGIN_NAME, DiscourseSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

TOPIC_CACHE_SIZE = 2000

class DiscourseRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: DiscourseSettings = app.settings(PLUGIN_NAME)
        self._client: DiscourseClient | None = None
        self._topic_tags: OrderedDict[int, list[str]] = OrderedDict()
        self.backfill_not_before = 0.0  # epoch seconds: Discourse asked us to wait (429)

    def client(self) -> DiscourseClient:
        """The REST client; a missing variable raises ``MissingSecret`` naming it."""
        if self._client is None:
            config, settings = self.app.config, self.settings
            key = config.secret(settings.api_key_env, f"plugins.{PLUGIN_NAME}.api_key_env").get_secret_value()
            username = config.secret(settings.api_username_env,
                                     f"plugins.{PLUGIN_NAME}.api_username_env").get_secret_value()
            self._client = DiscourseClient(settings.base_url, key, username, settings.request_timeout_seconds)
        return self._client

    async def topic_tags(self, topic_id: int) -> list[str]:
        """A topic's tags (posts do not carry them); asked once per topic while cached."""
        if topic_id in self._topic_tags:
            self._topic_tags.move_to_end(topic_id)
            return self._topic_tags[topic_id]
        topic = await self.client().get(f"/t/{topic_id}.json")
        tags = [str(t.get("name") if isinstance(t, dict) else t).lower() for t in topic.get("tags") or []]
        self._topic_tags[topic_id] = tags
        if len(self._topic_tags) > TOPIC_CACHE_SIZE:
            self._topic_tags.popitem(last=False)
        return tags

    async def has_open_ticket(self, topic_id: int) -> bool:
        query = select(Ticket.id).where(Ticket.platform == PLATFORM, Ticket.conversation_id == str(topic_id),
                                        Ticket.status.in_(ACTIVE_STATUSES)).limit(1)
        return await self.app.database.run_read(lambda connection: connection.execute(query).first() is not None)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


runtime_for: PerDesk[DiscourseRuntime] = PerDesk(DiscourseRuntime)


async def close_runtime(app: DeskApp) -> None:
    runtime = runtime_for.forget(app)
    if runtime is not None:
        await runtime.close()
