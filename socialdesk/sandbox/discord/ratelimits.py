"""Per-route buckets and the global limit, answered with Discord's headers and 429 body.

A bucket is a route template (``POST /channels/{channel_id}/messages``) plus its major
parameter (the channel or guild id), counted in fixed windows like Discord's.
``Via: 1.1 google`` on a 429 tells discord.py this is Discord's limit, not a Cloudflare ban.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from socialdesk.sandbox.discord.errors import json_response
from socialdesk.sandbox.discord.settings import DiscordSettings, RateLimitRule


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    bucket: str
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"

    def headers(self, wall_clock: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{wall_clock + self.reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket,
        }


@dataclass
class _Window:
    started: float
    used: int


def bucket_hash(route: str) -> str:
    # Discord's bucket ids are opaque hex strings, stable per route.
    return hashlib.sha1(route.encode()).hexdigest()[:32]


def rate_limited_response(decision: Decision, wall_clock: float, *, message: str = "You are being rate limited.",
                          code: int = 0) -> web.Response:
    headers = decision.headers(wall_clock)
    headers.update({
        "Retry-After": str(max(1, math.ceil(decision.retry_after))),
        "Via": "1.1 google",
        "X-RateLimit-Scope": decision.scope,
    })
    if decision.is_global:
        headers["X-RateLimit-Global"] = "true"
    body: dict[str, Any] = {"message": message, "retry_after": round(decision.retry_after, 3),
                            "global": decision.is_global, "code": code}
    return json_response(body, status=429, headers=headers)


class RateLimiter:
    """Counts requests per bucket; ``hit`` consumes one, ``peek`` only looks."""

    _PRUNE_AT = 4096  # buckets remembered before expired ones are forgotten

    def __init__(self, settings: DiscordSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global_window = _Window(started=-math.inf, used=0)

    def rule(self, route: str) -> RateLimitRule:
        return self._settings.route_limits.get(route, self._settings.default_route_limit)

    def _window(self, route: str, major: str, now: float) -> tuple[_Window, RateLimitRule]:
        rule = self.rule(route)
        window = self._windows.get((route, major))
        if window is None or now - window.started >= rule.per:
            window = _Window(started=now, used=0)
            self._windows[(route, major)] = window
            if len(self._windows) > self._PRUNE_AT:
                self._prune(now)
        return window, rule

    def _prune(self, now: float) -> None:
        for key, window in list(self._windows.items()):
            if now - window.started >= self.rule(key[0]).per:
                del self._windows[key]

    def _decision(self, route: str, window: _Window, rule: RateLimitRule, now: float) -> Decision:
        reset_after = max(0.0, rule.per - (now - window.started))
        return Decision(allowed=window.used < rule.limit, limit=rule.limit,
                        remaining=max(0, rule.limit - window.used), reset_after=reset_after,
                        bucket=bucket_hash(route), retry_after=reset_after)

    def peek(self, route: str, major: str) -> Decision:
        now = self._clock()
        window, rule = self._window(route, major, now)
        return self._decision(route, window, rule, now)

    def hit(self, route: str, major: str) -> Decision:
        now = self._clock()
        global_limit = self._settings.global_limit_per_second
        if now - self._global_window.started >= 1.0:
            self._global_window = _Window(started=now, used=0)
        window, rule = self._window(route, major, now)
        if self._global_window.used >= global_limit:
            decision = self._decision(route, window, rule, now)
            decision.allowed = False
            decision.is_global = True
            decision.scope = "global"
            decision.retry_after = max(0.001, 1.0 - (now - self._global_window.started))
            return decision
        self._global_window.used += 1
        if window.used >= rule.limit:
            return self._decision(route, window, rule, now)
        window.used += 1
        decision = self._decision(route, window, rule, now)
        decision.allowed = True
        return decision
