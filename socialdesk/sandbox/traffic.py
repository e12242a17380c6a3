"""The traffic record: one JSON object per line for everything that crossed an emulator.

Tokens and signatures are redacted before anything is written: the record is meant to
be attached to bug reports and read in tests.
"""

from __future__ import annotations

import email.policy
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from socialdesk.core.secrets import redact

REDACTED = "***"
_SENSITIVE_KEY = re.compile(
    # pagination_token / next_token are cursors, not credentials: keep them readable.
    r"(?<!pagination_)(?<!next_)(?<!previous_)token|secret|signature|password|authorization|oauth_|jwt",
    re.IGNORECASE,
)


def scrub(value: Any) -> Any:
    """A copy of ``value`` with sensitive keys blanked and token-shaped strings redacted."""
    if isinstance(value, dict):
        return {k: (REDACTED if _SENSITIVE_KEY.search(str(k)) and v else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _decode_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.startswith("multipart/form-data"):
        return _decode_form(raw, content_type)
    if content_type.startswith(("application/octet-stream", "image/", "audio/", "video/")):
        return f"<{len(raw)} bytes of {content_type}>"  # uploads: size, not garbled bytes
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(text, keep_blank_values=True))
    return text


def _decode_form(raw: bytes, content_type: str) -> dict[str, Any]:
    """Text fields decoded (JSON parsed), file parts summarised by name and size."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or "?"
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[str(name)] = f"<file {filename!r}, {len(payload)} bytes>"
        else:
            fields[str(name)] = _decode_body(payload, part.get_content_type())
            if isinstance(fields[str(name)], str):
                try:
                    fields[str(name)] = json.loads(fields[str(name)])
                except ValueError:
                    pass
    return fields


class TrafficRecorder:
    """Appends records to a JSON-lines file and keeps them in memory for tests."""

    def __init__(self, path: str | Path | None = None, max_in_memory: int = 50_000) -> None:
        self.records: list[dict[str, Any]] = []  # the newest ``max_in_memory``; the file keeps all
        self.max_in_memory = max_in_memory
        self._file: IO[str] | None = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, **record: Any) -> None:
        record = scrub({"time": time.time(), **record})
        with self._lock:
            self.records.append(record)
            if len(self.records) > self.max_in_memory:
                del self.records[: len(self.records) - self.max_in_memory]
            if self._file is not None:
                self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self._file.flush()

    def of(self, emulator: str, **match: Any) -> list[dict[str, Any]]:
        """Records of ``emulator`` whose fields equal ``match`` (e.g. method="POST")."""
        return [r for r in self.records if r["emulator"] == emulator and all(r.get(k) == v for k, v in match.items())]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def traffic_middleware(emulator: str, recorder: TrafficRecorder) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read() if request.can_read_body else b""
        started = time.perf_counter()
        response: web.StreamResponse | None = None
        try:
            response = await handler(request)
            return response
        finally:
            # Written even when the handler raised (a dropped connection is recorded
            # with status None), never for websocket upgrades (frames are recorded apart).
            if not isinstance(response, web.WebSocketResponse):
                body: Any = None
                if isinstance(response, web.Response) and isinstance(response.body, bytes):
                    body = _decode_body(response.body, response.content_type or "")
                recorder.write(
                    emulator=emulator, direction="inbound", method=request.method, path=request.path,
                    query=dict(request.query), body=_decode_body(raw, request.content_type or ""),
                    status=response.status if response is not None else None, response=body,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )

    return record
