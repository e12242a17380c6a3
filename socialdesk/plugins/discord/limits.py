"""Discord's limits on a reply, checked before anything is written or sent.

A message is 2000 characters at most (Discord counts code points, as Python's ``len``).
The default ``reply_rules`` plugin already refuses over-long replies, with the count, for
every platform whose unit is plain characters; this plugin says it only when that plugin
is turned off, so the agent does not read the same refusal twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.core.platform import ReplyLimits
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.discord.settings import PLATFORM

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

MAX_MESSAGE_CHARS = 2000
GENERAL_REPLY_CHECKS = "reply_rules"


def reply_limits(platform: str) -> ReplyLimits | None:
    return ReplyLimits(PLATFORM, MAX_MESSAGE_CHARS) if platform == PLATFORM else None


def reply_problems(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    if ticket.platform != PLATFORM:
        return None
    if GENERAL_REPLY_CHECKS in app.config.enabled:
        return []
    if not text.strip():
        return ["Discord cannot post an empty message"]
    if len(text) > MAX_MESSAGE_CHARS:
        return [f"{MAX_MESSAGE_CHARS} characters at most on {PLATFORM}, this reply has {len(text)}"]
    return []
