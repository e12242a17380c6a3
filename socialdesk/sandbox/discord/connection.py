"""One gateway websocket: an ordered outbound queue, transport compression and the traffic record.

Everything sent to the client goes through ``send`` (never awaited by the caller), so
events produced by synchronous code — a test posting a message — keep their sequence
order on the wire. A client that falls ``queue_limit`` frames behind is disconnected
(4000) and may RESUME, instead of letting the queue grow without bound.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from socialdesk.sandbox.discord.compression import Compressor
from socialdesk.sandbox.discord.errors import json_text
from socialdesk.sandbox.traffic import TrafficRecorder

if TYPE_CHECKING:
    from socialdesk.sandbox.discord.sessions import GatewaySession

EMULATOR = "discord"


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class _Drop:
    """Cut the TCP connection without a close frame."""


class GatewayConnection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, compressor: Compressor | None,
                 recorder: TrafficRecorder, queue_limit: int, number: int) -> None:
        self.request = request
        self.ws = ws
        self.path = request.path
        self.query = dict(request.query)
        self.number = number  # n-th connection to this emulator, to tell connections apart in the record
        self.compressor = compressor
        self.session: GatewaySession | None = None
        self.closing = False
        self.close_code: int | None = None  # the code we closed with, if we did
        self._recorder = recorder
        self._queue_limit = queue_limit
        self._queue: asyncio.Queue[dict[str, Any] | _Close | _Drop] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name=f"discord-gateway-writer-{number}")

    def record(self, direction: str, body: Any) -> None:
        self._recorder.write(emulator=EMULATOR, direction=direction, method="WS", path=self.path,
                             query=self.query, body=body, status=None, connection=self.number)

    def send(self, frame: dict[str, Any]) -> bool:
        """Queue a frame; False when the connection is closing (the frame is not sent)."""
        if self.closing:
            return False
        if self._queue.qsize() >= self._queue_limit:
            self.close(4000, "Client is too slow to keep up.")
            return False
        self._queue.put_nowait(frame)
        return True

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued; idempotent."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self._queue.put_nowait(_Close(code, reason))

    def drop(self) -> None:
        if self.closing:
            return
        self.closing = True
        self._queue.put_nowait(_Drop())

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, _Close):
                    self.record("outbound", {"close_code": item.code, "reason": item.reason})
                    await self.ws.close(code=item.code, message=item.reason.encode())
                    return
                if isinstance(item, _Drop):
                    self.record("outbound", {"dropped": True})
                    if self.request.transport is not None:
                        self.request.transport.abort()
                    return
                self.record("outbound", item)
                text = json_text(item)
                if self.compressor is None:
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(self.compressor.compress(text.encode("utf-8")))
            except (ConnectionError, RuntimeError):
                # The peer went away (or the socket is already closing): nothing more can be sent.
                self.closing = True
                return

    async def finish(self, timeout: float = 5.0) -> None:
        """After the read side ended: let a queued close/drop finish, otherwise stop the writer."""
        if not self.closing:  # the client went away first; there is nothing left worth sending
            self.closing = True
            self._writer.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except asyncio.CancelledError:
            if not self._writer.cancelled():
                raise
        except asyncio.TimeoutError:
            self._writer.cancel()
        if not self.ws.closed:
            await self.ws.close()
