"""Discourse's outgoing webhooks: signed POSTs, and the ways they go wrong.

Headers as Discourse's emit_web_hook_event job writes them (``X-Discourse-Instance``,
``X-Discourse-Event-Id``, ``X-Discourse-Event-Type``, ``X-Discourse-Event``,
``X-Discourse-Event-Signature: sha256=<hex>``). Every attempt is a new event id, as in
Discourse. ``lose(n)`` makes the next ``n`` deliveries never arrive (the desk was down);
``repeat(n)`` sends the next ``n`` twice (a retry after an answer Discourse did not get).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from socialdesk.core.push.signatures import discourse_signature
from socialdesk.sandbox.traffic import TrafficRecorder


@dataclass
class Delivery:
    event: str
    event_id: int
    status: int | None  # None: never arrived
    body: dict[str, Any]


@dataclass
class WebhookSender:
    instance: str
    recorder: TrafficRecorder
    url: str | None = None
    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    _lose: int = 0
    _repeat: int = 0
    _next_id: int = 1

    def lose(self, count: int = 1) -> None:
        self._lose += count

    def repeat(self, count: int = 1) -> None:
        self._repeat += count

    async def emit(self, event_type: str, event: str, payload: dict[str, Any]) -> None:
        if self.url is None:
            return
        times = 1
        if self._repeat:
            self._repeat -= 1
            times = 2
        for _ in range(times):
            await self._send(event_type, event, {event_type: payload})

    def _headers(self, event_type: str, event: str, body: bytes, event_id: int) -> dict[str, str]:
        headers = {"Accept": "*/*", "Content-Type": "application/json", "User-Agent": "Discourse/3.4.0",
                   "X-Discourse-Instance": self.instance, "X-Discourse-Event-Id": str(event_id),
                   "X-Discourse-Event-Type": event_type, "X-Discourse-Event": event}
        if self.secret:
            headers["X-Discourse-Event-Signature"] = discourse_signature(self.secret, body)
        return headers

    async def _send(self, event_type: str, event: str, document: dict[str, Any]) -> None:
        assert self.url is not None
        body = json.dumps(document).encode()
        event_id = self._next_id
        self._next_id += 1
        headers = self._headers(event_type, event, body, event_id)
        if self._lose:
            self._lose -= 1
            self.deliveries.append(Delivery(event, event_id, None, document))
            self.recorder.write(emulator="discourse", direction="webhook", event=event, event_id=event_id,
                                url=self.url, status=None, note="lost on purpose")
            return
        status: int | None
        try:
            async with aiohttp.ClientSession() as session, \
                    session.post(self.url, data=body, headers=headers) as response:
                status = response.status
                await response.read()
        except aiohttp.ClientError:
            status = None  # Discourse records -1 and does not retry a connection error
        self.deliveries.append(Delivery(event, event_id, status, document))
        self.recorder.write(emulator="discourse", direction="webhook", event=event, event_id=event_id,
                            url=self.url, request_headers=headers, status=status)

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> int:
        """POST exactly these bytes and headers (forged, replayed or stale requests in tests)."""
        assert self.url is not None
        async with aiohttp.ClientSession() as session, session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response.status
