"""Reddit's state and the JSON its listings carry.

Ids are base36 and grow with time, as Reddit's do; one sequence per kind. A comment that
names ``u/<account>`` lands in that account's mentions; a reply to an account's comment
in its comment replies (``/message/comments``).
"""

from __future__ import annotations

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

    def submit(self, author: str, subreddit: str, title: str, selftext: str = "") -> Thing:
        thing = Thing(self._id("t3"), "t3", author, self.clock(), subreddit, body=selftext, title=title)
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
                                           "is_self": True, "url": f"https://www.reddit.com{self.permalink(thing)}",
                                           "num_comments": sum(1 for t in self.things.values()
                                                               if t.link_id == thing.name)}}
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
