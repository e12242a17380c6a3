"""The gateway websocket endpoint: the upgrade, HELLO, heartbeats and the client's opcodes.

Served on ``/`` (the URL from GET /gateway/bot) and ``/resume`` (READY's
``resume_gateway_url``), both on loopback. Session logic lives in ``hub``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from typing import Any

from aiohttp import WSMsgType, web

from socialdesk.sandbox.discord import compression
from socialdesk.sandbox.discord.connection import EMULATOR, GatewayConnection
from socialdesk.sandbox.discord.errors import json_response
from socialdesk.sandbox.discord.hub import (
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_DECODE_ERROR,
    CLOSE_INVALID_API_VERSION,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_RATE_LIMITED,
    CLOSE_SESSION_TIMED_OUT,
    CLOSE_UNKNOWN_OPCODE,
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    IDENTIFY,
    PRESENCE_UPDATE,
    REQUEST_GUILD_MEMBERS,
    RESUME,
    TRACE,
    VOICE_STATE_UPDATE,
    GatewayHub,
    op_frame,
)
from socialdesk.sandbox.discord.settings import DiscordSettings
from socialdesk.sandbox.traffic import TrafficRecorder

GATEWAY_PATH = "/"
RESUME_PATH = "/resume"
SUPPORTED_VERSIONS = ("9", "10")
_SEND_WINDOW_SECONDS = 60.0


class GatewayEndpoint:
    def __init__(self, hub: GatewayHub, settings: DiscordSettings, recorder: TrafficRecorder) -> None:
        self.hub = hub
        self.settings = settings
        self.recorder = recorder
        self._numbers = itertools.count(1)

    def register(self, app: web.Application) -> None:
        app.router.add_get(GATEWAY_PATH, self.handle)
        app.router.add_get(RESUME_PATH, self.handle)

    def _record_handshake(self, request: web.Request, status: int, response: Any = None) -> None:
        self.recorder.write(emulator=EMULATOR, direction="inbound", method=request.method, path=request.path,
                            query=dict(request.query), body=None, status=status, response=response)

    def _refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        body = {"message": message, "code": 0}
        self._record_handshake(request, status, body)
        return json_response(body, status=status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.hub.available:
            return self._refuse(request, 503, "503: Service Unavailable")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return self._refuse(request, 400, "Expected a WebSocket upgrade.")
        if request.query.get("encoding", "json") != "json":
            return self._refuse(request, 400, "The sandbox gateway speaks encoding=json only.")
        try:
            compressor = compression.compressor_for(request.query.get("compress"))
        except ValueError as exc:
            return self._refuse(request, 400, str(exc))
        # permessage-deflate off: Discord compresses in the payload stream, not in the websocket layer.
        ws = web.WebSocketResponse(compress=False, max_msg_size=1024 * 1024)
        await ws.prepare(request)
        self._record_handshake(request, 101)
        conn = GatewayConnection(request, ws, compressor, self.recorder, self.settings.outbound_queue_limit,
                                 next(self._numbers))
        self.hub.connections.add(conn)
        client_code: int | None = None
        try:
            if request.query.get("v", "10") not in SUPPORTED_VERSIONS:
                conn.close(CLOSE_INVALID_API_VERSION, "Invalid API version.")
            else:
                conn.send(op_frame(HELLO, {"heartbeat_interval": self.settings.heartbeat_interval_ms,
                                           "_trace": TRACE}))
            client_code = await self._read_loop(conn)
        finally:
            self.hub.connection_closed(conn, client_code)
            await conn.finish()
        return ws

    async def _read_loop(self, conn: GatewayConnection) -> int | None:
        """Handle client frames until the socket closes; returns the client's close code, if it sent one."""
        timeout = self.settings.heartbeat_interval_ms / 1000 * self.settings.heartbeat_timeout_factor + 1.0
        sent_at: deque[float] = deque()
        while True:
            try:
                msg = await conn.ws.receive(timeout=timeout)
            except asyncio.TimeoutError:
                # Discord: "Your session timed out. Reconnect and start a new one." — not resumable.
                if conn.session is not None:
                    conn.session.invalid = True
                conn.close(CLOSE_SESSION_TIMED_OUT, "Session timed out.")
                continue
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                if conn.closing:
                    continue
                now = time.monotonic()
                sent_at.append(now)
                while sent_at and now - sent_at[0] > _SEND_WINDOW_SECONDS:
                    sent_at.popleft()
                if len(sent_at) > self.settings.gateway_send_limit:
                    conn.close(CLOSE_RATE_LIMITED, "You are being rate limited.")
                    continue
                self._handle_frame(conn, msg.data)
            elif msg.type is WSMsgType.CLOSE:
                conn.record("inbound", {"close_code": msg.data, "reason": msg.extra or ""})
                return int(msg.data)
            else:  # CLOSING (our own close), CLOSED or ERROR (the connection broke)
                return None

    def _handle_frame(self, conn: GatewayConnection, raw: str | bytes) -> None:
        size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if size > self.settings.max_inbound_payload_bytes or not isinstance(payload, dict):
            conn.record("inbound", {"undecodable": True, "bytes": size})
            conn.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return
        conn.record("inbound", payload)
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            conn.send(op_frame(HEARTBEAT_ACK))
        elif op in (IDENTIFY, RESUME):
            if conn.session is not None:
                conn.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            elif op == IDENTIFY:
                self.hub.identify(conn, data)
            else:
                self.hub.resume(conn, data)
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE, REQUEST_GUILD_MEMBERS):
            if conn.session is None:
                conn.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
            elif op == REQUEST_GUILD_MEMBERS:
                self.hub.request_members(conn, data)
            # presence and voice state are accepted and have no effect: the sandbox has no presences or voice
        else:
            conn.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")
