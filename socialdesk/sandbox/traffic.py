"""The traffic record: one JSON object per line for everything that crossed an emulator.

Tokens and signatures are redacted before anything is written: the record is meant to
be attached to bug reports and read in tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from socialdesk.core.secrets import redact

REDACTED = "***"
_SENSITIVE_KEY = re.compile(r"(token|secret|signature|password|authorization|oauth_)", re.IGNORECASE)


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
        response = await handler(request)
        body: Any = None
        if isinstance(response, web.Response) and response.body is not None:
            payload = response.body if isinstance(response.body, bytes) else b""
            body = _decode_body(payload, response.content_type or "")
        if not isinstance(response, web.WebSocketResponse):
            recorder.write(
                emulator=emulator, direction="inbound", method=request.method, path=request.path,
                query=dict(request.query), body=_decode_body(raw, request.content_type or ""),
                status=response.status, response=body,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        return response

    return record
