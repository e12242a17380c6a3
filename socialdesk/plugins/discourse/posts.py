"""A Discourse post -> a desk ``Mention``, and which posts concern the desk.

The same shape arrives from webhooks (``{"post": {...}}``, Discourse's
WebHookPostSerializer) and from ``GET /posts.json`` (``latest_posts``): ``id``,
``topic_id``, ``post_number``, ``raw``, ``username``, ``user_id``, ``created_at``,
``category_id``, ``post_type``, ``reply_to_post_number``, ``topic_slug``.
The external id is the post id; the conversation is the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.discourse.settings import PLATFORM, DiscourseSettings

REGULAR_POST = 1  # 2 moderator action, 3 small action, 4 whisper: not written to the brand


class NotAPost(ValueError):
    """The object lacks what a post needs; the message names the field."""


@dataclass(frozen=True, slots=True)
class ForumPost:
    id: int
    topic_id: int
    post_number: int
    raw: str
    username: str
    user_id: int | None
    display_name: str | None
    created_at: datetime
    category_id: int | None
    post_type: int
    topic_slug: str | None
    reply_to_post_number: int | None
    private: bool

    def url(self, base_url: str) -> str:
        return f"{base_url}/t/{self.topic_slug or '-'}/{self.topic_id}/{self.post_number}"


def _int(post: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = post.get(key)
    if value is None and not required:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise NotAPost(f"post.{key} must be an integer")
    return value


def parse_post(post: Any) -> ForumPost:
    if not isinstance(post, dict):
        raise NotAPost("post must be an object")
    created = post.get("created_at")
    try:
        created_at = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        raise NotAPost("post.created_at must be an ISO 8601 time") from None
    if created_at.tzinfo is None:
        raise NotAPost("post.created_at must carry a time zone")
    raw = post.get("raw")
    if not isinstance(raw, str):
        # Webhooks and /posts.json carry raw; the HTML is kept only as a last resort.
        raw = post.get("cooked") if isinstance(post.get("cooked"), str) else ""
    username = post.get("username")
    if not isinstance(username, str) or not username:
        raise NotAPost("post.username must be a non-empty string")
    return ForumPost(
        id=_int(post, "id") or 0, topic_id=_int(post, "topic_id") or 0, post_number=_int(post, "post_number") or 0,
        raw=raw, username=username, user_id=_int(post, "user_id", required=False),
        display_name=post.get("name") if isinstance(post.get("name"), str) else None,
        created_at=created_at, category_id=_int(post, "category_id", required=False),
        post_type=_int(post, "post_type", required=False) or REGULAR_POST,
        topic_slug=post.get("topic_slug") if isinstance(post.get("topic_slug"), str) else None,
        reply_to_post_number=_int(post, "reply_to_post_number", required=False),
        private=post.get("topic_archetype") == "private_message",
    )


def mentions_group(raw: str, group: str) -> bool:
    return re.search(rf"(?<![\w@])@{re.escape(group)}(?![\w-])", raw, re.IGNORECASE) is not None


def concerns_desk(post: ForumPost, settings: DiscourseSettings, topic_tags: list[str] | None) -> bool:
    """Whether the post is for the desk by itself (a follow-up in a ticket's topic joins anyway)."""
    if settings.wants_all_posts():
        return True
    if post.category_id is not None and post.category_id in settings.categories:
        return True
    if settings.tags and topic_tags and set(settings.tags) & {t.lower() for t in topic_tags}:
        return True
    return bool(settings.support_group and mentions_group(post.raw, settings.support_group))


def to_mention(post: ForumPost, base_url: str) -> Mention:
    return Mention(
        platform=PLATFORM, external_id=str(post.id), conversation_id=str(post.topic_id),
        author=Author(platform=PLATFORM, external_id=str(post.user_id or post.username), handle=post.username,
                      display_name=post.display_name, profile_url=f"{base_url}/u/{post.username}"),
        text=post.raw, created_at=post.created_at, url=post.url(base_url), public=not post.private,
    )
