"""Reddit's state and the JSON its listings carry.

Ids are base36 and grow with time, as Reddit's do; one sequence per kind. A comment that
names ``u/<account>`` lands in that account's mentions; a reply to an account's comment
in its comment replies (``/message/comments``). A post may show an image, a video or a
gallery, written into the listing as Reddit writes them (``post_hint``, ``preview``,
``media.reddit_video``, ``gallery_data`` and ``media_metadata``, URLs HTML-escaped).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})")
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = BASE36[rest] + digits
        if number == 0:
            return digits


@dataclass
class Thing:
    id: str
    kind: str  # t1 or t3
    author: str
    created_utc: float
    subreddit: str
    body: str = ""  # t1
    title: str = ""  # t3
    link_id: str = ""  # t1: the submission's fullname
    parent_id: str = ""  # t1: the parent's fullname
    locked: bool = False
    deleted: bool = False
    shows: dict[str, Any] = field(default_factory=dict)  # t3: the listing fields of its image, video or gallery

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.id}"


@dataclass
class Site:
    clock: Callable[[], float]
    things: dict[str, Thing] = field(default_factory=dict)  # fullname -> thing
    mentions: dict[str, list[str]] = field(default_factory=dict)  # account -> comment fullnames
    replies: dict[str, list[str]] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=lambda: {"t1": 36 ** 5, "t3": 36 ** 4})

    def _id(self, kind: str) -> str:
        self._next[kind] += 1
        return base36(self._next[kind])

    def submit(self, author: str, subreddit: str, title: str, selftext: str = "",
               shows: dict[str, Any] | None = None) -> Thing:
        thing = Thing(self._id("t3"), "t3", author, self.clock(), subreddit, body=selftext, title=title,
                      shows=dict(shows or {}))
        self.things[thing.name] = thing
        return thing

    def comment(self, author: str, parent: Thing, body: str) -> Thing:
        link = parent if parent.kind == "t3" else self.things[parent.link_id]
        thing = Thing(self._id("t1"), "t1", author, self.clock(), link.subreddit, body=body, link_id=link.name,
                      parent_id=parent.name)
        self.things[thing.name] = thing
        for account in {m.lower() for m in _MENTION.findall(body)}:
            if account != author.lower():
                self.mentions.setdefault(account, []).append(thing.name)
        if parent.kind == "t1" and parent.author.lower() != author.lower():
            self.replies.setdefault(parent.author.lower(), []).append(thing.name)
        return thing

    def permalink(self, thing: Thing) -> str:
        link = thing if thing.kind == "t3" else self.things[thing.link_id]
        slug = re.sub(r"[^a-z0-9]+", "_", link.title.lower()).strip("_")[:50] or "_"
        base = f"/r/{link.subreddit}/comments/{link.id}/{slug}/"
        return base if thing.kind == "t3" else f"{base}{thing.id}/"

    def json(self, thing: Thing) -> dict[str, Any]:
        """A listing child, as ``/r/{sub}/comments``, ``/r/{sub}/new`` and ``/api/comment`` write it."""
        common = {"id": thing.id, "name": thing.name, "author": "[deleted]" if thing.deleted else thing.author,
                  "created_utc": thing.created_utc, "created": thing.created_utc, "subreddit": thing.subreddit,
                  "subreddit_name_prefixed": f"r/{thing.subreddit}", "permalink": self.permalink(thing),
                  "score": 1, "locked": thing.locked, "archived": False, "stickied": False}
        if thing.kind == "t3":
            return {"kind": "t3", "data": {**common, "title": thing.title, "selftext": thing.body,
                                           "is_self": not thing.shows, "is_video": False,
                                           "url": f"https://www.reddit.com{self.permalink(thing)}",
                                           "num_comments": sum(1 for t in self.things.values()
                                                               if t.link_id == thing.name), **thing.shows}}
        link = self.things[thing.link_id]
        return {"kind": "t1", "data": {**common, "body": "[deleted]" if thing.deleted else thing.body,
                                       "link_id": thing.link_id, "parent_id": thing.parent_id,
                                       "link_title": link.title, "replies": "", "depth": 0}}

    def inbox_json(self, thing: Thing, account: str, kind: str) -> dict[str, Any]:
        """An inbox item (``/message/mentions``, ``/message/comments``): a comment told as a message."""
        link = self.things[thing.link_id]
        return {"kind": "t1", "data": {
            "id": thing.id, "name": thing.name, "author": thing.author, "body": thing.body, "dest": account,
            "created_utc": thing.created_utc, "created": thing.created_utc, "subreddit": thing.subreddit,
            "context": f"{self.permalink(thing)}?context=3", "link_title": link.title,
            "parent_id": thing.parent_id, "was_comment": True, "new": True, "type": kind,
            "subject": "username mention" if kind == "username_mention" else "comment reply",
            "first_message": None, "first_message_name": None, "replies": ""}}


def _source(url: str, width: int, height: int) -> dict[str, Any]:
    return {"url": html.escape(url, quote=False), "width": width, "height": height}


def _preview(url: str, width: int, height: int) -> dict[str, Any]:
    return {"images": [{"source": _source(url, width, height), "resolutions": [], "variants": {},
                        "id": url.rsplit("/", 1)[-1].split(".")[0]}], "enabled": True}


def image_post(url: str, width: int, height: int) -> dict[str, Any]:
    """What a post of one uploaded image shows."""
    return {"post_hint": "image", "url": url, "domain": "i.redd.it", "preview": _preview(url, width, height)}


def video_post(url: str, width: int, height: int, still: str) -> dict[str, Any]:
    """What a post of one uploaded video shows: Reddit's player, its fallback MP4 and a still."""
    video = {"fallback_url": url, "width": width, "height": height, "duration": 12, "is_gif": False,
             "has_audio": True, "transcoding_status": "completed"}
    return {"post_hint": "hosted:video", "is_video": True, "domain": "v.redd.it", "media": {"reddit_video": video},
            "secure_media": {"reddit_video": video}, "preview": _preview(still, width, height)}


def gallery_post(items: list[tuple[str, str, int, int, str | None]], *, processing: tuple[str, ...] = ()
                 ) -> dict[str, Any]:
    """What a gallery shows: items as (media id, url, width, height, caption), in order;
    ``processing`` lists ids Reddit is still working on (no source yet)."""
    metadata: dict[str, Any] = {}
    for media_id, url, width, height, _ in items:
        if media_id in processing:
            metadata[media_id] = {"status": "unprocessed", "id": media_id}
        else:
            metadata[media_id] = {"status": "valid", "e": "Image", "m": "image/jpg", "p": [],
                                  "s": {"y": height, "x": width, "u": html.escape(url, quote=False)}, "id": media_id}
    gallery = [{"media_id": media_id, "id": n, **({"caption": caption} if caption else {})}
               for n, (media_id, _, _, _, caption) in enumerate(items, start=1)]
    return {"is_gallery": True, "domain": "reddit.com", "gallery_data": {"items": gallery},
            "media_metadata": metadata}
