"""Everything the emulated Slack remembers, and the operations several endpoints share.

The Web API methods, response_url posts, command replies and the driver all post into
the same timelines, open the same views and consume the same trigger ids, so these live
in one place. Nothing here knows about HTTP.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError
from socialdesk.sandbox.slack.files import FileStore
from socialdesk.sandbox.slack.ids import IdFactory, TsClock, trigger_id
from socialdesk.sandbox.slack.home_tabs import HomeTabs
from socialdesk.sandbox.slack.modals import ViewStore
from socialdesk.sandbox.slack.timeline import ChannelTimeline, Ephemeral, Message, TimelineCaps
from socialdesk.sandbox.slack.workspace import SlackChannel, Workspace

TS_FORMAT = re.compile(r"^\d{10}\.\d{6}$")


@dataclass(frozen=True)
class Credentials:
    """What the emulator accepts; the desk is configured with the same values."""

    bot_tokens: tuple[str, ...] = ("xoxb-0000000001-sandbox-desk-bot",)
    app_token: str = "xapp-1-A0SOCIALDSK-0000000001-sandbox"
    signing_secret: str = "sandbox-signing-secret-0000000000"
    verification_token: str = "sandbox-verification-token"
    # The bot token's scopes (None: socialdesk.sandbox.slack.scopes.DEFAULT_BOT_SCOPES).
    bot_scopes: tuple[str, ...] | None = None


@dataclass
class Trigger:
    user: str
    issued_at: float
    used: bool = False


class SlackState:
    def __init__(self, workspace: Workspace, credentials: Credentials, *, caps: TimelineCaps,
                 clock: Callable[[], float] = time.time, trigger_ttl: float = 3.0,
                 max_views: int = 500, max_files: int = 200, legacy_files_upload: bool = False) -> None:
        self.workspace = workspace
        self.credentials = credentials
        self.caps = caps
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.legacy_files_upload = legacy_files_upload
        self.ids = IdFactory()
        self.ts = TsClock(clock)
        self.views = ViewStore(self.ids, max_views)
        self.homes = HomeTabs(self.ids)  # App Home tabs (views.publish)
        self.files = FileStore(self.ids, max_files)
        # URL prefixes Slack cannot download an image from (gone, private): a message with an
        # image block pointing there is refused, as Slack refuses it.
        self.unreachable_images: set[str] = set()
        self.base_url = ""  # set once the server listens
        self.api_calls: deque[ApiCall] = deque(maxlen=2000)  # what clients sent, tokens removed
        self._timelines: dict[str, ChannelTimeline] = {}
        self._triggers: OrderedDict[str, Trigger] = OrderedDict()

    # --- channels and timelines -------------------------------------------------------

    def timeline(self, channel_id: str) -> ChannelTimeline:
        timeline = self._timelines.get(channel_id)
        if timeline is None:
            timeline = self._timelines[channel_id] = ChannelTimeline(channel_id, self.caps)
        return timeline

    def resolve_channel(self, ref: str | None, *, for_posting: bool = True) -> SlackChannel:
        """The channel ``ref`` names (id, name, or a user id meaning the bot's DM with them)."""
        if not ref:
            raise ApiError("channel_not_found")
        if ref[0] in "UW" and ref in self.workspace.users:
            return self.workspace.dm_channel(ref)
        channel = self.workspace.find_channel(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.is_private and not channel.bot_is_member:
            raise ApiError("channel_not_found")  # private channels are invisible to non-members
        if for_posting:
            if channel.is_archived:
                raise ApiError("is_archived")
            if not channel.bot_is_member:
                raise ApiError("not_in_channel")
        return channel

    def find_message(self, channel_id: str, ts: str | None) -> Message:
        message = self.timeline(channel_id).get(ts) if ts else None
        if message is None or message.deleted:
            raise ApiError("message_not_found")
        return message

    def post(self, channel: SlackChannel, *, text: str, user: str, blocks: list[dict[str, Any]] | None = None,
             attachments: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
             reply_broadcast: bool = False, files: list[dict[str, Any]] | None = None,
             metadata: dict[str, Any] | None = None, source: str = "chat.postMessage") -> Message:
        """Append a message; a ``thread_ts`` naming no message posts to the channel, as Slack does."""
        timeline = self.timeline(channel.id)
        root = timeline.root_of(thread_ts) if thread_ts else None
        is_bot = user == self.workspace.bot.user_id
        message = Message(
            channel=channel.id, ts=self.ts.next(), text=text, user=user, blocks=blocks, attachments=attachments,
            bot_id=self.workspace.bot.bot_id if is_bot else None,
            thread_ts=root.ts if root is not None and not root.deleted else None,
            reply_broadcast=reply_broadcast and root is not None, files=list(files or []), metadata=metadata,
            source=source,
        )
        return timeline.add(message)

    def post_ephemeral(self, channel: SlackChannel, *, user: str, text: str,
                       blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
                       source: str = "chat.postEphemeral") -> Ephemeral:
        ephemeral = Ephemeral(channel.id, user, self.ts.next(), text, blocks, thread_ts, source)
        self.timeline(channel.id).add_ephemeral(ephemeral)
        return ephemeral

    def permalink(self, channel_id: str, message: Message) -> str:
        link = f"{self.base_url}/archives/{channel_id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel_id}"
        return link

    # --- trigger ids: short-lived, single-use permission to open a modal ---------------

    def issue_trigger(self, user: str) -> str:
        trigger = trigger_id()
        self._triggers[trigger] = Trigger(user, self.clock())
        while len(self._triggers) > 1000:
            self._triggers.popitem(last=False)
        return trigger

    def use_trigger(self, trigger: str | None) -> str:
        """The user a trigger was issued for; Slack's errors if it is unknown, used or expired."""
        if not trigger:
            raise ApiError("invalid_arguments",
                           response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]})
        found = self._triggers.get(trigger)
        if found is None:
            raise ApiError("invalid_trigger_id")
        if found.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - found.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        found.used = True
        return found.user

    # --- bookkeeping ------------------------------------------------------------------

    def remember_call(self, call: ApiCall) -> None:
        self.api_calls.append(call)
