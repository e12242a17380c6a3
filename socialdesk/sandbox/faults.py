"""Faults on demand: a chosen share of 429s, 500s, slow answers and dropped connections.

Each emulator owns one FaultPlan. Tests and the demo change it at run time
(``plan.set(rate_limited=0.2)``); a seeded RNG makes a run repeatable.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ErrorResponder = Callable[[web.Request, int], web.StreamResponse]


@dataclass
class FaultPlan:
    rate_limited: float = 0.0  # share of requests answered 429
    server_error: float = 0.0  # share answered 500
    slow: float = 0.0  # share delayed by ``slow_seconds`` before being handled
    slow_seconds: float = 2.0
    dropped: float = 0.0  # share whose connection is closed without an answer
    retry_after_seconds: float = 1.0
    only_paths: tuple[str, ...] = ()  # limit faults to paths starting with these
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            if not hasattr(self, key) or key.startswith("_"):
                raise AttributeError(f"FaultPlan has no setting {key!r}")
            setattr(self, key, value)
        if "seed" in changes:
            self._rng = random.Random(self.seed)

    def clear(self) -> None:
        self.set(rate_limited=0.0, server_error=0.0, slow=0.0, dropped=0.0, only_paths=())

    def _hit(self, share: float) -> bool:
        return share > 0 and self._rng.random() < share

    def choose(self, path: str) -> str | None:
        if self.only_paths and not path.startswith(self.only_paths):
            return None
        for name, share in (("dropped", self.dropped), ("rate_limited", self.rate_limited),
                            ("server_error", self.server_error), ("slow", self.slow)):
            if self._hit(share):
                self.counts[name] = self.counts.get(name, 0) + 1
                return name
        return None


def fault_middleware(plan: FaultPlan, respond: ErrorResponder) -> Any:
    """``respond(request, status)`` builds the platform's own 429 or 500 answer."""

    @web.middleware
    async def inject(request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = plan.choose(request.path)
        if fault == "dropped":
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("sandbox dropped the connection on purpose")
        if fault == "rate_limited":
            return respond(request, 429)
        if fault == "server_error":
            return respond(request, 500)
        if fault == "slow":
            await asyncio.sleep(plan.slow_seconds)
        return await handler(request)

    return inject
