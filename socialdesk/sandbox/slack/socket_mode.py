"""Socket Mode: apps.connections.open hands out a one-time websocket URL; envelopes go down it.

On connect Slack sends a ``hello``; afterwards each request is an envelope
``{"envelope_id", "type", "payload", "accepts_response_payload"}`` and the app must
answer ``{"envelope_id", "payload"?}`` within 3 seconds. ``disconnect`` asks the app to
reconnect (slack_sdk then opens a new URL). Every frame is written to the traffic
record, both directions.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from socialdesk.sandbox.slack.api_request import ApiCall
from socialdesk.sandbox.slack.ids import capability
from socialdesk.sandbox.slack.state import SlackState
from socialdesk.sandbox.traffic import TrafficRecorder

TICKET_LIFETIME_SECONDS = 30.0
WS_PATH = "/link/"


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None  # the response payload, for envelopes that accept one
    seconds: float  # from the envelope leaving to its ack arriving


@dataclass
class SocketConnection:
    number: int
    socket: web.WebSocketResponse
    opened_at: float
    received: list[dict[str, Any]] = field(default_factory=list)


class SocketModeHub:
    def __init__(self, state: SlackState, recorder: TrafficRecorder, emulator: str = "slack",
                 max_acks: int = 1000) -> None:
        self._state = state
        self._recorder = recorder
        self._emulator = emulator
        self._tickets: dict[str, float] = {}
        self._connections: list[SocketConnection] = []
        self._serial = 0
        self._next = 0
        self._sent: OrderedDict[str, float] = OrderedDict()  # envelope id -> when it left (bounded)
        self._waiters: dict[str, asyncio.Future[Ack]] = {}
        self.acks: deque[Ack] = deque(maxlen=max_acks)
        self._changed = asyncio.Event()

    @property
    def connections(self) -> list[SocketConnection]:
        return [c for c in self._connections if not c.socket.closed]

    # --- apps.connections.open --------------------------------------------------------

    def connections_open(self, state: SlackState, call: ApiCall) -> dict[str, Any]:
        ticket = capability()
        now = time.monotonic()
        self._tickets = {t: at for t, at in self._tickets.items() if now - at < TICKET_LIFETIME_SECONDS}
        self._tickets[ticket] = now
        ws_base = state.base_url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_base}{WS_PATH}?ticket={ticket}&app_id={state.workspace.bot.app_id}"}

    # --- the websocket ------------------------------------------------------------------

    def _record(self, direction: str, frame: Any) -> None:
        self._recorder.write(emulator=self._emulator, direction=direction, method="WS", path=WS_PATH,
                             query={}, body=frame, status=None)

    async def _send(self, connection: SocketConnection, frame: dict[str, Any]) -> None:
        await connection.socket.send_str(json.dumps(frame))
        self._record("outbound", frame)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        issued = self._tickets.pop(request.query.get("ticket", ""), None)  # one use, as on Slack
        if issued is None or time.monotonic() - issued > TICKET_LIFETIME_SECONDS:
            return web.Response(status=401, text="invalid or expired ticket", content_type="text/plain")
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._serial += 1
        connection = SocketConnection(self._serial, socket, time.monotonic())
        self._connections.append(connection)
        self._changed.set()
        await self._send(connection, {
            "type": "hello", "num_connections": len(self.connections),
            "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 3600},
            "connection_info": {"app_id": self._state.workspace.bot.app_id},
        })
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._receive(connection, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self._connections.remove(connection)
            self._changed.set()
        return socket

    def _receive(self, connection: SocketConnection, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            self._record("inbound", data)
            return
        self._record("inbound", frame)
        connection.received.append(frame)
        del connection.received[:-100]
        envelope_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        sent_at = self._sent.pop(envelope_id, None) if isinstance(envelope_id, str) else None
        if envelope_id is None or sent_at is None:
            return  # not an ack of ours (or a second ack of the same envelope)
        payload = frame.get("payload") if isinstance(frame.get("payload"), dict) else None
        ack = Ack(envelope_id, payload, time.monotonic() - sent_at)
        self.acks.append(ack)  # late acks are kept too, so a test can see how late
        waiter = self._waiters.pop(envelope_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)

    # --- sending envelopes ----------------------------------------------------------------

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` sockets are open (the app has finished connecting)."""
        async with asyncio.timeout(timeout):
            while len(self.connections) < count:
                self._changed.clear()
                await self._changed.wait()

    async def deliver(self, kind: str, payload: dict[str, Any], *, ack_timeout: float,
                      accepts_response_payload: bool) -> tuple[str, Ack | None]:
        """Send one envelope on an open connection (round robin, as Slack spreads them)."""
        live = self.connections
        if not live:
            raise ConnectionError("no Socket Mode connection is open; start the app's Socket Mode handler first")
        connection = live[self._next % len(live)]
        self._next += 1
        envelope_id = str(uuid.uuid4())
        waiter: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiters[envelope_id] = waiter
        self._sent[envelope_id] = time.monotonic()
        while len(self._sent) > 1000:
            self._sent.popitem(last=False)
        await self._send(connection, {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                      "accepts_response_payload": accepts_response_payload,
                                      **({"retry_attempt": 0, "retry_reason": ""} if kind == "events_api" else {})})
        try:
            return envelope_id, await asyncio.wait_for(waiter, ack_timeout)
        except TimeoutError:
            return envelope_id, None
        finally:
            self._waiters.pop(envelope_id, None)

    async def disconnect_all(self, reason: str = "refresh_requested", *, close: bool = False) -> None:
        """Ask every app connection to reconnect (Slack's refresh); ``close`` also hangs up at once."""
        for connection in self.connections:
            await self._send(connection, {"type": "disconnect", "reason": reason,
                                          "debug_info": {"host": "applink-sandbox"}})
            if close:
                await connection.socket.close()

    async def close(self) -> None:
        for connection in list(self._connections):
            await connection.socket.close()
        for waiter in self._waiters.values():
            waiter.cancel()
        self._waiters.clear()
