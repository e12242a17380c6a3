"""The emulated world: users, guilds with roles and members, channels and threads.

Plain records; ``payloads`` turns them into Discord's JSON and ``state`` changes them.
Messages are kept as Discord-shaped dicts in ``history``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


class ChannelType(IntEnum):
    GUILD_TEXT = 0
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15

    @property
    def is_thread(self) -> bool:
        return self in (ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)

    @property
    def holds_messages(self) -> bool:
        # Categories and forums hold no messages of their own (forum posts are threads).
        return self in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT) or self.is_thread


CHANNEL_KINDS = {
    "text": ChannelType.GUILD_TEXT,
    "category": ChannelType.GUILD_CATEGORY,
    "announcement": ChannelType.GUILD_ANNOUNCEMENT,
    "forum": ChannelType.GUILD_FORUM,
}

# Permission bits used by the emulator (the @everyone role and the bot's role).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_MESSAGES = 1 << 13
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_PUBLIC_THREADS = 1 << 35
ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None  # set on the role Discord makes for a bot when it joins


@dataclass
class Member:
    user_id: int
    joined_at: datetime
    roles: list[int] = field(default_factory=list)
    nick: str | None = None


@dataclass
class Channel:
    id: int
    guild_id: int
    type: ChannelType
    name: str
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    last_message_id: int | None = None
    rate_limit_per_user: int = 0
    # threads only
    owner_id: int | None = None
    created_at: datetime | None = None
    auto_archive_duration: int = 1440
    archived: bool = False
    locked: bool = False
    message_count: int = 0
    total_message_sent: int = 0
    member_ids: set[int] = field(default_factory=set)
    applied_tags: list[int] = field(default_factory=list)
    invitable: bool = True


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    joined_at: datetime
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)  # guild channels and threads, in creation order
    features: list[str] = field(default_factory=list)
    description: str | None = None
    system_channel_id: int | None = None


@dataclass
class Application:
    id: int
    name: str
    owner_id: int
    verify_key: str
    description: str = ""
