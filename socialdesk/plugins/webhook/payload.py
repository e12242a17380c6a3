"""The documented body of a pushed mention, and how it becomes a desk ``Mention``.

    {"type": "mention.created",
     "timestamp": "2026-11-02T09:00:00Z",
     "data": {"id": "review-81", "conversation_id": "order-1042",
              "in_reply_to_id": null,
              "author": {"id": "c-9", "handle": "dana", "name": "Dana S.", "url": "https://..."},
              "text": "My parcel never arrived", "url": "https://shop.example.com/reviews/81",
              "created_at": "2026-11-02T08:59:00Z", "public": true}}

Ids are the sender's; the desk prefixes them with the source name, so two sources may use
the same ids. Messages in one ``conversation_id`` join one ticket. A body that does not
fit is refused with 400 and the first thing wrong, by path.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from socialdesk.core.mention import MAX_ID_CHARS, Author, Mention
from socialdesk.core.push.source import PushRefused
from socialdesk.plugins.webhook.settings import PLATFORM

EVENT_TYPE = "mention.created"


def _field(data: dict[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise PushRefused(400, f"{path}.{key} is missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise PushRefused(400, f"{path}.{key} must be a non-empty string")
    if not _printable_id(value):  # text may hold anything; ids and links may not
        raise PushRefused(400, f"{path}.{key} holds a NUL or an unpaired surrogate")
    return value


def _printable_id(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _id(data: dict[str, Any], key: str, path: str, source: str, *, required: bool = True) -> str | None:
    value = _field(data, key, path, required=required)
    if value is None:
        return None
    if len(value) > MAX_ID_CHARS - len(source) - 1:
        raise PushRefused(400, f"{path}.{key} is longer than {MAX_ID_CHARS - len(source) - 1} characters")
    return f"{source}:{value}"


def _time(value: str | None, path: str) -> datetime:
    if value is None:
        raise PushRefused(400, f"{path} is missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PushRefused(400, f"{path} must be an ISO 8601 time such as 2026-11-02T08:59:00Z") from None
    if parsed.tzinfo is None:
        raise PushRefused(400, f"{path} must carry a time zone (Z or +00:00)")
    return parsed


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PushRefused(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise PushRefused(400, "the body must be a JSON object")
    return document


def to_mention(document: dict[str, Any], source: str) -> Mention:
    if document.get("type") != EVENT_TYPE:
        raise PushRefused(400, f"type must be {EVENT_TYPE!r} (got {str(document.get('type'))[:40]!r})")
    data = document.get("data")
    if not isinstance(data, dict):
        raise PushRefused(400, "data must be an object")
    author = data.get("author")
    if not isinstance(author, dict):
        raise PushRefused(400, "data.author must be an object")
    text = data.get("text")
    if not isinstance(text, str):
        raise PushRefused(400, "data.text must be a string")
    public = data.get("public", True)
    if not isinstance(public, bool):
        raise PushRefused(400, "data.public must be true or false")
    author_id = _id(author, "id", "data.author", source)
    assert author_id is not None
    try:
        return Mention(
            platform=PLATFORM,
            external_id=_id(data, "id", "data", source) or "",
            conversation_id=_id(data, "conversation_id", "data", source) or "",
            author=Author(platform=PLATFORM, external_id=author_id,
                          handle=_field(author, "handle", "data.author") or "",
                          display_name=_field(author, "name", "data.author", required=False),
                          profile_url=_field(author, "url", "data.author", required=False)),
            text=text,
            created_at=_time(_field(data, "created_at", "data"), "data.created_at"),
            url=_field(data, "url", "data", required=False),
            public=public,
            in_reply_to_id=_id(data, "in_reply_to_id", "data", source, required=False),
        )
    except ValueError as exc:
        raise PushRefused(400, f"data: {exc}") from None


def source_of(conversation_id: str) -> tuple[str, str]:
    """``("shop", "order-1042")`` from the stored ``"shop:order-1042"``."""
    source, _, own = conversation_id.partition(":")
    return source, own
