"""``DiscordEmulator``: REST v10 + gateway on 127.0.0.1, and the API tests and the demo drive it with.

    async with DiscordEmulator() as discord_:
        channel = discord_.channel_id("support")
        discord_.post_message(channel, "alice", "my order never arrived", mentions_bot=True)
        ...  # a real discord.Client pointed at discord_.api_base receives it as on_message

Everything a customer does (post, reply, open a forum post) goes through the same rules as
the bot's REST calls, and is dispatched to gateway sessions with the intents to see it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from socialdesk.sandbox.discord import errors, payloads
from socialdesk.sandbox.discord.errors import DiscordAPIError, json_response
from socialdesk.sandbox.discord.gateway import GATEWAY_PATH, RESUME_PATH, GatewayEndpoint
from socialdesk.sandbox.discord.gateway_faults import GatewayFaults
from socialdesk.sandbox.discord.hub import CLOSE_UNKNOWN_ERROR, GatewayHub
from socialdesk.sandbox.discord.models import CHANNEL_KINDS, ChannelType
from socialdesk.sandbox.discord.ratelimits import Decision, RateLimiter, rate_limited_response
from socialdesk.sandbox.discord.rest import API_PREFIX, RestApi
from socialdesk.sandbox.discord.sessions import GatewaySession
from socialdesk.sandbox.discord.settings import DiscordSettings
from socialdesk.sandbox.discord.snowflake import shard_for, snowflake_for
from socialdesk.sandbox.x.lost_responses import ResponseLoser
from socialdesk.sandbox.discord.state import DiscordState, StoredFile
from socialdesk.sandbox.faults import FaultPlan, Handler
from socialdesk.sandbox.server import LOOPBACK, EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder

_log = logging.getLogger(__name__)

# The seeded world. Guild ids carry fixed creation times one millisecond apart in parity,
# so with two shards each guild lands on a different shard ((id >> 22) % 2).
COMMUNITY = "Acme Community"
PARTNERS = "Acme Partners"
_COMMUNITY_ID = snowflake_for(datetime(2021, 3, 1, tzinfo=timezone.utc))
_PARTNERS_ID = snowflake_for(datetime(2022, 6, 15, 0, 0, 0, 1000, tzinfo=timezone.utc))


@web.middleware
async def _discord_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown routes, wrong methods and crashes answer in Discord's JSON, not aiohttp's text."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return json_response(errors.not_found().body(), 404)
    except web.HTTPMethodNotAllowed:
        return json_response(errors.method_not_allowed().body(), 405)
    except DiscordAPIError as exc:
        return json_response(exc.body(), exc.status)
    except web.HTTPException:
        raise
    except Exception:
        _log.exception("discord emulator failed on %s %s", request.method, request.path)
        return json_response(errors.server_error().body(), 500)


class DiscordEmulator(EmulatorServer):
    name = "discord"

    def __init__(self, recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None,
                 settings: DiscordSettings | None = None, *, gateway_faults: GatewayFaults | None = None,
                 seed_world: bool = True) -> None:
        super().__init__(recorder, faults)
        self.settings = settings or DiscordSettings()
        self.state = DiscordState(self.settings)
        self.gateway_faults = gateway_faults or GatewayFaults()
        self.hub = GatewayHub(self.state, self.settings, self.gateway_faults)
        self.limiter = RateLimiter(self.settings)
        self._rest = RestApi(self.state, self.hub, self.settings, self.limiter, lambda: self.gateway_url)
        self._gateway = GatewayEndpoint(self.hub, self.settings, self.recorder)
        self._loser = ResponseLoser()
        if seed_world:
            self._seed()

    # -- server ------------------------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.middlewares.append(_discord_errors)
        # Inside the error translation, so a lost answer is one the handler really produced.
        app.middlewares.append(self._loser.middleware())
        self._rest.register(app)
        self._gateway.register(app)

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        """Discord's own answers for injected faults: a 429 discord.py will honour, or a 500."""
        if status == 429:
            route = getattr(request.match_info.handler, "discord_route", None)
            major = request.match_info.get("channel_id") or request.match_info.get("guild_id") or ""
            decision = self.limiter.peek(route, major) if route else Decision(
                allowed=False, limit=1, remaining=0, reset_after=self.faults.retry_after_seconds, bucket="sandbox")
            decision.retry_after = self.faults.retry_after_seconds
            decision.scope = "shared"  # a limit on a shared resource: what a random 429 looks like
            return rate_limited_response(decision, time.time())
        if status == 500:
            return json_response(errors.server_error().body(), 500)
        return json_response({"message": f"{status}: {web.Response(status=status).reason}", "code": 0}, status)

    def lose_next_response(self, path_prefix: str, method: str | None = "POST", count: int = 1) -> None:
        """Process the next ``count`` matching requests, then drop the connection instead of answering
        (the ambiguous failure: done on Discord, unknown to the client)."""
        self._loser.arm(path_prefix, method, count)

    @property
    def lost_answers(self) -> list[dict[str, Any]]:
        return list(self._loser.answers)

    async def start(self, port: int = 0) -> DiscordEmulator:
        self.hub.available = True
        await super().start(port)
        self.state.base_url = self.base_url
        self.hub.resume_gateway_url = f"ws://{LOOPBACK}:{self.port}{RESUME_PATH}"
        return self

    async def stop(self, timeout: float = 5.0) -> None:
        # Close gateway sockets first: runner cleanup would otherwise wait on their handlers.
        self.hub.disconnect(1001, "Going away.", resumable=False, hold=True)
        deadline = time.monotonic() + timeout
        while self.hub.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await super().stop()

    # -- where clients connect -----------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What discord.py calls ``Route.BASE``: http://127.0.0.1:port/api/v10."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The gateway URL GET /gateway/bot hands out (no trailing slash, like Discord's)."""
        return f"ws://{LOOPBACK}:{self.port}" + GATEWAY_PATH.rstrip("/")

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def bot_user(self) -> dict[str, Any]:
        return payloads.current_user(self.state.bot)

    @property
    def application_id(self) -> int:
        return self.state.application.id

    # -- the world -----------------------------------------------------------------------------------

    def _seed(self) -> None:
        community = self.add_guild(COMMUNITY, guild_id=_COMMUNITY_ID, channels=("general", "support"),
                                   forum_channels=("help-forum",), features=("COMMUNITY",))
        partners = self.add_guild(PARTNERS, guild_id=_PARTNERS_ID, channels=("partners",))
        self.add_user("alice", "Alice", guild_ids=[community])
        self.add_user("bob", "Bob", guild_ids=[community])
        self.add_user("carol", "Carol", guild_ids=[partners])

    def add_guild(self, name: str, *, guild_id: int | None = None, channels: Sequence[str] = ("general",),
                  forum_channels: Sequence[str] = (), features: Iterable[str] = ()) -> int:
        """A guild the bot is in, with text and forum channels; returns its id."""
        guild = self.state.add_guild(name, guild_id, features)
        for channel in channels:
            self.state.add_channel(guild.id, channel, ChannelType.GUILD_TEXT)
        for forum in forum_channels:
            self.state.add_channel(guild.id, forum, ChannelType.GUILD_FORUM)
        return guild.id

    def add_channel(self, guild_id: int, name: str, kind: str = "text", topic: str | None = None) -> int:
        """``kind``: text, announcement, forum or category."""
        return self.state.add_channel(guild_id, name, CHANNEL_KINDS[kind], topic).id

    def add_user(self, username: str, global_name: str | None = None, *, bot: bool = False,
                 guild_ids: Iterable[int] = ()) -> int:
        user = self.state.add_user(username, global_name, bot)
        for guild_id in guild_ids:
            self.state.add_member(guild_id, user.id)
        return user.id

    def add_role(self, guild_id: int, name: str, *, mentionable: bool = False) -> int:
        return self.state.add_role(guild_id, name, mentionable=mentionable).id

    def guild_id(self, name: str = COMMUNITY) -> int:
        return next(g.id for g in self.state.guilds.values() if g.name == name)

    def channel_id(self, name: str, guild_id: int | None = None) -> int:
        """A channel or thread by name (in the first guild that has it, unless ``guild_id`` is given)."""
        for channel in self.state.channels.values():
            if channel.name == name and (guild_id is None or channel.guild_id == guild_id):
                return channel.id
        raise KeyError(f"no channel named {name!r}")

    def user_id(self, username: str) -> int:
        user = self.state.user_named(username)
        if user is None:
            raise KeyError(f"no user named {username!r}")
        return user.id

    def shard_of(self, guild_id: int, shard_count: int) -> int:
        return shard_for(guild_id, shard_count)

    # -- what customers do ---------------------------------------------------------------------------

    def _author(self, username: str, guild_id: int) -> int:
        user = self.state.user_named(username) or self.state.add_user(username)
        self.state.add_member(guild_id, user.id)  # a stranger posting has joined the guild first
        return user.id

    def post_message(self, channel_id: int, author_username: str, content: str, reply_to: int | None = None,
                     mentions_bot: bool = False, attachments: Sequence[dict[str, Any]] = (),
                     embeds: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """A member posts in a channel or thread; dispatched as MESSAGE_CREATE. Returns the message.

        ``attachments``: dicts with ``filename``, ``data`` (bytes) and optional ``content_type``;
        they are served from the emulator at the attachment's ``url``.
        """
        channel = self.state.channel(channel_id)
        author_id = self._author(author_username, channel.guild_id)
        bot_mention = f"<@{self.state.bot.id}>"
        if mentions_bot and bot_mention not in content:
            content = f"{bot_mention} {content}"
        fields: dict[str, Any] = {"content": content, "embeds": [dict(e) for e in embeds]}
        if reply_to is not None:
            fields["message_reference"] = {"message_id": str(reply_to), "channel_id": str(channel_id)}
        files = [StoredFile(str(a["filename"]), a.get("content_type"), bytes(a.get("data", b"")))
                 for a in attachments]
        return copy.deepcopy(self.state.create_message(channel_id, author_id, fields, files))

    def create_thread(self, channel_id: int, name: str, *, message_id: int | None = None,
                      author_username: str | None = None, content: str | None = None) -> dict[str, Any]:
        """A thread: a forum post (needs ``content``; the result carries its starter ``message``),
        a thread on ``message_id``, or a thread without a message in a text channel."""
        channel = self.state.channel(channel_id)
        author_id = self._author(author_username, channel.guild_id) if author_username else self.state.bot.id
        if channel.type is ChannelType.GUILD_FORUM:
            if not content:
                raise ValueError("a forum post needs content for its starter message")
            thread, starter = self.state.create_forum_post(channel_id, name, author_id, {"content": content})
            return copy.deepcopy({**self.state.channel_payload(thread), "message": starter})
        if message_id is not None:
            thread = self.state.create_thread_from_message(channel_id, message_id, name, author_id)
        else:
            thread = self.state.create_thread(channel_id, name, author_id, ChannelType.PUBLIC_THREAD)
        return copy.deepcopy(self.state.channel_payload(thread))

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Every message kept in the channel or thread, oldest first (copies)."""
        return copy.deepcopy(self.state.history(channel_id).oldest_first())

    def message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        message = self.state.history(channel_id).get(message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in channel {channel_id}")
        return copy.deepcopy(message)

    # -- the gateway on demand -------------------------------------------------------------------------

    @property
    def gateway_sessions(self) -> list[GatewaySession]:
        return list(self.hub.sessions.values())

    def disconnect_gateway(self, code: int = CLOSE_UNKNOWN_ERROR, resumable: bool = True,
                           hold: bool = False) -> int:
        """Close every gateway connection now; returns how many were closed.

        Sessions are detached at once, so events produced from here on are stored for RESUME,
        not delivered. ``resumable=False`` invalidates the sessions (RESUME gets op 9);
        ``hold=True`` also refuses new connections (HTTP 503) until ``restore_gateway()``.
        """
        return self.hub.disconnect(code, "Sandbox disconnect on demand.", resumable, hold)

    def restore_gateway(self) -> None:
        self.hub.available = True

    def send_reconnect(self) -> int:
        """op 7 RECONNECT to every session; clients reconnect and RESUME."""
        return self.hub.send_reconnect()

    def invalidate_sessions(self, resumable: bool = False) -> int:
        """op 9 INVALID_SESSION to every session; with ``resumable=False`` clients must IDENTIFY again."""
        return self.hub.invalidate_sessions(resumable)
