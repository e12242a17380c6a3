"""What a customer attached to a message (images, videos, files), as its platform described it.

Plugins build :class:`Attachment` values from the platform's own metadata (URL, name, type,
size, alt text); the desk stores them with the message (``messages.media``) and the card
shows images as image blocks and lists the rest. Everything here was written by a stranger
or their client: every string is bounded, and a URL is kept only when it is http(s).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

MAX_ATTACHMENTS = 20  # per message; platforms allow fewer (X 4, Discord 10, Bluesky 4, Mastodon 4)
MAX_URL_CHARS = 2000
MAX_NAME_CHARS = 200
MAX_ALT_CHARS = 1000
MAX_TYPE_CHARS = 100
KINDS = ("image", "video", "audio", "file")


def _bounded(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = " ".join(value.split()) if limit <= MAX_NAME_CHARS else value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _web_url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def kind_of(content_type: str | None) -> str:
    """image/png -> image; anything unknown is a file."""
    major = (content_type or "").split("/", 1)[0].lower()
    return major if major in ("image", "video", "audio") else "file"


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached item. ``preview_url``: a still image of a video (X, Mastodon)."""

    kind: str  # image | video | audio | file
    url: str | None = None
    name: str | None = None
    content_type: str | None = None
    size: int | None = None  # bytes
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    preview_url: str | None = None
    expires_at: datetime | None = None  # signed CDN links stop working then (Discord)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", self.kind if self.kind in KINDS else "file")
        object.__setattr__(self, "url", _web_url(self.url))
        object.__setattr__(self, "preview_url", _web_url(self.preview_url))
        object.__setattr__(self, "name", _bounded(self.name, MAX_NAME_CHARS))
        object.__setattr__(self, "content_type", _bounded(self.content_type, MAX_TYPE_CHARS))
        object.__setattr__(self, "alt_text", _bounded(self.alt_text, MAX_ALT_CHARS))
        for name in ("size", "width", "height"):
            object.__setattr__(self, name, _count(getattr(self, name)))
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.astimezone(timezone.utc).isoformat()
        return data

    @classmethod
    def from_json(cls, data: Any) -> Attachment | None:
        """What the store holds, read back; None for a row this version cannot read."""
        if not isinstance(data, dict):
            return None
        expires = data.get("expires_at")
        try:
            expires_at = datetime.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            expires_at = None
        return cls(kind=str(data.get("kind") or "file"), url=data.get("url"), name=data.get("name"),
                   content_type=data.get("content_type"), size=data.get("size"), alt_text=data.get("alt_text"),
                   width=data.get("width"), height=data.get("height"), preview_url=data.get("preview_url"),
                   expires_at=expires_at)


def bounded_media(items: Any) -> tuple[Attachment, ...]:
    """At most :data:`MAX_ATTACHMENTS` attachments (a stranger may attach many)."""
    return tuple(a for a in tuple(items or ())[:MAX_ATTACHMENTS] if isinstance(a, Attachment))


def stored_media(rows: Any) -> list[Attachment]:
    return [a for a in (Attachment.from_json(r) for r in (rows or [])[:MAX_ATTACHMENTS]) if a is not None]
