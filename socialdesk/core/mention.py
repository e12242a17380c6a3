"""What a platform plugin hands to the desk: one public (or private) message about the brand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from socialdesk.core.attachments import Attachment, bounded_media

# A mention is written by a stranger: bound what we keep so one message cannot bloat
# the store, a card or a log line. Platforms allow far less than this anyway.
MAX_TEXT_CHARS = 10_000
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200
TRUNCATION_MARK = "…"


def _bounded(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + TRUNCATION_MARK


def _require_id(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > MAX_ID_CHARS:
        raise ValueError(f"{name} is longer than {MAX_ID_CHARS} characters")


@dataclass(frozen=True, slots=True)
class Author:
    """A person (or account) on a platform."""

    platform: str
    external_id: str
    handle: str
    display_name: str | None = None
    followers: int | None = None
    verified: bool = False
    profile_url: str | None = None

    def __post_init__(self) -> None:
        _require_id("author.platform", self.platform)
        _require_id("author.external_id", self.external_id)
        object.__setattr__(self, "handle", _bounded(self.handle or "", MAX_NAME_CHARS))
        if self.display_name is not None:
            object.__setattr__(self, "display_name", _bounded(self.display_name, MAX_NAME_CHARS))
        if self.followers is not None and self.followers < 0:
            raise ValueError("author.followers must not be negative")


@dataclass(frozen=True, slots=True)
class Mention:
    """One inbound message, normalised by the platform plugin that received it.

    ``conversation_id`` groups messages into one ticket: an X conversation id, a
    Discord thread id, ... Two mentions with the same (platform, conversation_id)
    join the same open ticket.
    """

    platform: str
    external_id: str
    conversation_id: str
    author: Author
    text: str
    created_at: datetime
    url: str | None = None
    public: bool = True
    in_reply_to_id: str | None = None
    attachments: tuple[str, ...] = field(default_factory=tuple)
    media: tuple[Attachment, ...] = field(default_factory=tuple)  # images and files, shown on the card

    def __post_init__(self) -> None:
        _require_id("platform", self.platform)
        _require_id("external_id", self.external_id)
        _require_id("conversation_id", self.conversation_id)
        if self.author.platform != self.platform:
            raise ValueError("author.platform must equal the mention's platform")
        if not isinstance(self.text, str):
            raise ValueError("text must be a string")
        object.__setattr__(self, "text", _bounded(self.text, MAX_TEXT_CHARS))
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        object.__setattr__(self, "created_at", self.created_at.astimezone(timezone.utc))
        object.__setattr__(self, "media", bounded_media(self.media))
