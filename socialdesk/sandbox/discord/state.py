"""The emulated Discord world and every change to it: guilds, members, channels, threads, messages.

REST handlers and the test/demo API both change the world through this class, so a
message posted by a "customer" and one sent by the bot follow the same rules (mentions,
replies, nonces, thread counters). Each change is announced to listeners as a
``GatewayEvent``; the gateway hub fans it out to the sessions that may see it.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from socialdesk.sandbox.discord import errors, intents, mentions, payloads
from socialdesk.sandbox.discord.events import GatewayEvent
from socialdesk.sandbox.discord.history import ChannelHistory
from socialdesk.sandbox.discord.models import (
    ADMINISTRATOR,
    EVERYONE_PERMISSIONS,
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    Application,
    Channel,
    ChannelType,
    Guild,
    Member,
    Role,
    User,
)
from socialdesk.sandbox.discord.settings import DiscordSettings
from socialdesk.sandbox.discord.snowflake import SnowflakeGenerator, snowflake_time

MESSAGE_DEFAULT = 0
MESSAGE_REPLY = 19
HAS_THREAD = 1 << 5  # message flag set on a message a thread was started from
NONCE_WINDOW_SECONDS = 300.0  # Discord de-duplicates enforce_nonce sends "for a few minutes"
_MAX_NONCES = 10_000
_MAX_FILE_BYTES_TOTAL = 64 * 1024 * 1024
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | MENTION_EVERYONE


def make_bot_token(bot_id: int) -> str:
    """A token shaped like Discord's: base64 of the bot's id, a timestamp part and an HMAC part."""
    head = base64.urlsafe_b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(6)[:6]}.{secrets.token_urlsafe(30)[:38]}"


@dataclass
class StoredFile:
    filename: str
    content_type: str | None
    data: bytes


def _as_int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.not_snowflake(field, str(value)) from None


class DiscordState:
    def __init__(self, settings: DiscordSettings, ids: SnowflakeGenerator | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.ids = ids or SnowflakeGenerator(clock=clock)
        self._clock = clock
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self._histories: dict[int, ChannelHistory] = {}
        self._nonces: OrderedDict[tuple[int, int, str], tuple[float, int]] = OrderedDict()
        self._files: OrderedDict[int, StoredFile] = OrderedDict()
        self._file_bytes = 0
        self._listeners: list[Callable[[GatewayEvent], None]] = []
        self.base_url = "http://127.0.0.1"  # set by the emulator once it has a port; used in attachment urls
        self.bot = self.add_user(settings.bot_username, global_name=None, bot=True)
        self.owner = self.add_user("acme-admin", global_name="Acme Admin")
        self.application = Application(id=self.bot.id, name=settings.application_name, owner_id=self.owner.id,
                                       verify_key=secrets.token_hex(32))
        self.token = settings.bot_token or make_bot_token(self.bot.id)

    # -- time and events ---------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=timezone.utc)

    def subscribe(self, listener: Callable[[GatewayEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: GatewayEvent) -> None:
        for listener in self._listeners:
            listener(event)

    # -- users and guilds ----------------------------------------------------------------

    def add_user(self, username: str, global_name: str | None = None, bot: bool = False,
                 user_id: int | None = None) -> User:
        user = User(id=user_id or self.ids.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def user_named(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def add_guild(self, name: str, guild_id: int | None = None, features: Iterable[str] = ()) -> Guild:
        """A guild the bot has joined: @everyone role, the bot's managed role, owner and bot as members."""
        guild_id = guild_id or self.ids.next()
        joined = self.now()
        guild = Guild(id=guild_id, name=name, owner_id=self.owner.id, joined_at=joined, features=list(features))
        guild.roles[guild_id] = Role(id=guild_id, name="@everyone", permissions=EVERYONE_PERMISSIONS)
        bot_role = Role(id=self.ids.next(), name=self.bot.username, permissions=BOT_PERMISSIONS, position=1,
                        managed=True, bot_id=self.bot.id)
        guild.roles[bot_role.id] = bot_role
        self.guilds[guild_id] = guild
        guild.members[self.owner.id] = Member(self.owner.id, joined_at=snowflake_time(guild_id))
        guild.members[self.bot.id] = Member(self.bot.id, joined_at=joined, roles=[bot_role.id])
        return guild

    def guild(self, guild_id: int) -> Guild:
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise errors.unknown("Guild", errors.UNKNOWN_GUILD)
        return guild

    def add_role(self, guild_id: int, name: str, *, mentionable: bool = False, permissions: int = 0) -> Role:
        guild = self.guild(guild_id)
        role = Role(id=self.ids.next(), name=name, permissions=permissions, position=len(guild.roles),
                    mentionable=mentionable)
        guild.roles[role.id] = role
        return role

    def add_member(self, guild_id: int, user_id: int, roles: Iterable[int] = ()) -> Member:
        guild = self.guild(guild_id)
        if user_id in guild.members:
            return guild.members[user_id]
        member = Member(user_id, joined_at=self.now(), roles=list(roles))
        guild.members[user_id] = member
        data = {**payloads.member(member, self.users[user_id]), "guild_id": str(guild_id)}
        self._emit(GatewayEvent("GUILD_MEMBER_ADD", data, guild_id, intents.GUILD_MEMBERS))
        return member

    def permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return ADMINISTRATOR | EVERYONE_PERMISSIONS | MENTION_EVERYONE
        member = guild.members.get(user_id)
        value = guild.roles[guild.id].permissions
        for role_id in member.roles if member else []:
            role = guild.roles.get(role_id)
            value |= role.permissions if role else 0
        return value

    # -- channels and threads --------------------------------------------------------------

    def add_channel(self, guild_id: int, name: str, kind: ChannelType = ChannelType.GUILD_TEXT,
                    topic: str | None = None, parent_id: int | None = None) -> Channel:
        guild = self.guild(guild_id)
        if kind.is_thread:
            raise ValueError("threads are made with create_thread")
        position = sum(1 for cid in guild.channel_ids if not self.channels[cid].type.is_thread)
        channel = Channel(id=self.ids.next(), guild_id=guild_id, type=kind, name=name, position=position,
                          topic=topic, parent_id=parent_id)
        self._register(channel)
        if guild.system_channel_id is None and kind is ChannelType.GUILD_TEXT:
            guild.system_channel_id = channel.id
        self._emit(GatewayEvent("CHANNEL_CREATE", payloads.channel(channel), guild_id, intents.GUILDS))
        return channel

    def _register(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self.guilds[channel.guild_id].channel_ids.append(channel.id)
        if channel.type.holds_messages:
            self._histories[channel.id] = ChannelHistory(self.settings.max_messages_per_channel)

    def channel(self, channel_id: int) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise errors.unknown("Channel", errors.UNKNOWN_CHANNEL)
        return channel

    def guild_channels(self, guild_id: int) -> list[Channel]:
        return [self.channels[c] for c in self.guild(guild_id).channel_ids if not self.channels[c].type.is_thread]

    def active_threads(self, guild_id: int) -> list[Channel]:
        return [self.channels[c] for c in self.guild(guild_id).channel_ids
                if self.channels[c].type.is_thread and not self.channels[c].archived]

    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        if channel.type.is_thread:
            return payloads.thread(channel, channel.created_at or snowflake_time(channel.id), self.bot.id)
        return payloads.channel(channel)

    def _new_thread(self, parent: Channel, thread_id: int, name: str, owner_id: int, kind: ChannelType,
                    auto_archive_duration: int | None, rate_limit_per_user: int | None,
                    invitable: bool = True, applied_tags: Iterable[int] = ()) -> Channel:
        if not name or len(name) > 100:
            raise errors.invalid_form_body({"name": errors.field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")})
        duration = auto_archive_duration or 1440
        if duration not in (60, 1440, 4320, 10080):
            raise errors.invalid_form_body({"auto_archive_duration": errors.field_error(
                "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")})
        thread = Channel(id=thread_id, guild_id=parent.guild_id, type=kind, name=name, parent_id=parent.id,
                         owner_id=owner_id, created_at=self.now(), auto_archive_duration=duration,
                         rate_limit_per_user=rate_limit_per_user or 0, member_ids={owner_id}, invitable=invitable,
                         applied_tags=list(applied_tags))
        self._register(thread)
        data = {**self.channel_payload(thread), "newly_created": True}
        self._emit(GatewayEvent("THREAD_CREATE", data, thread.guild_id, intents.GUILDS))
        return thread

    def create_thread_from_message(self, channel_id: int, message_id: int, name: str, owner_id: int,
                                   auto_archive_duration: int | None = None,
                                   rate_limit_per_user: int | None = None) -> Channel:
        """A public thread on an existing message; the thread gets the message's id, as on Discord."""
        parent = self.channel(channel_id)
        message = self._history(parent).get(message_id)
        if message is None:
            raise errors.unknown("Message", errors.UNKNOWN_MESSAGE)
        if message_id in self.channels:
            raise errors.DiscordAPIError(400, errors.THREAD_ALREADY_CREATED,
                                         "A thread has already been created for this message")
        kind = ChannelType.ANNOUNCEMENT_THREAD if parent.type is ChannelType.GUILD_ANNOUNCEMENT \
            else ChannelType.PUBLIC_THREAD
        thread = self._new_thread(parent, message_id, name, owner_id, kind, auto_archive_duration,
                                  rate_limit_per_user)
        message["flags"] = message.get("flags", 0) | HAS_THREAD
        message["thread"] = payloads.thread(thread, thread.created_at or self.now())
        return thread

    def create_thread(self, channel_id: int, name: str, owner_id: int, kind: ChannelType,
                      auto_archive_duration: int | None = None, rate_limit_per_user: int | None = None,
                      invitable: bool = True) -> Channel:
        """A thread without a starter message in a text or announcement channel."""
        parent = self.channel(channel_id)
        if parent.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT) or not kind.is_thread:
            raise errors.invalid_form_body({"type": errors.field_error(
                "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")})
        return self._new_thread(parent, self.ids.next(), name, owner_id, kind, auto_archive_duration,
                                rate_limit_per_user, invitable)

    def create_forum_post(self, channel_id: int, name: str, author_id: int, message: dict[str, Any],
                          auto_archive_duration: int | None = None, rate_limit_per_user: int | None = None,
                          applied_tags: Iterable[Any] = (), files: Iterable[StoredFile] = ()
                          ) -> tuple[Channel, dict[str, Any]]:
        """A forum post: a thread plus its starter message, which shares the thread's id."""
        parent = self.channel(channel_id)
        if parent.type is not ChannelType.GUILD_FORUM:
            raise errors.invalid_form_body({"message": errors.field_error(
                "BASE_TYPE_INVALID", "Only forum channels take a starter message.")})
        files = list(files)
        message = {k: v for k, v in message.items() if k != "message_reference"}  # a starter replies to nothing
        self._check_message_fields(message, files)
        thread_id = self.ids.next()
        tags = [_as_int(t, "applied_tags") for t in applied_tags]
        thread = self._new_thread(parent, thread_id, name, author_id, ChannelType.PUBLIC_THREAD,
                                  auto_archive_duration, rate_limit_per_user, applied_tags=tags)
        starter = self.create_message(thread.id, author_id, message, files=files, message_id=thread_id)
        return thread, starter

    # -- messages --------------------------------------------------------------------------

    def _history(self, channel: Channel) -> ChannelHistory:
        history = self._histories.get(channel.id)
        if history is None:
            raise errors.DiscordAPIError(400, errors.CANNOT_SEND_IN_NON_TEXT,
                                         "Cannot send messages in a non-text channel")
        return history

    def history(self, channel_id: int) -> ChannelHistory:
        return self._history(self.channel(channel_id))

    def _check_message_fields(self, fields: dict[str, Any], files: Iterable[StoredFile]) -> None:
        content = fields.get("content")
        problems: dict[str, Any] = {}
        if content is not None and not isinstance(content, str):
            problems["content"] = errors.field_error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
        elif content is not None and len(content) > 2000:
            problems["content"] = errors.field_error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = fields.get("embeds") or []
        if not isinstance(embeds, list) or not all(isinstance(e, dict) for e in embeds):
            problems["embeds"] = errors.field_error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        elif len(embeds) > 10:
            problems["embeds"] = errors.field_error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        flags = fields.get("flags")
        if flags is not None and (not isinstance(flags, int) or isinstance(flags, bool)):
            problems["flags"] = errors.field_error("NUMBER_TYPE_COERCE", f'Value "{flags}" is not int.')
        nonce = fields.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            problems["nonce"] = errors.field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for name in ("components", "attachments", "sticker_ids"):
            if fields.get(name) is not None and not isinstance(fields[name], list):
                problems[name] = errors.field_error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        mention_problems = mentions.allowed_mentions_errors(fields.get("allowed_mentions"))
        if mention_problems:
            problems["allowed_mentions"] = mention_problems
        if problems:
            raise errors.invalid_form_body(problems)
        if not content and not embeds and not list(files) and not fields.get("attachments") \
                and not fields.get("components") and not fields.get("sticker_ids") and not fields.get("poll"):
            raise errors.DiscordAPIError(400, errors.CANNOT_SEND_EMPTY, "Cannot send an empty message")

    def _resolve_reference(self, channel: Channel, reference: Any) -> dict[str, Any] | None:
        if reference is None:
            return None
        if not isinstance(reference, dict) or reference.get("message_id") is None:
            raise errors.invalid_form_body({"message_reference": {"message_id": errors.field_error(
                "BASE_TYPE_REQUIRED", "This field is required")}})
        message_id = _as_int(reference["message_id"], "message_reference.message_id")
        channel_id = _as_int(reference.get("channel_id") or channel.id, "message_reference.channel_id")
        target_channel = self.channels.get(channel_id)
        history = self._histories.get(channel_id) if target_channel else None
        target = history.get(message_id) if history is not None else None
        if target is None:
            if reference.get("fail_if_not_exists") is False:
                return None
            raise errors.invalid_form_body({"message_reference": errors.field_error(
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")})
        return target

    def _remember_nonce(self, key: tuple[int, int, str], message_id: int) -> None:
        now = self._clock()
        self._nonces[key] = (now, message_id)
        while self._nonces:
            oldest_key, (stamp, _) = next(iter(self._nonces.items()))
            if len(self._nonces) <= _MAX_NONCES and now - stamp < NONCE_WINDOW_SECONDS:
                break
            del self._nonces[oldest_key]

    def _store_file(self, attachment_id: int, stored: StoredFile) -> None:
        self._files[attachment_id] = stored
        self._file_bytes += len(stored.data)
        while self._file_bytes > _MAX_FILE_BYTES_TOTAL and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self._file_bytes -= len(dropped.data)

    def stored_file(self, attachment_id: int) -> StoredFile | None:
        return self._files.get(attachment_id)

    def _attachments(self, channel: Channel, fields: dict[str, Any], files: Iterable[StoredFile]) -> list[dict]:
        described = {int(a["id"]): a for a in fields.get("attachments") or []
                     if isinstance(a, dict) and str(a.get("id", "")).isdigit()}
        result = []
        for index, stored in enumerate(files):
            if len(stored.data) > self.settings.max_attachment_bytes:
                raise errors.DiscordAPIError(413, 40005, "Request entity too large")
            attachment_id = self.ids.next()
            filename = str(described.get(index, {}).get("filename") or stored.filename)
            self._store_file(attachment_id, StoredFile(filename, stored.content_type, stored.data))
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{quote(filename)}"
            data = payloads.attachment(attachment_id, filename, len(stored.data), url, stored.content_type)
            if described.get(index, {}).get("description"):
                data["description"] = described[index]["description"]
            result.append(data)
        return result

    def create_message(self, channel_id: int, author_id: int, fields: dict[str, Any],
                       files: Iterable[StoredFile] = (), message_id: int | None = None) -> dict[str, Any]:
        """Store a message the way Discord does and announce MESSAGE_CREATE; returns the stored dict.

        ``fields`` is a MessageCreateRequest body (content, embeds, allowed_mentions,
        message_reference, nonce, enforce_nonce, tts, flags, components, attachments).
        """
        channel = self.channel(channel_id)
        history = self._history(channel)
        files = list(files)
        self._check_message_fields(fields, files)
        author = self.users[author_id]
        guild = self.guilds[channel.guild_id]
        nonce = fields.get("nonce")
        nonce_key = (channel.id, author_id, str(nonce)) if nonce is not None and fields.get("enforce_nonce") else None
        if nonce_key is not None and nonce_key in self._nonces:
            stamp, existing_id = self._nonces[nonce_key]
            existing = history.get(existing_id)
            if existing is not None and self._clock() - stamp < NONCE_WINDOW_SECONDS:
                return existing  # Discord answers a repeated enforce_nonce send with the first message
        referenced = self._resolve_reference(channel, fields.get("message_reference"))
        content = fields.get("content") or ""
        pings = mentions.resolve(
            content, fields.get("allowed_mentions"), known_users=set(self.users),
            mentionable_roles={r.id for r in guild.roles.values() if r.mentionable and r.id != guild.id},
            all_roles={r.id for r in guild.roles.values() if r.id != guild.id},
            may_mention_everyone=bool(self.permissions(guild, author_id) & (MENTION_EVERYONE | ADMINISTRATOR)),
            replied_author=int(referenced["author"]["id"]) if referenced else None,
        )
        new_id = message_id or self.ids.next()
        message: dict[str, Any] = {
            "id": str(new_id), "type": MESSAGE_REPLY if referenced else MESSAGE_DEFAULT, "content": content,
            "channel_id": str(channel.id), "author": payloads.user(author),
            "attachments": self._attachments(channel, fields, files),
            "embeds": [{"type": "rich", **e} for e in fields.get("embeds") or []],
            "mentions": [payloads.user(self.users[u]) for u in pings.users],
            "mention_roles": [str(r) for r in pings.roles], "mention_everyone": pings.everyone,
            "pinned": False, "tts": bool(fields.get("tts")), "timestamp": payloads.iso(snowflake_time(new_id)),
            "edited_timestamp": None, "flags": int(fields.get("flags") or 0),
            "components": list(fields.get("components") or []),
        }
        if nonce is not None:
            message["nonce"] = nonce
        if referenced is not None:
            message["message_reference"] = {"type": 0, "channel_id": referenced["channel_id"],
                                            "message_id": referenced["id"], "guild_id": str(guild.id)}
            message["referenced_message"] = {k: v for k, v in referenced.items() if k != "referenced_message"}
        if channel.type.is_thread:
            message["position"] = channel.total_message_sent
            channel.member_ids.add(author_id)
            if new_id != channel.id:  # a forum post's starter message is not counted, as on Discord
                channel.message_count += 1
                channel.total_message_sent += 1
        history.add(message)
        channel.last_message_id = new_id
        if nonce_key is not None:
            self._remember_nonce(nonce_key, new_id)
        self._emit(GatewayEvent("MESSAGE_CREATE", self._gateway_message(guild, message), guild.id,
                                intents.GUILD_MESSAGES, content_gated=True))
        return message

    def _own_message(self, channel_id: int, message_id: int) -> tuple[Channel, dict[str, Any]]:
        channel = self.channel(channel_id)
        message = self._history(channel).get(message_id) if channel.type.holds_messages else None
        if message is None:
            raise errors.unknown("Message", errors.UNKNOWN_MESSAGE)
        return channel, message

    def edit_message(self, channel_id: int, message_id: int, editor_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """PATCH /channels/{id}/messages/{id}: only the author may change content; MESSAGE_UPDATE follows."""
        channel, message = self._own_message(channel_id, message_id)
        if int(message["author"]["id"]) != editor_id:
            raise errors.DiscordAPIError(403, errors.CANNOT_EDIT_OTHERS_MESSAGE,
                                         "Cannot edit a message authored by another user")
        problems: dict[str, Any] = {}
        content = fields.get("content")
        if content is not None and not isinstance(content, str):
            problems["content"] = errors.field_error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
        elif isinstance(content, str) and len(content) > 2000:
            problems["content"] = errors.field_error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        mention_problems = mentions.allowed_mentions_errors(fields.get("allowed_mentions"))
        if mention_problems:
            problems["allowed_mentions"] = mention_problems
        if problems:
            raise errors.invalid_form_body(problems)
        if content is not None:
            if not content and not message.get("embeds") and not message.get("attachments"):
                raise errors.DiscordAPIError(400, errors.CANNOT_SEND_EMPTY, "Cannot send an empty message")
            message["content"] = content
        message["edited_timestamp"] = payloads.iso(self.now())
        guild = self.guilds[channel.guild_id]
        self._emit(GatewayEvent("MESSAGE_UPDATE", self._gateway_message(guild, message), guild.id,
                                intents.GUILD_MESSAGES, content_gated=True))
        return message

    def delete_message(self, channel_id: int, message_id: int, deleter_id: int) -> None:
        """DELETE /channels/{id}/messages/{id}: the author, or a member who may manage messages."""
        channel, message = self._own_message(channel_id, message_id)
        guild = self.guilds[channel.guild_id]
        if int(message["author"]["id"]) != deleter_id \
                and not self.permissions(guild, deleter_id) & (MANAGE_MESSAGES | ADMINISTRATOR):
            raise errors.DiscordAPIError(403, errors.MISSING_PERMISSIONS, "Missing Permissions")
        self._history(channel).remove(message_id)
        self._emit(GatewayEvent("MESSAGE_DELETE", {"id": str(message_id), "channel_id": str(channel.id),
                                                   "guild_id": str(guild.id)}, guild.id, intents.GUILD_MESSAGES))

    def _gateway_message(self, guild: Guild, message: dict[str, Any]) -> dict[str, Any]:
        """MESSAGE_CREATE adds the guild id, the author's member and each mentioned user's member."""
        data = {**message, "guild_id": str(guild.id)}
        author_member = guild.members.get(int(message["author"]["id"]))
        if author_member is not None:
            data["member"] = payloads.member(author_member, None)
        data["mentions"] = [
            {**u, "member": payloads.member(guild.members[int(u["id"])], None)} if int(u["id"]) in guild.members else u
            for u in message["mentions"]
        ]
        return data
