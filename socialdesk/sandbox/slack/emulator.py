"""SlackEmulator: Slack's Web API, Socket Mode and response URLs on 127.0.0.1, for tests and the demo.

    async with SlackEmulator() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await client.chat_postMessage(channel="C0SOCIAL01", text="hi")
        slack.timeline("C0SOCIAL01")[-1].text == "hi"

Routes: ``/api/<method>`` (Web API), ``/link/`` (Socket Mode websocket),
``/commands/...`` and ``/actions/...`` (response URLs), ``/upload/v1/<key>`` (file
upload URLs), ``/archives/<channel>/p<ts>`` (permalinks, answered with the message).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.slack import (
    chat_methods,
    conversation_methods,
    directory_methods,
    file_info,
    file_methods,
    home_tabs,
    view_methods,
)
from socialdesk.sandbox.slack.api_request import ApiCall
from socialdesk.sandbox.slack.driver import SlackDriver
from socialdesk.sandbox.slack.files import UploadedFile
from socialdesk.sandbox.slack.modals import View
from socialdesk.sandbox.slack.ratelimit import RateLimiter, RateLimits
from socialdesk.sandbox.slack.responses import ResponseRejected, ResponseUrls, apply_response
from socialdesk.sandbox.slack.socket_mode import WS_PATH, Ack, SocketModeHub
from socialdesk.sandbox.slack.state import Credentials, SlackState
from socialdesk.sandbox.slack.timeline import Ephemeral, Message, TimelineCaps
from socialdesk.sandbox.slack.web_api import WebApi, ratelimited, slack_json
from socialdesk.sandbox.slack.workspace import BotIdentity, SlackChannel, SlackUser, Team, UserGroup, Workspace
from socialdesk.sandbox.traffic import TrafficRecorder


class SlackEmulator(EmulatorServer):
    name = "slack"

    def __init__(
        self,
        *,
        bot_tokens: Iterable[str] | None = None,
        app_token: str | None = None,
        signing_secret: str | None = None,
        verification_token: str | None = None,
        bot_scopes: Iterable[str] | None = None,
        users: Iterable[SlackUser] | None = None,
        channels: Iterable[SlackChannel] | None = None,
        usergroups: Iterable[UserGroup] | None = None,
        team: Team | None = None,
        bot: BotIdentity | None = None,
        rate_limits: RateLimits | None = None,
        caps: TimelineCaps | None = None,
        trigger_ttl: float = 3.0,
        legacy_files_upload: bool = False,
        clock: Callable[[], float] = time.time,
        recorder: TrafficRecorder | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        """Everything is optional: left out, you get the demo workspace and sandbox credentials.

        ``users``/``channels``/``usergroups`` replace the demo ones (the bot user is always
        added). ``bot_scopes`` are the bot token's scopes (default: all a desk may need);
        a method needing another answers ``missing_scope``. ``rate_limits`` tunes chat.postMessage's per-channel bucket and the method
        tiers (``RateLimits.off()`` disables them). ``clock`` drives message ts values and
        the expiry of trigger ids and response URLs.
        """
        super().__init__(recorder=recorder, faults=faults)
        defaults = Credentials()
        self.credentials = Credentials(
            bot_tokens=tuple(bot_tokens) if bot_tokens is not None else defaults.bot_tokens,
            app_token=app_token or defaults.app_token,
            signing_secret=signing_secret or defaults.signing_secret,
            verification_token=verification_token or defaults.verification_token,
            bot_scopes=tuple(bot_scopes) if bot_scopes is not None else None,
        )
        workspace = Workspace.build(team=team, bot=bot, users=users, channels=channels, usergroups=usergroups)
        self.state = SlackState(workspace, self.credentials, caps=caps or TimelineCaps(), clock=clock,
                                trigger_ttl=trigger_ttl, legacy_files_upload=legacy_files_upload)
        self.limiter = RateLimiter(rate_limits or RateLimits())
        self.socket_mode = SocketModeHub(self.state, self.recorder, self.name)
        self.response_urls = ResponseUrls()
        methods = {**chat_methods.METHODS, **view_methods.METHODS, **directory_methods.METHODS,
                   **conversation_methods.METHODS, **file_methods.METHODS, **file_info.METHODS,
                   **home_tabs.METHODS,
                   "apps.connections.open": self.socket_mode.connections_open}
        self.web_api = WebApi(self.state, self.limiter, methods)

    # --- server -------------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self.web_api.handle)
        app.router.add_get(WS_PATH, self.socket_mode.handle)
        app.router.add_post("/upload/v1/{key}", self._upload)
        app.router.add_post(r"/{kind:commands|actions}/{team}/{serial}/{key}", self._response_url)
        app.router.add_get(r"/archives/{channel}/p{digits:\d{16}}", self._permalink)
        app.on_shutdown.append(self._close_sockets)

    async def _close_sockets(self, app: web.Application) -> None:
        await self.socket_mode.close()

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        """Slack's answers for injected faults: 429 with Retry-After, 500 with an error body."""
        if status == 429:
            retry_after = max(0, math.ceil(self.faults.retry_after_seconds))
            if request.path.startswith("/api/"):
                return ratelimited(retry_after)
            return web.Response(status=429, text="rate_limited", headers={"Retry-After": str(retry_after)})
        if request.path.startswith("/api/"):
            return slack_json({"ok": False, "error": "internal_error"}, status=status)
        return web.Response(status=status, text="internal_error", content_type="text/plain")

    async def start(self, port: int = 0) -> SlackEmulator:
        await super().start(port)
        self.state.base_url = self.base_url
        return self

    async def stop(self) -> None:
        await self.socket_mode.close()
        await super().stop()

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    # --- endpoints besides the Web API --------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        return await file_methods.receive_upload(self.state, request)

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            target = self.response_urls.take(request.match_info["key"], self.state.clock())
            try:
                payload = await request.json()
            except ValueError:
                raise ResponseRejected(400, "invalid_payload") from None
            if not isinstance(payload, dict):
                raise ResponseRejected(400, "invalid_payload")
            apply_response(self.state, channel_id=target.channel, user=target.user, payload=payload,
                           source="response_url", original_ts=target.message_ts)
        except ResponseRejected as rejected:
            return web.Response(status=rejected.status, text=rejected.reason, content_type="text/plain")
        return web.Response(text="ok", content_type="text/plain")

    async def _permalink(self, request: web.Request) -> web.Response:
        digits = request.match_info["digits"]
        message = self.state.timeline(request.match_info["channel"]).get(f"{digits[:10]}.{digits[10:]}")
        if message is None or message.deleted:
            return web.Response(status=404, text="message not found", content_type="text/plain")
        return web.json_response(message.as_slack(self.state.workspace))

    # --- for tests and the demo -------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What to pass as slack_sdk's ``base_url``."""
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        return self.credentials.bot_tokens[0]

    @property
    def app_token(self) -> str:
        return self.credentials.app_token

    @property
    def signing_secret(self) -> str:
        return self.credentials.signing_secret

    @property
    def workspace(self) -> Workspace:
        return self.state.workspace

    def driver(self, request_url: str | None = None, *, ack_timeout: float = 3.0) -> SlackDriver:
        """Act as Slack towards the app: over HTTP to ``request_url``, or over Socket Mode without one."""
        return SlackDriver(self, request_url, ack_timeout=ack_timeout)

    def trigger_id(self, user: str) -> str:
        """A fresh trigger_id for ``user``, as an interaction would carry (single use, valid ``trigger_ttl``)."""
        return self.state.issue_trigger(user)

    def response_url(self, channel: str, user: str, *, kind: str = "commands", message_ts: str | None = None) -> str:
        """A response_url as a slash command (``commands``) or a click on ``message_ts`` (``actions``) carries."""
        return self.response_urls.issue(self.state, kind, channel=self._channel_id(channel), user=user,
                                        message_ts=message_ts)

    def post_as(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> Message:
        """A person's message in the timeline, without telling any app (see ``SlackDriver.write``)."""
        if user not in self.state.workspace.users:
            raise LookupError(f"no user {user} in the sandbox workspace")
        where = self.state.resolve_channel(channel, for_posting=False)
        return self.state.post(where, text=text, user=user, thread_ts=thread_ts, source="user")

    def timeline(self, channel: str) -> list[Message]:
        """The channel's messages, oldest first; each carries its ``replies`` and edit ``history``."""
        return self.state.timeline(self._channel_id(channel)).messages()

    def thread(self, channel: str, ts: str) -> list[Message]:
        """A thread as conversations.replies lists it: parent first, then replies."""
        return self.state.timeline(self._channel_id(channel)).thread(ts)

    def message(self, channel: str, ts: str) -> Message | None:
        return self.state.timeline(self._channel_id(channel)).get(ts)

    def ephemerals(self, channel: str, user: str | None = None) -> list[Ephemeral]:
        return self.state.timeline(self._channel_id(channel)).ephemerals(user)

    def dm(self, user: str) -> list[Message]:
        """Messages the bot sent to ``user`` directly."""
        return self.timeline(self.state.workspace.dm_channel(user).id)

    @property
    def views(self) -> list[View]:
        """Modals opened so far (open and closed), oldest first."""
        return self.state.views.all()

    def view(self, view_id: str) -> View | None:
        return self.state.views.get(view_id)

    def home(self, user: str) -> View | None:
        """The Home tab view published for ``user`` (its ``history`` holds earlier publishes)."""
        return self.state.homes.of(user)

    @property
    def files(self) -> list[UploadedFile]:
        return self.state.files.all()

    @property
    def acks(self) -> list[Ack]:
        """Socket Mode acks received, with how long each took."""
        return list(self.socket_mode.acks)

    @property
    def api_calls(self) -> list[ApiCall]:
        """Web API calls received (method, params, where the token came from; never the token)."""
        return list(self.state.api_calls)

    @property
    def rate_limited(self) -> int:
        """How many calls the rate limiter answered 429 (injected faults not included)."""
        return self.limiter.limited

    def _channel_id(self, channel: str) -> str:
        found = self.state.workspace.find_channel(channel)
        return found.id if found else channel
