"""Answers that never arrive: the request is processed, then the connection is dropped.

This is the ambiguous failure a poster must survive: the post exists on X, but the
client saw only a broken connection and cannot tell whether to send again. The FaultPlan's
``dropped`` fault closes the connection *before* handling; this one closes it *after*.

The traffic record shows the exchange as the wire saw it (status None: no answer). What
the emulator would have answered is kept in ``answers`` (the newest ``keep``), so a test
can learn, say, the id of the post its client never heard about.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Armed:
    path_prefix: str
    method: str | None
    remaining: int


class ResponseLoser:
    """Remembers which upcoming answers to lose; ``middleware`` does the losing."""

    def __init__(self, keep: int = 1000) -> None:
        self._armed: list[_Armed] = []
        self.answers: deque[dict[str, Any]] = deque(maxlen=keep)

    def arm(self, path_prefix: str, method: str | None = "POST", count: int = 1) -> None:
        self._armed.append(_Armed(path_prefix, method.upper() if method else None, count))

    def disarm(self) -> None:
        self._armed.clear()

    def _take(self, request: web.Request) -> bool:
        for armed in self._armed:
            if request.path.startswith(armed.path_prefix) and armed.method in (None, request.method):
                armed.remaining -= 1
                if armed.remaining <= 0:
                    self._armed.remove(armed)
                return True
        return False

    def middleware(self) -> Any:
        @web.middleware
        async def lose(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            if not self._take(request):
                return response
            self.answers.append({"method": request.method, "path": request.path, "status": response.status,
                                 "response": _json_body(response)})
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("sandbox lost the answer on purpose, after processing the request")

        return lose


def _json_body(response: web.StreamResponse) -> Any:
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        try:
            return json.loads(response.body)
        except ValueError:
            return response.body.decode("utf-8", "replace")
    return None
