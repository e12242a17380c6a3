"""The public timeline: accounts and their posts, as X stores them.

A post gets a snowflake id, its links rewritten to t.co, its entities, a conversation
(the root of its reply chain) and reply/quote counters on the posts it refers to.
Deleted posts stay as tombstones so a reply to them is refused like on X.

Memory is bounded: the timeline keeps its newest ``max_tweets`` posts (tombstones
included); older ones are forgotten, like X's search window forgets old posts.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from socialdesk.sandbox.x.entities import LinkShortener, cashtag_entities, hashtag_entities, mention_entities
from socialdesk.sandbox.x.ids import SnowflakeIds
from socialdesk.sandbox.x.language import guess_lang
from socialdesk.plugins.x.weighted_length import normalize

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
EDIT_WINDOW_SECONDS = 3600  # X lets a post be edited for an hour, five times


def iso_millis(epoch: float) -> str:
    """``2026-11-02T09:00:00.000Z``: X's timestamp format."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class XUser:
    id: str
    username: str
    name: str
    created_at: str
    followers: int = 0
    following: int = 0
    verified: bool = False
    description: str = ""
    location: str | None = None
    url: str | None = None
    protected: bool = False
    listed: int = 0
    tweet_count: int = 0
    most_recent_tweet_id: str | None = None

    @property
    def profile_image_url(self) -> str:
        return f"https://pbs.twimg.com/profile_images/{self.id}/{self.username}_normal.png"

    def as_dict(self) -> dict[str, Any]:
        """Every user field the sandbox knows, in X API v2 names."""
        user: dict[str, Any] = {
            "id": self.id, "name": self.name, "username": self.username, "created_at": self.created_at,
            "description": self.description, "profile_image_url": self.profile_image_url,
            "protected": self.protected, "verified": self.verified,
            "verified_type": "blue" if self.verified else "none",
            "url": self.url or "",
            "public_metrics": {"followers_count": self.followers, "following_count": self.following,
                               "tweet_count": self.tweet_count, "listed_count": self.listed,
                               "like_count": 0, "media_count": 0},
        }
        if self.location:
            user["location"] = self.location
        if self.most_recent_tweet_id:
            user["most_recent_tweet_id"] = self.most_recent_tweet_id
        return user


@dataclass
class XMedia:
    """A photo, video or GIF attached to a post, as X describes it under ``includes.media``."""

    media_key: str  # "3_<id>" for photos, "7_<id>" videos, "16_<id>" animated GIFs
    type: str  # photo | video | animated_gif
    url: str | None = None  # photos only: https://pbs.twimg.com/media/....jpg
    preview_image_url: str | None = None  # videos and GIFs: a still
    alt_text: str | None = None
    width: int = 1200
    height: int = 800
    duration_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        media: dict[str, Any] = {"media_key": self.media_key, "type": self.type, "width": self.width,
                                 "height": self.height}
        for name in ("url", "preview_image_url", "alt_text", "duration_ms"):
            value = getattr(self, name)
            if value is not None:
                media[name] = value
        return media


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str  # as stored by X: NFC, links rewritten to t.co
    source_text: str  # as written, for the duplicate-content check
    created_epoch: float
    conversation_id: str
    lang: str
    entities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    quoted_tweet_id: str | None = None
    reply_count: int = 0
    quote_count: int = 0
    deleted: bool = False
    media: list[XMedia] = field(default_factory=list)

    @property
    def created_at(self) -> str:
        return iso_millis(self.created_epoch)

    @property
    def referenced_tweets(self) -> list[dict[str, str]]:
        refs = []
        if self.quoted_tweet_id:
            refs.append({"type": "quoted", "id": self.quoted_tweet_id})
        if self.in_reply_to_tweet_id:
            refs.append({"type": "replied_to", "id": self.in_reply_to_tweet_id})
        return refs

    def mentions(self, username: str) -> bool:
        wanted = username.lower()
        return any(m["username"].lower() == wanted for m in self.entities.get("mentions", ()))

    def as_dict(self) -> dict[str, Any]:
        """Every post field the sandbox knows, in X API v2 names (absent fields left out, like X)."""
        tweet: dict[str, Any] = {
            "id": self.id, "text": self.text, "edit_history_tweet_ids": [self.id],
            "author_id": self.author_id, "conversation_id": self.conversation_id,
            "created_at": self.created_at, "lang": self.lang,
            "possibly_sensitive": False, "reply_settings": "everyone",
            "display_text_range": [0, len(self.text)],
            "edit_controls": {"edits_remaining": 5, "is_edit_eligible": True,
                              "editable_until": iso_millis(self.created_epoch + EDIT_WINDOW_SECONDS)},
            "public_metrics": {"retweet_count": 0, "reply_count": self.reply_count, "like_count": 0,
                               "quote_count": self.quote_count, "bookmark_count": 0, "impression_count": 0},
        }
        if self.entities:
            tweet["entities"] = {kind: [dict(e) for e in items] for kind, items in self.entities.items()}
        if self.in_reply_to_user_id:
            tweet["in_reply_to_user_id"] = self.in_reply_to_user_id
        if self.referenced_tweets:
            tweet["referenced_tweets"] = self.referenced_tweets
        if self.media:
            tweet["attachments"] = {"media_keys": [m.media_key for m in self.media]}
        return tweet


class PublicTimeline:
    def __init__(self, clock: Callable[[], float], max_tweets: int = 50_000) -> None:
        self.clock = clock
        self.max_tweets = max_tweets
        self.ids = SnowflakeIds(clock)
        self._links = LinkShortener()
        self._users: dict[str, XUser] = {}
        self._by_username: dict[str, str] = {}
        self._tweets: OrderedDict[str, Tweet] = OrderedDict()  # oldest first; ids grow with time

    # --- accounts -----------------------------------------------------------------------
    def add_user(self, username: str, name: str | None = None, *, followers: int = 0, following: int = 0,
                 verified: bool = False, description: str = "", location: str | None = None,
                 url: str | None = None, protected: bool = False, user_id: str | None = None) -> XUser:
        if not USERNAME.match(username):
            raise ValueError(f"{username!r} is not a valid X username (1-15 letters, digits or _)")
        if username.lower() in self._by_username:
            raise ValueError(f"the username @{username} is taken")
        user = XUser(id=user_id or self.ids.next(), username=username, name=name or username,
                     created_at=iso_millis(self.clock()), followers=followers, following=following,
                     verified=verified, description=description, location=location, url=url, protected=protected)
        if user.id in self._users:
            raise ValueError(f"user id {user.id} is taken")
        self._users[user.id] = user
        self._by_username[username.lower()] = user.id
        return user

    def user(self, user_id: str) -> XUser | None:
        return self._users.get(user_id)

    def user_by_username(self, username: str) -> XUser | None:
        user_id = self._by_username.get(username.lstrip("@").lower())
        return self._users[user_id] if user_id else None

    # --- posts --------------------------------------------------------------------------
    def post(self, author: XUser, text: str, *, in_reply_to: str | None = None, quote: str | None = None,
             lang: str | None = None, media: list[XMedia] | None = None) -> Tweet:
        """Store a post; ``LookupError`` when the post replied to or quoted is gone."""
        parent = self.get(in_reply_to) if in_reply_to else None
        if in_reply_to and parent is None:
            raise LookupError(f"post {in_reply_to} is deleted or unknown")
        quoted = self.get(quote) if quote else None
        if quote and quoted is None:
            raise LookupError(f"post {quote} is deleted or unknown")
        source = normalize(text)
        stored, links = self._links.shorten(source)
        entities: dict[str, list[dict[str, Any]]] = {}
        mentions = mention_entities(stored, links)
        for mention in mentions:
            mentioned = self.user_by_username(mention["username"])
            if mentioned is not None:
                mention["id"] = mentioned.id
        for kind, items in (("urls", links), ("mentions", mentions), ("hashtags", hashtag_entities(stored, links)),
                            ("cashtags", cashtag_entities(stored, links))):
            if items:
                entities[kind] = items
        tweet_id = self.ids.next()
        tweet = Tweet(id=tweet_id, author_id=author.id, text=stored, source_text=source,
                      created_epoch=self.clock(), conversation_id=parent.conversation_id if parent else tweet_id,
                      lang=lang or guess_lang(source), entities=entities,
                      in_reply_to_tweet_id=parent.id if parent else None,
                      in_reply_to_user_id=parent.author_id if parent else None,
                      quoted_tweet_id=quoted.id if quoted else None, media=list(media or ()))
        if parent:
            parent.reply_count += 1
        if quoted:
            quoted.quote_count += 1
        author.tweet_count += 1
        author.most_recent_tweet_id = tweet_id
        self._tweets[tweet_id] = tweet
        while len(self._tweets) > self.max_tweets:
            self._tweets.popitem(last=False)
        return tweet

    def delete(self, tweet_id: str) -> Tweet:
        """Turn a live post into a tombstone; ``LookupError`` when there is no such live post."""
        tweet = self.get(tweet_id)
        if tweet is None:
            raise LookupError(f"post {tweet_id} is deleted or unknown")
        tweet.deleted = True
        for ref_id, counter in ((tweet.in_reply_to_tweet_id, "reply_count"), (tweet.quoted_tweet_id, "quote_count")):
            ref = self._tweets.get(ref_id) if ref_id else None
            if ref is not None:
                setattr(ref, counter, max(getattr(ref, counter) - 1, 0))
        author = self._users.get(tweet.author_id)
        if author is not None:
            author.tweet_count = max(author.tweet_count - 1, 0)
        return tweet

    def get(self, tweet_id: str | None) -> Tweet | None:
        """The live post with that id, or None (unknown, forgotten or deleted)."""
        tweet = self._tweets.get(tweet_id) if tweet_id else None
        return tweet if tweet is not None and not tweet.deleted else None

    def get_any(self, tweet_id: str) -> Tweet | None:
        """The post with that id, deleted or not."""
        return self._tweets.get(tweet_id)

    def newest_first(self) -> Iterator[Tweet]:
        """Live posts, newest first."""
        return (t for t in reversed(self._tweets.values()) if not t.deleted)

    def oldest_first(self) -> Iterator[Tweet]:
        return (t for t in self._tweets.values() if not t.deleted)

    def recent_duplicate(self, author_id: str, source_text: str, since_epoch: float) -> Tweet | None:
        """A live post by the same author with the same text, created at or after ``since_epoch``."""
        wanted = normalize(source_text).strip()
        for tweet in reversed(self._tweets.values()):
            if tweet.created_epoch < since_epoch:
                return None
            if not tweet.deleted and tweet.author_id == author_id and tweet.source_text.strip() == wanted:
                return tweet
        return None
