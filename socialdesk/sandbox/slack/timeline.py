"""Each channel's timeline: messages, thread replies, edits and ephemerals, as tests read them.

Memory is bounded: a channel keeps its newest ``max_messages`` top-level messages (a
dropped message takes its thread with it), each thread its newest ``max_replies``
replies, each message its newest ``max_versions`` earlier versions, and each channel its
newest ``max_ephemerals`` ephemerals.
"""

from __future__ import annotations

import copy
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from socialdesk.sandbox.slack.workspace import Workspace


@dataclass(frozen=True)
class TimelineCaps:
    max_messages: int = 2000
    max_replies: int = 1000
    max_versions: int = 50
    max_ephemerals: int = 500


@dataclass(frozen=True)
class MessageVersion:
    """What a message said before an edit, and who edited it when."""

    text: str
    blocks: list[dict[str, Any]] | None
    replaced_at: str  # ts of the edit that replaced this version
    replaced_by: str


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    source: str = "chat.postMessage"  # the API call or interaction that produced it
    history: list[MessageVersion] = field(default_factory=list)  # earlier versions, oldest first
    replies: list[Message] = field(default_factory=list)
    deleted: bool = False
    parent_user_id: str | None = None  # set by the timeline when the message is a reply

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def edited(self) -> dict[str, str] | None:
        if not self.history:
            return None
        last = self.history[-1]
        return {"user": last.replaced_by, "ts": last.replaced_at}

    def as_slack(self, workspace: Workspace, *, in_thread_listing: bool = False) -> dict[str, Any]:
        """The message object Slack returns (chat.postMessage's ``message``, conversations.replies)."""
        out: dict[str, Any] = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts,
                               "team": workspace.team.id}
        if self.deleted:
            out.update(subtype="tombstone", text="This message was deleted.")
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["bot_profile"] = bot_profile(workspace)
        if self.blocks is not None and not self.deleted:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments and not self.deleted:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.files and not self.deleted:
            out["files"] = copy.deepcopy(self.files)
            out["upload"] = False
        if self.edited and not self.deleted:
            out["edited"] = self.edited
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.is_reply:
            out["parent_user_id"] = self.parent_user_id or self.user
            if self.reply_broadcast:
                out["subtype"] = "thread_broadcast"
        elif self.replies or in_thread_listing:
            live = [r for r in self.replies if not r.deleted]
            users = list(dict.fromkeys(r.user for r in live))
            out.update(thread_ts=self.ts, reply_count=len(live), reply_users_count=len(users),
                       subscribed=False)
            if users:
                out["reply_users"] = users
            if live:
                out["latest_reply"] = live[-1].ts
        return out


@dataclass(frozen=True)
class Ephemeral:
    """A message only ``user`` sees: chat.postEphemeral, a response_url post or a command's reply."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"


def bot_profile(workspace: Workspace) -> dict[str, Any]:
    icon = "https://a.slack-edge.com/80588/img/plugins/app/bot_{}.png"
    return {
        "id": workspace.bot.bot_id, "deleted": False, "name": workspace.bot.name, "updated": 1700000000,
        "app_id": workspace.bot.app_id, "team_id": workspace.team.id,
        "icons": {"image_36": icon.format(36), "image_48": icon.format(48), "image_72": icon.format(72)},
    }


class ChannelTimeline:
    """One channel's messages in ts order, with threads attached to their parents."""

    def __init__(self, channel: str, caps: TimelineCaps) -> None:
        self.channel = channel
        self.caps = caps
        self._roots: OrderedDict[str, Message] = OrderedDict()
        self._index: dict[str, Message] = {}
        self._ephemerals: deque[Ephemeral] = deque(maxlen=caps.max_ephemerals)

    def get(self, ts: str) -> Message | None:
        return self._index.get(ts)

    def root_of(self, ts: str) -> Message | None:
        """The thread parent for ``ts``: itself for a top-level message, its parent for a reply."""
        message = self._index.get(ts)
        if message is None:
            return None
        if message.is_reply and message.thread_ts:
            return self._index.get(message.thread_ts)
        return message

    def add(self, message: Message) -> Message:
        if message.is_reply and message.thread_ts:
            parent = self._index[message.thread_ts]
            message.parent_user_id = parent.user
            parent.replies.append(message)
            if len(parent.replies) > self.caps.max_replies:
                dropped = parent.replies.pop(0)
                self._index.pop(dropped.ts, None)
        else:
            self._roots[message.ts] = message
            while len(self._roots) > self.caps.max_messages:
                _, dropped = self._roots.popitem(last=False)
                self._index.pop(dropped.ts, None)
                for reply in dropped.replies:
                    self._index.pop(reply.ts, None)
        self._index[message.ts] = message
        return message

    def edit(self, message: Message, *, text: str, blocks: list[dict[str, Any]] | None,
             edited_at: str, edited_by: str) -> None:
        message.history.append(MessageVersion(message.text, message.blocks, edited_at, edited_by))
        del message.history[: -self.caps.max_versions]
        message.text = text
        message.blocks = blocks

    def delete(self, message: Message) -> None:
        """Remove a message; a parent with live replies stays as a tombstone, as on Slack."""
        if message.is_reply and message.thread_ts:
            parent = self._index.get(message.thread_ts)
            if parent is not None:
                parent.replies = [r for r in parent.replies if r.ts != message.ts]
            self._index.pop(message.ts, None)
            return
        if any(not r.deleted for r in message.replies):
            message.deleted = True
            return
        self._roots.pop(message.ts, None)
        self._index.pop(message.ts, None)

    def messages(self) -> list[Message]:
        """Top-level messages (and replies broadcast to the channel), oldest first."""
        out: list[Message] = []
        for root in self._roots.values():
            out.append(root)
            out.extend(r for r in root.replies if r.reply_broadcast)
        return sorted(out, key=lambda m: m.ts)  # same-width ts strings sort like numbers

    def thread(self, ts: str) -> list[Message]:
        root = self.root_of(ts)
        if root is None:
            return []
        return [root, *root.replies]

    def add_ephemeral(self, ephemeral: Ephemeral) -> None:
        self._ephemerals.append(ephemeral)

    def ephemerals(self, user: str | None = None) -> list[Ephemeral]:
        return [e for e in self._ephemerals if user is None or e.user == user]
