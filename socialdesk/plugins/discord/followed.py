"""Conversations the desk is working on: their follow-ups are ingested without a mention.

A customer who opened a ticket by mentioning the bot in a thread (or a forum post) goes on
writing there without mentioning it again; those messages belong on the ticket. The set is
the conversations of the desk's active Discord tickets, read from the desk's queue at most
every :data:`REFRESH_SECONDS` (a closed ticket drops out), plus every conversation ingested
or answered since.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from socialdesk.plugins.discord.settings import PLATFORM
from socialdesk.plugins.discord.survey import awaiting_answer_conversations

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60.0
MAX_ACTIVE_TICKETS = 10_000  # the desk's queue is read in one query


class FollowedConversations:
    def __init__(self, app: DeskApp) -> None:
        self._app = app
        self._active: set[str] = set()
        self._added_while_reading: set[str] = set()
        self._refreshed_at: float | None = None
        self._lock = asyncio.Lock()

    def add(self, conversation_id: str) -> None:
        self._active.add(conversation_id)
        self._added_while_reading.add(conversation_id)

    async def contains(self, conversation_id: str) -> bool:
        if self._refreshed_at is None or time.monotonic() - self._refreshed_at > REFRESH_SECONDS:
            await self.refresh()
        return conversation_id in self._active

    async def refresh(self) -> None:
        async with self._lock:
            self._added_while_reading = set()
            try:
                tickets = await self._app.service.queue(platform=PLATFORM, limit=MAX_ACTIVE_TICKETS)
                # A closed ticket's conversation stays followed while its survey awaits an answer.
                surveyed = await awaiting_answer_conversations(self._app)
            except Exception:
                # Keep what we have: a database blip must not stop listening.
                log.warning("could not read the active Discord tickets", exc_info=True)
                return
            self._active = {t.conversation_id for t in tickets} | surveyed | self._added_while_reading
            self._refreshed_at = time.monotonic()
