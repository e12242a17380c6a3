"""Gateway intents: which events a session receives, and the privileged ones an app must enable."""

from __future__ import annotations

from typing import Any

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1  # privileged
GUILD_PRESENCES = 1 << 8  # privileged
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15  # privileged

PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Bits Discord defines today (0-16, 20, 21, 24, 25); anything else is "invalid intents" (4013).
KNOWN = sum(1 << bit for bit in (*range(17), 20, 21, 24, 25))

# Application flags Discord sets when a privileged intent is switched on for an app in
# fewer than 100 servers (the "limited" variants); discord.py reads them from READY.
APPLICATION_FLAG_FOR_INTENT = {
    GUILD_PRESENCES: 1 << 13,  # GATEWAY_PRESENCE_LIMITED
    GUILD_MEMBERS: 1 << 15,  # GATEWAY_GUILD_MEMBERS_LIMITED
    MESSAGE_CONTENT: 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
}


def application_flags(enabled_privileged: int) -> int:
    return sum(flag for intent, flag in APPLICATION_FLAG_FOR_INTENT.items() if enabled_privileged & intent)


def strip_message_content(message: dict[str, Any]) -> dict[str, Any]:
    """What a message looks like to an app without MESSAGE_CONTENT (a copy)."""
    stripped = {**message, "content": "", "embeds": [], "attachments": [], "components": []}
    stripped.pop("poll", None)
    referenced = message.get("referenced_message")
    if isinstance(referenced, dict):
        stripped["referenced_message"] = strip_message_content(referenced)
    return stripped


def may_read_content(message: dict[str, Any], bot_id: int, has_intent: bool) -> bool:
    """Discord's rule: content is kept for the app's own messages and messages mentioning it.

    (DMs also keep it; the emulator models guild channels only.)
    """
    if has_intent:
        return True
    if int(message["author"]["id"]) == bot_id:
        return True
    return any(int(user["id"]) == bot_id for user in message.get("mentions", []))
