"""REST v10 routes under /api/v10: auth, per-route rate limits and Discord's JSON answers.

Each route is registered with its Discord route template (``GET /channels/{channel_id}``),
which is also its rate-limit bucket; the major parameter (channel or guild id) splits
buckets per channel/guild, as on Discord.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from socialdesk.sandbox.discord import errors, intents, payloads
from socialdesk.sandbox.discord.errors import DiscordAPIError, json_response
from socialdesk.sandbox.discord.hub import GatewayHub
from socialdesk.sandbox.discord.models import ChannelType
from socialdesk.sandbox.discord.ratelimits import Decision, RateLimiter, rate_limited_response
from socialdesk.sandbox.discord.request_body import read_body
from socialdesk.sandbox.discord.settings import DiscordSettings
from socialdesk.sandbox.discord.state import DiscordState, StoredFile

API_PREFIX = "/api/v10"
ATTACHMENTS_PREFIX = "/attachments"
_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[tuple[Any, int]]]
CANNOT_EXECUTE_ON_CHANNEL_TYPE = 50024


def _snowflake_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise errors.not_snowflake(name, raw)
    return int(raw)


def _optional_snowflake(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise errors.not_snowflake(name, raw)
    return int(raw)


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.invalid_form_body({name: errors.field_error(
            "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.')}) from None
    if value < low:
        raise errors.invalid_form_body({name: errors.field_error(
            "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}.")})
    if value > high:
        raise errors.invalid_form_body({name: errors.field_error(
            "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")})
    return value


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


class RestApi:
    def __init__(self, state: DiscordState, hub: GatewayHub, settings: DiscordSettings, limiter: RateLimiter,
                 gateway_url: Callable[[], str]) -> None:
        self.state = state
        self.hub = hub
        self.settings = settings
        self.limiter = limiter
        self._gateway_url = gateway_url

    # -- plumbing ------------------------------------------------------------------------------

    def register(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/users/@me", self.get_current_user, True),
            ("GET", "/users/@me/guilds", self.list_my_guilds, True),
            ("GET", "/oauth2/applications/@me", self.get_application, True),
            ("GET", "/gateway", self.get_gateway, False),
            ("GET", "/gateway/bot", self.get_bot_gateway, True),
            ("GET", "/guilds/{guild_id}", self.get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self.list_guild_channels, True),
            ("GET", "/guilds/{guild_id}/threads/active", self.list_active_threads, True),
            ("GET", "/channels/{channel_id}", self.get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self.list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self.create_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message, True),
            ("POST", "/channels/{channel_id}/threads", self.create_thread, True),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.create_thread_from_message, True),
        ]
        for method, template, handler, needs_auth in routes:
            app.router.add_route(method, API_PREFIX + template, self._route(method, template, handler, needs_auth))
        app.router.add_get(ATTACHMENTS_PREFIX + "/{channel_id}/{attachment_id}/{filename}", self.get_attachment)

    def _route(self, method: str, template: str, handler: Handler, needs_auth: bool) -> Any:
        route_key = f"{method} {template}"

        async def answer(request: web.Request) -> web.StreamResponse:
            decision: Decision | None = None
            try:
                if needs_auth and request.headers.get("Authorization") != f"Bot {self.state.token}":
                    raise errors.unauthorized()
                major = request.match_info.get("channel_id") or request.match_info.get("guild_id") or ""
                decision = self.limiter.hit(route_key, major)
                if not decision.allowed:
                    return rate_limited_response(decision, time.time())
                payload, status = await handler(request)
                if status == 204:  # No Content (a delete)
                    return web.Response(status=204, headers=decision.headers(time.time()))
                return json_response(payload, status, headers=decision.headers(time.time()))
            except DiscordAPIError as exc:
                headers = decision.headers(time.time()) if decision is not None else None
                return json_response(exc.body(), exc.status, headers=headers)

        answer.discord_route = route_key  # type: ignore[attr-defined]  # read by the emulator's fault answers
        return answer

    def _readable(self, message: dict[str, Any]) -> dict[str, Any]:
        # REST reads are gated by the app's MESSAGE_CONTENT setting, like the gateway by the intent.
        enabled = bool(self.settings.enabled_privileged_intents & intents.MESSAGE_CONTENT)
        if intents.may_read_content(message, self.state.bot.id, enabled):
            return message
        return intents.strip_message_content(message)

    # -- users, application, gateway -------------------------------------------------------------

    async def get_current_user(self, request: web.Request) -> tuple[Any, int]:
        return payloads.current_user(self.state.bot), 200

    async def list_my_guilds(self, request: web.Request) -> tuple[Any, int]:
        limit = _int_query(request, "limit", 200, 1, 200)
        before, after = _optional_snowflake(request, "before"), _optional_snowflake(request, "after")
        guilds = sorted(self.state.guilds.values(), key=lambda g: g.id)
        if before is not None:
            guilds = [g for g in guilds if g.id < before][-limit:]
        else:
            guilds = [g for g in guilds if after is None or g.id > after][:limit]
        result = []
        for guild in guilds:
            entry = payloads.my_guild(guild, self.state.permissions(guild, self.state.bot.id))
            if _flag(request, "with_counts"):
                entry.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
            result.append(entry)
        return result, 200

    async def get_application(self, request: web.Request) -> tuple[Any, int]:
        flags = intents.application_flags(self.settings.enabled_privileged_intents)
        return payloads.application(self.state.application, self.state.bot, self.state.owner, flags,
                                    len(self.state.guilds)), 200

    async def get_gateway(self, request: web.Request) -> tuple[Any, int]:
        return {"url": self._gateway_url()}, 200

    async def get_bot_gateway(self, request: web.Request) -> tuple[Any, int]:
        total = self.settings.session_start_total
        return {
            "url": self._gateway_url(), "shards": self.settings.recommended_shards,
            "session_start_limit": {"total": total, "remaining": max(0, total - self.hub.identifies),
                                    "reset_after": 86_400_000, "max_concurrency": self.settings.max_concurrency},
        }, 200

    # -- guilds --------------------------------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> tuple[Any, int]:
        guild = self.state.guild(_snowflake_param(request, "guild_id"))
        data = payloads.guild(guild)
        if _flag(request, "with_counts"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return data, 200

    async def list_guild_channels(self, request: web.Request) -> tuple[Any, int]:
        guild_id = _snowflake_param(request, "guild_id")
        return [payloads.channel(c) for c in self.state.guild_channels(guild_id)], 200

    async def list_active_threads(self, request: web.Request) -> tuple[Any, int]:
        guild_id = _snowflake_param(request, "guild_id")
        threads = self.state.active_threads(guild_id)
        bot_id = self.state.bot.id
        members = [payloads.thread_member(t, bot_id, t.created_at or self.state.now())
                   for t in threads if bot_id in t.member_ids]
        return {"threads": [self.state.channel_payload(t) for t in threads], "members": members,
                "has_more": False}, 200

    # -- channels and messages ----------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> tuple[Any, int]:
        channel = self.state.channel(_snowflake_param(request, "channel_id"))
        return self.state.channel_payload(channel), 200

    async def list_messages(self, request: web.Request) -> tuple[Any, int]:
        channel = self.state.channel(_snowflake_param(request, "channel_id"))
        limit = _int_query(request, "limit", 50, 1, 100)
        around = _optional_snowflake(request, "around")
        before = _optional_snowflake(request, "before")
        after = _optional_snowflake(request, "after")
        if not channel.type.holds_messages:
            raise DiscordAPIError(400, CANNOT_EXECUTE_ON_CHANNEL_TYPE, "Cannot execute action on this channel type")
        history = self.state.history(channel.id)
        # Discord takes one of around / before / after, in that order of precedence.
        if around is not None:
            page = history.page(limit, around=around)
        elif before is not None:
            page = history.page(limit, before=before)
        else:
            page = history.page(limit, after=after)
        return [self._readable(m) for m in page], 200

    async def get_message(self, request: web.Request) -> tuple[Any, int]:
        channel = self.state.channel(_snowflake_param(request, "channel_id"))
        message_id = _snowflake_param(request, "message_id")
        message = self.state.history(channel.id).get(message_id) if channel.type.holds_messages else None
        if message is None:
            raise errors.unknown("Message", errors.UNKNOWN_MESSAGE)
        return self._readable(message), 200

    async def create_message(self, request: web.Request) -> tuple[Any, int]:
        channel_id = _snowflake_param(request, "channel_id")
        self.state.channel(channel_id)  # Unknown Channel before looking at the body, as Discord does
        body = await read_body(request)
        files = [StoredFile(f.filename, f.content_type, f.data) for f in body.files]
        return self.state.create_message(channel_id, self.state.bot.id, body.payload, files=files), 200

    async def edit_message(self, request: web.Request) -> tuple[Any, int]:
        channel_id, message_id = _snowflake_param(request, "channel_id"), _snowflake_param(request, "message_id")
        body = await read_body(request)
        return self.state.edit_message(channel_id, message_id, self.state.bot.id, body.payload), 200

    async def delete_message(self, request: web.Request) -> tuple[Any, int]:
        channel_id, message_id = _snowflake_param(request, "channel_id"), _snowflake_param(request, "message_id")
        self.state.delete_message(channel_id, message_id, self.state.bot.id)
        return None, 204

    async def create_thread(self, request: web.Request) -> tuple[Any, int]:
        channel = self.state.channel(_snowflake_param(request, "channel_id"))
        body = await read_body(request)
        fields = body.payload
        if channel.type is ChannelType.GUILD_FORUM:
            message = fields.get("message")
            if not isinstance(message, dict):
                raise errors.invalid_form_body({"message": errors.field_error("BASE_TYPE_REQUIRED",
                                                                              "This field is required")})
            files = [StoredFile(f.filename, f.content_type, f.data) for f in body.files]
            thread, starter = self.state.create_forum_post(
                channel.id, str(fields.get("name") or ""), self.state.bot.id, message,
                fields.get("auto_archive_duration"), fields.get("rate_limit_per_user"),
                fields.get("applied_tags") or [], files)
            return {**self.state.channel_payload(thread), "message": starter}, 201
        kind = fields.get("type")
        if kind is None:
            raise errors.invalid_form_body({"type": errors.field_error("BASE_TYPE_REQUIRED", "This field is required")})
        try:
            thread_type = ChannelType(int(kind))
        except ValueError:
            thread_type = ChannelType.GUILD_TEXT  # rejected below as not a thread type
        thread = self.state.create_thread(channel.id, str(fields.get("name") or ""), self.state.bot.id, thread_type,
                                          fields.get("auto_archive_duration"), fields.get("rate_limit_per_user"),
                                          bool(fields.get("invitable", True)))
        return self.state.channel_payload(thread), 201

    async def create_thread_from_message(self, request: web.Request) -> tuple[Any, int]:
        channel_id = _snowflake_param(request, "channel_id")
        message_id = _snowflake_param(request, "message_id")
        self.state.channel(channel_id)
        fields = (await read_body(request)).payload
        thread = self.state.create_thread_from_message(channel_id, message_id, str(fields.get("name") or ""),
                                                       self.state.bot.id, fields.get("auto_archive_duration"),
                                                       fields.get("rate_limit_per_user"))
        return self.state.channel_payload(thread), 201

    # -- the CDN stand-in -------------------------------------------------------------------------

    async def get_attachment(self, request: web.Request) -> web.StreamResponse:
        raw_id = request.match_info["attachment_id"]
        stored = self.state.stored_file(int(raw_id)) if raw_id.isdigit() else None
        if stored is None or stored.filename != request.match_info["filename"]:
            return json_response(errors.not_found().body(), 404)
        return web.Response(body=stored.data, content_type=stored.content_type or "application/octet-stream")
