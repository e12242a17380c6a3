"""Gateway events → the desk: messages to their channel's feed, (re)connects to a catch-up.

``on_message`` ignores DMs and channels outside the watch; the feed then ignores bots,
the desk itself and system messages, and ingests mentions of the bot, keywords and
follow-ups in conversations the desk is working on (see :mod:`.feeds`, :mod:`.watch`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from socialdesk.plugins.discord.backfill import CatchUp
from socialdesk.plugins.discord.feeds import FeedSet
from socialdesk.plugins.discord.watch import Watch

log = logging.getLogger(__name__)


class DiscordListener:
    def __init__(self, watch: Watch, feeds: FeedSet, catch_up: CatchUp,
                 client: Callable[[], discord.Client | None]) -> None:
        self._watch = watch
        self._feeds = feeds
        self._catch_up = catch_up
        self._client = client
        self.connected = False

    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild
        if guild is None:
            return  # direct messages are not watched
        if isinstance(message.channel, discord.PartialMessageable):
            # A thread the cache does not know (e.g. unarchived by this message): ask Discord,
            # so the watch can see its parent and the conversation its thread.
            client = self._client()
            if client is None:
                return
            try:
                message.channel = await client.fetch_channel(message.channel.id)  # type: ignore[assignment]
            except discord.HTTPException:
                log.warning("cannot see the channel of a Discord message",
                            extra={"channel": message.channel.id, "guild": guild.id})
                return
        if not self._watch.watches(message.channel, guild.id):
            return
        feed = self._feeds.feed(message.channel.id)
        try:
            await feed.on_live(message, guild.id)
        except Exception:
            # The feed has fallen behind: the catch-up reads this message again from history.
            log.exception("ingesting a Discord message failed; catching up from history",
                          extra={"channel": message.channel.id, "message_id": message.id})
            self._catch_up.request("ingest failed")

    def on_connection_lost(self, shard_id: int) -> None:
        # Synchronous on purpose: it runs before any event of the next connection.
        self.connected = False
        self._feeds.connection_lost(shard_id)

    def on_connected(self, shard_id: int, how: str) -> None:
        self.connected = True
        self._feeds.connected(shard_id)
        log.info("discord gateway connected", extra={"shard": shard_id, "how": how})
        self._catch_up.request(how)
