"""The sandbox's slice of the Bluesky network: accounts, posts and the notifications they cause.

Who is notified, as the AppView does it: a reply notifies the author of the post it
answers (``reply``) and the thread root's author; a quote notifies the quoted author
(``quote``); a mention facet notifies the mentioned account (``mention``) unless it was
already notified for this post. Nobody is notified of their own posts. Notifications
are served newest first by ``indexedAt`` (the time the AppView saw the post).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from socialdesk.sandbox.bluesky.ids import COLLECTION_POST, TidClock, cid_for, did_for, post_uri, split_uri

_MENTION = re.compile(r"(?:^|[\s(])(@([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]"
                      r"([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)")


def iso(epoch: float) -> str:
    """AT Protocol datetimes: UTC, millisecond precision, Z suffix."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{int(epoch * 1000) % 1000:03d}Z"


@dataclass
class Account:
    did: str
    handle: str
    display_name: str
    password: str  # the account's app password (sandbox-only)
    followers: int = 0
    created_at: str = ""
    seen_at: str | None = None  # updateSeen

    def basic(self) -> dict[str, Any]:
        """app.bsky.actor.defs#profileViewBasic"""
        return {"did": self.did, "handle": self.handle, "displayName": self.display_name,
                "labels": [], "createdAt": self.created_at}

    def view(self) -> dict[str, Any]:
        """app.bsky.actor.defs#profileView"""
        return {**self.basic(), "indexedAt": self.created_at}

    def detailed(self, posts: int) -> dict[str, Any]:
        """app.bsky.actor.defs#profileViewDetailed"""
        return {**self.view(), "followersCount": self.followers, "followsCount": 0, "postsCount": posts}


@dataclass
class Post:
    uri: str
    cid: str
    author: Account
    record: dict[str, Any]
    indexed_epoch: float
    deleted: bool = False
    reply_count: int = 0

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[1]

    @property
    def indexed_at(self) -> str:
        return iso(self.indexed_epoch)

    def parent_uri(self) -> str | None:
        return ((self.record.get("reply") or {}).get("parent") or {}).get("uri")

    def root_uri(self) -> str:
        return ((self.record.get("reply") or {}).get("root") or {}).get("uri") or self.uri

    def strong_ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}

    def view(self) -> dict[str, Any]:
        """app.bsky.feed.defs#postView"""
        return {"uri": self.uri, "cid": self.cid, "author": self.author.basic(), "record": self.record,
                "replyCount": self.reply_count, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": self.indexed_at, "labels": []}


@dataclass
class Notification:
    recipient: str  # DID
    post: Post
    reason: str  # mention | reply | quote
    reason_subject: str | None
    indexed_epoch: float
    sort_key: tuple[float, int] = (0.0, 0)

    def view(self, seen_at: str | None) -> dict[str, Any]:
        """app.bsky.notification.listNotifications#notification"""
        view = {"uri": self.post.uri, "cid": self.post.cid, "author": self.post.author.view(),
                "reason": self.reason, "record": self.post.record,
                "isRead": seen_at is not None and iso(self.indexed_epoch) <= seen_at,
                "indexedAt": iso(self.indexed_epoch), "labels": []}
        if self.reason_subject:
            view["reasonSubject"] = self.reason_subject
        return view


@dataclass
class Network:
    clock: Callable[[], float]
    accounts: dict[str, Account] = field(default_factory=dict)  # by DID
    posts: dict[str, Post] = field(default_factory=dict)  # by URI, oldest first
    notifications: list[Notification] = field(default_factory=list)  # in indexing order
    tids: TidClock = field(default_factory=TidClock)
    _sequence: int = 0

    def add_account(self, handle: str, display_name: str | None = None, *, password: str,
                    followers: int = 0) -> Account:
        handle = handle.lstrip("@").lower()
        if "." not in handle:
            raise ValueError(f"a Bluesky handle is a domain name, such as {handle}.bsky.social")
        if self.by_handle(handle) is not None:
            raise ValueError(f"@{handle} exists already")
        account = Account(did_for(handle), handle, display_name or handle.split(".")[0], password,
                          followers=followers, created_at=iso(self.clock()))
        self.accounts[account.did] = account
        return account

    def by_handle(self, handle: str) -> Account | None:
        handle = handle.lstrip("@").lower()
        return next((a for a in self.accounts.values() if a.handle == handle), None)

    def by_actor(self, actor: str) -> Account | None:
        return self.accounts.get(actor) if actor.startswith("did:") else self.by_handle(actor)

    def get(self, uri: str) -> Post | None:
        post = self.posts.get(uri)
        return post if post is not None and not post.deleted else None

    def mention_facets(self, text: str) -> list[dict[str, Any]]:
        """Facets for @handles of known accounts, as the Bluesky app adds them (UTF-8 byte offsets)."""
        facets = []
        for match in _MENTION.finditer(text):
            account = self.by_handle(match.group(1)[1:])
            if account is None:
                continue
            start = len(text[:match.start(1)].encode())
            end = start + len(match.group(1).encode())
            facets.append({"$type": "app.bsky.richtext.facet", "index": {"byteStart": start, "byteEnd": end},
                           "features": [{"$type": "app.bsky.richtext.facet#mention", "did": account.did}]})
        return facets

    def create_post(self, author: Account, record: dict[str, Any], rkey: str | None = None) -> Post:
        """A post written to ``author``'s repo and indexed now; notifies who it concerns."""
        now = self.clock()
        rkey = rkey or self.tids.next(now)
        uri = post_uri(author.did, rkey)
        if uri in self.posts:
            raise ValueError(f"record {uri} exists already")
        post = Post(uri, cid_for(record), author, record, now)
        self.posts[uri] = post
        parent = self.get(post.parent_uri() or "")
        if parent is not None:
            parent.reply_count += 1
        self._notify(post)
        return post

    def delete_post(self, uri: str) -> None:
        post = self.posts.get(uri)
        if post is None or post.deleted:
            raise LookupError(f"no post {uri}")
        post.deleted = True

    def _notify(self, post: Post) -> None:
        notified: set[str] = {post.author.did}

        def notify(did: str | None, reason: str, subject: str | None) -> None:
            if did is None or did in notified or did not in self.accounts:
                return
            notified.add(did)
            self._sequence += 1
            self.notifications.append(Notification(did, post, reason, subject, post.indexed_epoch,
                                                   (post.indexed_epoch, self._sequence)))

        for ref in (post.parent_uri(), post.root_uri() if post.parent_uri() else None):
            target = self.posts.get(ref or "")
            if target is not None:
                notify(target.author.did, "reply", None)
        embed = post.record.get("embed") or {}
        quoted = (embed.get("record") or {}).get("uri") if embed.get("$type") == "app.bsky.embed.record" else None
        target = self.posts.get(quoted or "")
        if target is not None:
            notify(target.author.did, "quote", target.uri)
        for facet in post.record.get("facets") or ():
            for feature in facet.get("features") or ():
                if feature.get("$type") == "app.bsky.richtext.facet#mention":
                    notify(feature.get("did"), "mention", None)

    def notifications_of(self, did: str, reasons: set[str] | None) -> Iterator[Notification]:
        """Newest first."""
        for item in sorted(self.notifications, key=lambda n: n.sort_key, reverse=True):
            if item.recipient == did and not item.post.deleted and (not reasons or item.reason in reasons):
                yield item

    def thread_of(self, uri: str) -> list[Post]:
        """Every live post whose root is ``uri``'s root, oldest first."""
        anchor = self.get(uri)
        if anchor is None:
            return []
        root = anchor.root_uri()
        return [p for p in self.posts.values() if not p.deleted and p.root_uri() == root]

    def replies_to(self, uri: str) -> list[Post]:
        return [p for p in self.posts.values() if not p.deleted and p.parent_uri() == uri]

    def posts_by(self, did: str) -> list[Post]:
        return [p for p in self.posts.values() if not p.deleted and p.author.did == did]


def is_post_uri(uri: str) -> bool:
    parts = split_uri(uri)
    return parts is not None and parts[1] == COLLECTION_POST
