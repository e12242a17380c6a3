"""One desk's Discord: the gateway client running as a task on the desk's loop, its feeds,
catch-up and conversation memory, and REST sessions for replies.

Replies do not need the gateway: on a replica that does not hold it (or before it is up,
when uncertain replies are reconciled at start-up) a short REST-only session is opened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import discord

from socialdesk.plugins.discord.backfill import CatchUp
from socialdesk.plugins.discord.client import (
    ENDPOINTS,
    LOGIN_TIMEOUT_SECONDS,
    IdentifyPacer,
    build_gateway_client,
    rest_session,
)
from socialdesk.plugins.discord.conversations import ConversationResolver
from socialdesk.plugins.discord.feeds import FeedSet, Intake
from socialdesk.plugins.discord.followed import FollowedConversations
from socialdesk.plugins.discord.listener import DiscordListener
from socialdesk.plugins.discord.settings import PLUGIN_NAME, DiscordSettings
from socialdesk.plugins.discord.watch import Watch

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0


class DiscordRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: DiscordSettings = app.settings(PLUGIN_NAME)
        self.client: discord.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._leased = False
        self.watch = Watch(self.settings)
        self.conversations = ConversationResolver()
        self.followed = FollowedConversations(app)
        intake = Intake(self.watch, self.conversations, self.followed, self._me)
        self.feeds = FeedSet(app, intake, self.followed)
        self.catch_up = CatchUp(app, self.settings, self.watch, self.feeds, self.followed, lambda: self.client)
        self.listener = DiscordListener(self.watch, self.feeds, self.catch_up, lambda: self.client)
        # Replies whose send ended in a server error: Discord may have posted them, so the
        # next attempt looks in the channel before sending again.
        self.look_before_sending: set[int] = set()

    def _me(self) -> discord.ClientUser | None:
        return self.client.user if self.client is not None else None

    def token(self) -> str:
        # Read when needed, never kept on the runtime or logged.
        return self.app.config.secret(self.settings.token_env, f"plugins.{PLUGIN_NAME}.token_env").get_secret_value()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def ready(self) -> bool:
        """Connected, and every channel read up to now (tests and `check` wait on this)."""
        return (self.client is not None and self.client.is_ready() and self.listener.connected
                and self.catch_up.passes > 0 and not self.catch_up.busy)

    # -- gateway ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.client is not None:
            return
        token = self.token()  # a missing variable stops start-up with its name, before any request
        ENDPOINTS.acquire(self.settings.api_base)
        self._leased = True
        pacer = IdentifyPacer()
        client = build_gateway_client(self.settings, self.listener, pacer)
        try:
            await asyncio.wait_for(client.login(token), LOGIN_TIMEOUT_SECONDS)
            _shards, url, limits = await asyncio.wait_for(client.http.get_bot_gateway(), LOGIN_TIMEOUT_SECONDS)
            pacer.max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
            if limits.get("remaining") == 0:
                log.warning("discord says no session starts are left today; the gateway may refuse to connect")
            ENDPOINTS.pin_gateway(self.settings.gateway_url or url)
        except BaseException:
            await client.close()
            self._release()
            raise
        self.client = client
        self._task = asyncio.create_task(self._run(client), name="discord-gateway")

    async def _run(self, client: discord.Client) -> None:
        try:
            await client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except discord.PrivilegedIntentsRequired:
            log.error("discord refused the gateway: switch on 'Message Content Intent' in the Developer Portal "
                      "(your application → Bot → Privileged Gateway Intents) and restart the desk")
        except discord.LoginFailure:
            log.error("discord refused the bot token; reset it in the Developer Portal (Bot → Reset Token) "
                      f"and put it in ${self.settings.token_env}")
        except Exception:
            log.exception("the discord gateway stopped; mentions are not received until the desk restarts")

    async def stop(self) -> None:
        """Stop catching up, store cursors that moved in memory, close the gateway. Never raises."""
        await self.catch_up.stop()
        await self.feeds.flush()
        client, task = self.client, self._task
        self.client, self._task = None, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), STOP_TIMEOUT_SECONDS)
            except Exception:
                log.warning("closing the discord client failed", exc_info=True)
        if task is not None:
            try:
                await asyncio.wait_for(task, STOP_TIMEOUT_SECONDS)
            except (asyncio.CancelledError, Exception):
                task.cancel()
        self._release()

    def _release(self) -> None:
        if self._leased:
            self._leased = False
            ENDPOINTS.release()

    # -- REST ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def rest(self) -> AsyncIterator[discord.Client]:
        """A logged-in client for REST calls: the gateway's, or a short-lived one."""
        client = self.client
        if client is not None and client.user is not None and not client.is_closed():
            yield client
            return
        async with rest_session(self.settings, self.token()) as session:
            yield session
