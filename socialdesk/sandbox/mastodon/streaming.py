"""The streaming API over HTTP (server-sent events): ``GET /api/v1/streaming/user``.

Each connection gets the events of its account as ``event: <name>`` / ``data: <json>``
pairs and a ``:thump`` comment as heartbeat, as Mastodon's streaming server sends them.
Tests cut every open stream (``drop_all``) to make a client reconnect.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_CLOSE = object()
DISCONNECT_CHECK_SECONDS = 0.2


@dataclass
class _Subscriber:
    account_id: str
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)


class StreamHub:
    def __init__(self, heartbeat_seconds: float = 15.0) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self._subscribers: list[_Subscriber] = []
        self.connections = 0  # how many streams were ever opened (tests wait on it)
        self.refusing = False  # answer 503 instead of streaming (a streaming server that is down)

    @property
    def open_streams(self) -> int:
        return len(self._subscribers)

    def publish(self, account_id: str, event: str, payload: dict[str, Any]) -> None:
        for subscriber in self._subscribers:
            if subscriber.account_id == account_id:
                subscriber.queue.put_nowait((event, payload))

    def drop_all(self) -> None:
        for subscriber in self._subscribers:
            subscriber.queue.put_nowait(_CLOSE)

    async def serve(self, request: web.Request, account_id: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        subscriber = _Subscriber(account_id)
        self._subscribers.append(subscriber)
        self.connections += 1
        try:
            await response.write(b":)\n")
            quiet = 0.0
            while request.transport is not None and not request.transport.is_closing():
                try:
                    # Short waits: a client that hung up is noticed without waiting for a heartbeat.
                    item = await asyncio.wait_for(subscriber.queue.get(), DISCONNECT_CHECK_SECONDS)
                except TimeoutError:
                    quiet += DISCONNECT_CHECK_SECONDS
                    if quiet >= self.heartbeat_seconds:
                        quiet = 0.0
                        await response.write(b":thump\n")
                    continue
                quiet = 0.0
                if item is _CLOSE:
                    break
                event, payload = item
                data = json.dumps(payload, ensure_ascii=False)
                await response.write(f"event: {event}\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._subscribers.remove(subscriber)
        try:
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response
