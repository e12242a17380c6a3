"""The webhook emulator: a sender of signed mentions and a receiver of signed answers."""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from socialdesk.core.push.signatures import standard_secret_key, standard_signature, standard_signature_valid
from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.lost_responses import ResponseLoser

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEmulator(EmulatorServer):
    name = "webhook"

    def __init__(self, *, secret: str | None = None, clock: Callable[[], float] = time.time,
                 recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.secret = secret or new_secret()
        self.clock = clock
        self.answers: dict[str, dict[str, Any]] = {}  # webhook-id -> the answer as applied (first time)
        self.applied: list[dict[str, Any]] = []  # answers in the order they were applied, once each
        self.loser = ResponseLoser()
        self._ids = itertools.count(1)

    def callback_url(self, source: str) -> str:
        return f"{self.base_url}/callback/{source}"

    # --- receiving answers ---------------------------------------------------------------------
    def setup(self, app: web.Application) -> None:
        app.router.add_post("/callback/{source}", self._receive)
        app.middlewares.append(self.loser.middleware())

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        headers = {"Retry-After": str(int(self.faults.retry_after_seconds))} if status == 429 else {}
        return web.json_response({"error": "injected fault"}, status=status, headers=headers)

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        message_id = request.headers.get("webhook-id", "")
        try:
            timestamp = int(request.headers.get("webhook-timestamp", ""))
        except ValueError:
            return web.json_response({"error": "missing or malformed webhook-timestamp"}, status=400)
        if not standard_signature_valid(standard_secret_key(self.secret), message_id, timestamp, body,
                                        request.headers.get("webhook-signature", "")):
            return web.json_response({"error": "invalid signature"}, status=401)
        if abs(self.clock() - timestamp) > TOLERANCE_SECONDS:
            return web.json_response({"error": "stale timestamp"}, status=401)
        if message_id in self.answers:  # a retry: the first answer again, nothing applied twice
            return web.json_response(self.answers[message_id]["receipt"])
        document = json.loads(body)
        receipt = {"id": f"answer-{next(self._ids)}",
                   "url": f"https://shop.example.com/answers/{message_id}"}
        entry = {"source": request.match_info["source"], "webhook_id": message_id, "document": document,
                 "receipt": receipt}
        self.answers[message_id] = entry
        self.applied.append(entry)
        return web.json_response(receipt)

    # --- sending mentions ----------------------------------------------------------------------
    def mention_body(self, *, id: str, conversation_id: str, text: str, handle: str = "dana",
                     author_id: str | None = None, in_reply_to_id: str | None = None,
                     created_at: str | None = None, url: str | None = None) -> bytes:
        now = self.clock()
        created = created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        document = {"type": "mention.created", "timestamp": created,
                    "data": {"id": id, "conversation_id": conversation_id, "in_reply_to_id": in_reply_to_id,
                             "author": {"id": author_id or f"user-{handle}", "handle": handle, "name": handle.title()},
                             "text": text, "url": url or f"https://shop.example.com/reviews/{id}",
                             "created_at": created, "public": True}}
        return json.dumps(document).encode()  # \u escapes: a stranger's odd text still travels

    def signed_headers(self, body: bytes, *, message_id: str | None = None, timestamp: int | None = None,
                       secret: str | None = None) -> dict[str, str]:
        message_id = message_id or f"msg_{secrets.token_hex(8)}"
        timestamp = int(self.clock()) if timestamp is None else timestamp
        signature = standard_signature(standard_secret_key(secret or self.secret), message_id, timestamp, body)
        return {"Content-Type": "application/json", "webhook-id": message_id,
                "webhook-timestamp": str(timestamp), "webhook-signature": signature}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """POST as the sending system would, recorded in the traffic record."""
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            text = await response.text()
            try:
                answer: Any = json.loads(text)
            except ValueError:
                answer = text
            self.recorder.write(emulator=self.name, direction="outbound", method="POST", url=url,
                                request_headers=headers, body=body.decode("utf-8", "replace")[:2000],
                                status=response.status, response=answer)
            return response.status, answer

    async def send_mention(self, url: str, **mention: Any) -> tuple[int, Any]:
        body = self.mention_body(**mention)
        return await self.post(url, body, self.signed_headers(body))
