"""Catch-up: on every connect and reconnect, read what was posted while the desk was away.

A RESUME replays missed events, but only from a bounded buffer and only within minutes;
a new session (IDENTIFY) replays nothing. So after every READY, shard READY and RESUMED —
and every ``catch_up_interval_seconds`` in between, which also repairs events Discord
failed to deliver — a *pass* reads each watched channel's history after its cursor (see
:mod:`.feeds`), and each active thread's under a watched channel, including threads and
forum posts created while the desk was away. Live events and the pass overlap on purpose;
ingest is idempotent on the message id, so overlap costs a lookup, never a duplicate.

Each guild also keeps a watermark (``guild:<id>:caught_up``): when its last complete pass
started. A channel or thread without a cursor of its own is read from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.discord.feeds import FeedSet
from socialdesk.plugins.discord.followed import FollowedConversations
from socialdesk.plugins.discord.settings import PLUGIN_NAME, DiscordSettings
from socialdesk.plugins.discord.watch import Watch

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 300.0
# The watermark is taken from our clock and compared with ids made by Discord's: keep a margin.
CLOCK_MARGIN = timedelta(minutes=5)


def watermark_key(guild_id: int) -> str:
    return f"guild:{guild_id}:caught_up"


class CatchUp:
    def __init__(self, app: DeskApp, settings: DiscordSettings, watch: Watch, feeds: FeedSet,
                 followed: FollowedConversations, client: Callable[[], discord.Client | None]) -> None:
        self._app = app
        self._settings = settings
        self._watch = watch
        self._feeds = feeds
        self._followed = followed
        self._client = client
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False
        self.passes = 0  # complete passes, for `socialdesk check` and tests
        self.failed_passes = 0
        self.messages_read = 0

    @property
    def busy(self) -> bool:
        return self._wanted or (self._task is not None and not self._task.done())

    def request(self, why: str) -> None:
        """Run a pass soon; requests while one runs fold into one more pass after it."""
        if self._stopped:
            return
        log.debug("discord catch-up requested", extra={"why": why})
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="discord-catch-up")

    async def stop(self) -> None:
        self._stopped = True
        self._wanted = False
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while self._wanted:
            self._wanted = False
            try:
                complete = await self.run_pass()
            except Exception:
                log.exception("discord catch-up pass failed")
                complete = False
            if complete:
                self.passes += 1
                delay = RETRY_FIRST_SECONDS
                self._schedule_next()
                continue
            self.failed_passes += 1
            self._wanted = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _schedule_next(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._settings.catch_up_interval_seconds, self.request, "interval")

    async def run_pass(self) -> bool:
        """One pass over every watched guild; True when every guild was read completely."""
        client = self._client()
        if client is None:
            return False
        await self._followed.refresh()
        complete = True
        for guild in list(client.guilds):
            if self._watch.watches_guild(guild.id):
                complete = await self._guild_pass(guild) and complete
        return complete

    async def _guild_pass(self, guild: discord.Guild) -> bool:
        started = discord.utils.time_snowflake(discord.utils.utcnow() - CLOCK_MARGIN)
        stored = await self._app.cursors.get(PLUGIN_NAME, watermark_key(guild.id))
        watermark = int(stored) if stored else None
        channels: list[discord.abc.Messageable] = [
            c for c in self._watch.parents_in(guild) if isinstance(c, discord.abc.Messageable)]
        # Forum posts and threads created while we were away are only in this list.
        threads = [t for t in await guild.active_threads() if self._watch.watches(t, guild.id)]
        complete = True
        for channel in [*channels, *threads]:
            try:
                self.messages_read += await self._feeds.feed(channel.id).catch_up(
                    channel, guild.id, guild.shard_id, watermark, self._settings.backfill_limit)
            except (discord.Forbidden, discord.NotFound) as exc:
                # No Read Message History here (or it is gone): say so, keep going; its live
                # messages are still ingested.
                log.warning("cannot read a Discord channel's history",
                            extra={"channel": channel.id, "guild": guild.id, "error": str(exc)})
            except Exception:
                log.exception("catching up a Discord channel failed", extra={"channel": channel.id})
                complete = False
        if complete:
            await self._app.cursors.set(CursorAdvance(PLUGIN_NAME, watermark_key(guild.id), str(started)),
                                        self._app.clock())
        return complete
