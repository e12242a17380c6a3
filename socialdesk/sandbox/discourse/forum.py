"""The forum's state and the JSON Discourse writes for it.

Field sets follow the Discourse API description (``/posts.json``, ``/posts/{id}.json``,
``/t/{id}.json``) and, for webhooks, WebHookPostSerializer (the post serializer plus
``raw``, ``topic_title``, ``category_id``, ``category_slug``, ``topic_archetype``,
``topic_posts_count``, ``topic_filtered_posts_count``).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "topic"


@dataclass
class ForumUser:
    id: int
    username: str
    name: str | None
    admin: bool = False


@dataclass
class ForumTopic:
    id: int
    title: str
    user_id: int
    category_id: int
    created_at: float
    tags: list[str] = field(default_factory=list)
    archetype: str = "regular"
    post_ids: list[int] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass
class ForumPost:
    id: int
    topic_id: int
    post_number: int
    user_id: int
    raw: str
    created_at: float
    reply_to_post_number: int | None = None
    post_type: int = 1
    version: int = 1  # bumped by each edit
    updated_at: float | None = None
    deleted_at: float | None = None


class Forum:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.users: dict[str, ForumUser] = {}
        self.categories: dict[int, str] = {1: "Uncategorized"}
        self.topics: dict[int, ForumTopic] = {}
        self.posts: dict[int, ForumPost] = {}
        self._next = {"user": 1, "category": 2, "topic": 1, "post": 1}

    def _id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] += 1
        return value

    def add_user(self, username: str, name: str | None = None, *, admin: bool = False) -> ForumUser:
        user = ForumUser(self._id("user"), username, name, admin)
        self.users[username.lower()] = user
        return user

    def user(self, username: str) -> ForumUser | None:
        return self.users.get(username.lower())

    def user_by_id(self, user_id: int) -> ForumUser:
        return next(u for u in self.users.values() if u.id == user_id)

    def add_category(self, name: str) -> int:
        category_id = self._id("category")
        self.categories[category_id] = name
        return category_id

    def add_topic(self, user: ForumUser, title: str, category_id: int, tags: list[str]) -> ForumTopic:
        topic = ForumTopic(self._id("topic"), title, user.id, category_id, self.clock(), list(tags))
        self.topics[topic.id] = topic
        return topic

    def add_post(self, user: ForumUser, topic: ForumTopic, raw: str, reply_to_post_number: int | None = None) -> ForumPost:
        post = ForumPost(self._id("post"), topic.id, len(topic.post_ids) + 1, user.id, raw, self.clock(),
                         reply_to_post_number)
        self.posts[post.id] = post
        topic.post_ids.append(post.id)
        return post

    # --- JSON --------------------------------------------------------------------------------
    def post_json(self, post: ForumPost, base_url: str) -> dict[str, Any]:
        """``GET /posts/{id}.json``: every field the description requires."""
        topic = self.topics[post.topic_id]
        user = self.user_by_id(post.user_id)
        return {
            "id": post.id, "name": user.name, "username": user.username,
            "avatar_template": f"/letter_avatar_proxy/v4/letter/{user.username[0].lower()}/b5a626/{{size}}.png",
            "created_at": iso(post.created_at), "cooked": f"<p>{html.escape(post.raw)}</p>",
            "post_number": post.post_number, "post_type": post.post_type, "posts_count": len(topic.post_ids),
            "updated_at": iso(post.updated_at or post.created_at), "reply_count": 0, "reply_to_post_number": post.reply_to_post_number,
            "quote_count": 0, "incoming_link_count": 0, "reads": 1, "readers_count": 0, "score": 0.0,
            "yours": False, "topic_id": topic.id, "topic_slug": topic.slug, "display_username": user.name,
            "primary_group_name": None, "flair_name": None, "flair_url": None, "flair_bg_color": None,
            "flair_color": None, "version": post.version, "can_edit": False, "can_delete": False, "can_recover": False,
            "can_wiki": False, "user_title": None, "bookmarked": False, "raw": post.raw, "actions_summary": [],
            "moderator": False, "admin": user.admin, "staff": user.admin, "user_id": user.id, "hidden": False,
            "trust_level": 1, "deleted_at": None, "user_deleted": False, "edit_reason": None,
            "can_view_edit_history": True, "wiki": False, "reviewable_id": None, "reviewable_score_count": 0,
            "reviewable_score_pending_count": 0, "post_url": f"/t/{topic.slug}/{topic.id}/{post.post_number}",
        }

    def latest_post_json(self, post: ForumPost, base_url: str) -> dict[str, Any]:
        """An item of ``GET /posts.json``'s ``latest_posts``."""
        topic = self.topics[post.topic_id]
        body = self.post_json(post, base_url)
        body.update({"topic_title": topic.title, "topic_html_title": html.escape(topic.title),
                     "category_id": topic.category_id, "flair_group_id": None, "badges_granted": [],
                     "can_see_hidden_post": False, "excerpt": html.escape(post.raw[:300]),
                     "truncated": len(post.raw) > 300})
        return body

    def webhook_post_json(self, post: ForumPost, base_url: str) -> dict[str, Any]:
        """The ``post`` object of a ``post_created`` webhook (WebHookPostSerializer)."""
        topic = self.topics[post.topic_id]
        body = self.post_json(post, base_url)
        for hidden in ("can_edit", "can_delete", "can_recover", "can_wiki", "actions_summary",
                       "can_view_edit_history", "yours", "flair_url", "flair_bg_color", "flair_color"):
            body.pop(hidden, None)
        body.update({"topic_title": topic.title, "category_id": topic.category_id,
                     "category_slug": slugify(self.categories[topic.category_id]),
                     "topic_archetype": topic.archetype, "topic_posts_count": len(topic.post_ids),
                     "topic_filtered_posts_count": len(topic.post_ids)})
        return body

    def webhook_topic_json(self, topic: ForumTopic) -> dict[str, Any]:
        user = self.user_by_id(topic.user_id)
        return {"id": topic.id, "title": topic.title, "fancy_title": html.escape(topic.title),
                "posts_count": len(topic.post_ids), "created_at": iso(topic.created_at), "slug": topic.slug,
                "category_id": topic.category_id, "archetype": topic.archetype, "tags": list(topic.tags),
                "user_id": user.id, "created_by": {"id": user.id, "username": user.username,
                                                   "name": user.name, "avatar_template": ""}}

    def topic_json(self, topic: ForumTopic, base_url: str) -> dict[str, Any]:
        """``GET /t/{id}.json``: the first 20 posts and the whole stream of ids, as Discourse chunks it."""
        user = self.user_by_id(topic.user_id)
        last = self.posts[topic.post_ids[-1]] if topic.post_ids else None
        posts = []
        for post_id in topic.post_ids[:20]:
            body = self.post_json(self.posts[post_id], base_url)
            for absent in ("posts_count", "raw", "post_url"):
                body.pop(absent)
            body.update({"link_counts": [], "read": True, "reviewable_id": 0})  # the topic view says 0, not null
            posts.append(body)
        brief = {"id": user.id, "username": user.username, "name": user.name, "avatar_template": ""}
        return {
            "post_stream": {"posts": posts, "stream": list(topic.post_ids)},
            "timeline_lookup": [], "suggested_topics": [],
            "tags": [{"id": i + 1, "name": t, "slug": t} for i, t in enumerate(topic.tags)], "tags_descriptions": {},
            "id": topic.id, "title": topic.title, "fancy_title": html.escape(topic.title),
            "posts_count": len(topic.post_ids), "created_at": iso(topic.created_at), "views": 1,
            "reply_count": max(0, len(topic.post_ids) - 1), "like_count": 0,
            "last_posted_at": iso(last.created_at) if last else None, "visible": True, "closed": False,
            "archived": False, "has_summary": False, "archetype": topic.archetype, "slug": topic.slug,
            "category_id": topic.category_id, "word_count": 0, "deleted_at": None, "user_id": user.id,
            "featured_link": None, "pinned_globally": False, "pinned_at": None, "pinned_until": None,
            "image_url": None, "slow_mode_seconds": 0, "draft": None, "draft_key": f"topic_{topic.id}",
            "draft_sequence": 0, "unpinned": None, "pinned": False, "highest_post_number": len(topic.post_ids),
            "deleted_by": None, "has_deleted": False, "actions_summary": [], "chunk_size": 20, "bookmarked": False,
            "bookmarks": [], "topic_timer": None, "message_bus_last_id": 0, "participant_count": 1,
            "show_read_indicator": False, "thumbnails": None, "slow_mode_enabled_until": None,
            "details": {"can_edit": False, "notification_level": 1, "can_move_posts": False, "can_delete": False,
                        "can_remove_allowed_users": False, "can_create_post": True, "can_reply_as_new_topic": True,
                        "can_convert_topic": False, "can_review_topic": False, "can_close_topic": False,
                        "can_archive_topic": False, "can_split_merge_topic": False, "can_edit_staff_notes": False,
                        "can_toggle_topic_visibility": False, "can_pin_unpin_topic": False,
                        "can_moderate_category": False, "can_remove_self_id": user.id,
                        "created_by": brief, "last_poster": brief},
        }
