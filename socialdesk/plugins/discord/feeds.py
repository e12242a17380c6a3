"""One ordered feed per watched channel or thread: mentions in, cursor forward, nothing lost.

Each channel has a cursor (``app.cursors``, plugin ``discord``, key ``channel:<id>``): the
newest message of the channel the desk has dealt with. Every message at or below it has
been looked at, and ingested if it mattered. The cursor is written in the same transaction
as the mentions it covers (``ingest_many(..., cursor=...)``), so a crash can repeat work
(ingest is idempotent) but never skip a message.

Live messages and catch-up from history (:mod:`.backfill`) go through the same feed,
one at a time (a lock per channel), so the cursor only ever moves forward and only over
messages that were handled. After the gateway connection is lost the feed is *behind*:
live messages are still ingested but do not move the cursor, because messages posted
while the desk was away may sit between the cursor and them. The catch-up reads history
from the cursor, and only then is the feed *caught up* again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord

from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.core.mention import Mention
from socialdesk.plugins.discord.conversations import ConversationResolver
from socialdesk.plugins.discord.followed import FollowedConversations
from socialdesk.plugins.discord.mentions import to_mention
from socialdesk.plugins.discord.settings import PLUGIN_NAME
from socialdesk.plugins.discord.watch import Watch

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # one history request; one transaction per page
# Messages that mention nobody move the cursor in memory; it is written at most this often
# (and on stop), so a busy channel does not cost a write per message.
CURSOR_WRITE_INTERVAL_SECONDS = 15.0


def channel_key(channel_id: int) -> str:
    return f"channel:{channel_id}"


class Intake:
    """Which messages of a batch matter, as mentions (shared by live and catch-up)."""

    def __init__(self, watch: Watch, conversations: ConversationResolver, followed: FollowedConversations,
                 me: Callable[[], discord.abc.User | None]) -> None:
        self._watch = watch
        self._conversations = conversations
        self._followed = followed
        self._me = me

    async def mentions_in(self, messages: Sequence[discord.Message], guild_id: int) -> list[Mention]:
        me = self._me()
        mentions: list[Mention] = []
        opened: set[str] = set()  # conversations this batch brings in, for its own follow-ups
        for message in messages:
            if self._watch.is_noise(message, me):
                continue
            trigger = self._watch.trigger(message, me)
            if trigger is None and not (isinstance(message.channel, discord.Thread) or message.reference):
                continue  # a plain channel message begins a conversation nobody follows yet
            conversation = await self._conversations.conversation_of(message, guild_id)
            if trigger is None and conversation not in opened and not await self._followed.contains(conversation):
                continue
            opened.add(conversation)
            mentions.append(to_mention(message, guild_id, conversation))
        return mentions


@dataclass
class GatewayState:
    """Which shards' live events flow, and how often each stopped (one shard, 0, unsharded).

    A catch-up makes its feed *caught up* only if the guild's shard was connected when it
    began and has not dropped since: otherwise messages posted after its last history page
    may never arrive live (a new session replays nothing), and the cursor must wait for the
    catch-up that follows the reconnect.
    """

    online: set[int] = field(default_factory=set)
    drops: dict[int, int] = field(default_factory=dict)

    def lost(self, shard_id: int) -> None:
        self.online.discard(shard_id)
        self.drops[shard_id] = self.drops.get(shard_id, 0) + 1

    def up(self, shard_id: int) -> None:
        self.online.add(shard_id)

    def snapshot(self, shard_id: int) -> tuple[bool, int]:
        return shard_id in self.online, self.drops.get(shard_id, 0)


class ChannelFeed:
    def __init__(self, channel_id: int, app: DeskApp, intake: Intake, followed: FollowedConversations,
                 gateway: GatewayState) -> None:
        self.channel_id = channel_id
        self._gateway = gateway
        self.key = channel_key(channel_id)
        self._app = app
        self._intake = intake
        self._followed = followed
        self._lock = asyncio.Lock()
        self.caught_up = False
        self._loaded = False
        self._committed: int | None = None  # the cursor as stored
        self._unwritten: int | None = None  # newer than ``_committed``, handled, not yet stored
        self._written_at = 0.0

    @property
    def cursor(self) -> int | None:
        return self._unwritten or self._committed

    def fall_behind(self) -> None:
        """The connection was lost (or an ingest failed): hold the cursor until caught up."""
        self.caught_up = False

    async def _load(self) -> None:
        if not self._loaded:
            stored = await self._app.cursors.get(PLUGIN_NAME, self.key)
            self._committed = int(stored) if stored else None
            self._loaded = True

    async def _ingest(self, mentions: list[Mention], cursor_to: int | None) -> None:
        """Ingest ``mentions``; store the cursor at ``cursor_to`` in the same transaction."""
        if cursor_to is not None and self._committed is not None and cursor_to <= self._committed:
            cursor_to = None  # never backwards
        if not mentions and cursor_to is None:
            return
        advance = CursorAdvance(PLUGIN_NAME, self.key, str(cursor_to)) if cursor_to is not None else None
        await self._app.service.ingest_many(mentions, cursor=advance)
        for mention in mentions:
            self._followed.add(mention.conversation_id)
        if cursor_to is not None:
            self._committed, self._written_at = cursor_to, time.monotonic()
            if self._unwritten is not None and self._unwritten <= cursor_to:
                self._unwritten = None

    # -- live ------------------------------------------------------------------------------------

    async def on_live(self, message: discord.Message, guild_id: int) -> None:
        async with self._lock:
            await self._load()
            try:
                mentions = await self._intake.mentions_in([message], guild_id)
                if not self.caught_up:
                    await self._ingest(mentions, None)
                    return
                newest = max(message.id, self.cursor or 0)
                due = time.monotonic() - self._written_at >= CURSOR_WRITE_INTERVAL_SECONDS
                if mentions or due:
                    await self._ingest(mentions, newest)
                else:
                    self._unwritten = newest
            except BaseException:
                self.caught_up = False
                raise

    async def flush(self) -> None:
        """Store a cursor that only moved in memory (on stop)."""
        async with self._lock:
            if self.caught_up and self._unwritten is not None:
                await self._ingest([], self._unwritten)

    # -- catch-up ------------------------------------------------------------------------------

    async def catch_up(self, channel: discord.abc.Messageable, guild_id: int, shard_id: int,
                       watermark: int | None, first_look: int) -> int:
        """Read the channel's history after the cursor; returns how many messages were read.

        A channel without a cursor is read from ``watermark`` (the start of the last
        complete catch-up: it is new to the desk, or was created while the desk was away);
        without a watermark either, the desk has never listened here: it starts from the
        newest message, after reading the newest ``first_look`` ones.
        """
        async with self._lock:
            self.caught_up = False
            before = self._gateway.snapshot(shard_id)
            await self._load()
            start = self.cursor or watermark
            if start is None:
                read = await self._first_look(channel, guild_id, first_look)
            else:
                read = 0
                async for page in _pages(channel.history(limit=None, after=discord.Object(start), oldest_first=True)):
                    await self._ingest(await self._intake.mentions_in(page, guild_id), page[-1].id)
                    read += len(page)
                if self._unwritten is not None:
                    await self._ingest([], self._unwritten)
            was_online, _ = before
            self.caught_up = was_online and self._gateway.snapshot(shard_id) == before
            return read

    async def _first_look(self, channel: discord.abc.Messageable, guild_id: int, first_look: int) -> int:
        newest = [m async for m in channel.history(limit=max(1, first_look))]  # newest first
        if not newest:
            return 0
        batch = list(reversed(newest[:first_look])) if first_look else []
        await self._ingest(await self._intake.mentions_in(batch, guild_id), newest[0].id)
        return len(batch)


async def _pages(messages: AsyncIterator[discord.Message]) -> AsyncIterator[list[discord.Message]]:
    page: list[discord.Message] = []
    async for message in messages:
        page.append(message)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


class FeedSet:
    def __init__(self, app: DeskApp, intake: Intake, followed: FollowedConversations) -> None:
        self._app = app
        self._intake = intake
        self._followed = followed
        self._feeds: dict[int, ChannelFeed] = {}
        self.gateway = GatewayState()

    def feed(self, channel_id: int) -> ChannelFeed:
        feed = self._feeds.get(channel_id)
        if feed is None:
            feed = self._feeds[channel_id] = ChannelFeed(channel_id, self._app, self._intake, self._followed,
                                                         self.gateway)
        return feed

    def connection_lost(self, shard_id: int) -> None:
        self.gateway.lost(shard_id)
        # Every feed, not only the shard's: simpler, and the pass after the reconnect
        # brings back those whose shard never dropped.
        for feed in self._feeds.values():
            feed.fall_behind()

    def connected(self, shard_id: int) -> None:
        self.gateway.up(shard_id)

    async def flush(self) -> None:
        for feed in list(self._feeds.values()):
            try:
                await feed.flush()
            except Exception:
                log.warning("could not store a Discord channel cursor", extra={"channel": feed.channel_id},
                            exc_info=True)
