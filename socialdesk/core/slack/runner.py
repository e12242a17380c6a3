"""Running the Bolt app: Socket Mode (the default) or HTTP mode behind a load balancer.

Socket Mode opens a websocket to Slack with the app-level token; nothing listens on a
port. HTTP mode serves Slack's signed requests on ``[plugins.slack.http]`` (Bolt checks
each signature and timestamp) plus ``GET /healthz`` for the load balancer.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.slack.settings import SlackSettings

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
MAX_REQUEST_BYTES = 1024 * 1024  # Slack's payloads are far smaller; refuse anything bigger


class SlackListener:
    def __init__(self, bolt: AsyncApp, settings: SlackSettings, app_token: str | None) -> None:
        self._bolt = bolt
        self._settings = settings
        self._app_token = app_token
        self._socket: AsyncSocketModeHandler | None = None
        self._site: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def request_url(self) -> str | None:
        """Where Slack (or the sandbox driver) sends requests in HTTP mode."""
        if self.port is None:
            return None
        host = self._settings.http.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{shown}:{self.port}{self._settings.http.path}"

    async def start(self) -> None:
        if self._settings.mode == "socket":
            assert self._app_token is not None
            # Its own client: apps.connections.open takes the app-level token, not the bot's.
            self._socket = AsyncSocketModeHandler(self._bolt, app_token=self._app_token,
                                                  web_client=AsyncWebClient(base_url=self._settings.api_url),
                                                  logger=logging.getLogger("socialdesk.slack.socket_mode"))
            await self._socket.connect_async()
            log.info("slack socket mode connected")
            return
        web_app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        web_app.router.add_post(self._settings.http.path, self._handle)
        web_app.router.add_get(HEALTH_PATH, self._health)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.http.host, self._settings.http.port)
        await site.start()
        self._site = runner
        self.port = runner.addresses[0][1]
        log.info("slack http mode listening", extra={"host": self._settings.http.host, "port": self.port,
                                                    "path": self._settings.http.path})

    async def _handle(self, request: web.Request) -> web.Response:
        bolt_response = await self._bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok", content_type="text/plain")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._site is not None:
            await self._site.cleanup()
            self._site = None
