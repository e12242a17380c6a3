"""Agents' Slack display names (``users.info``), for reports and ``/desk stats``.

A bounded cache with expiry: at most ``max_entries`` names, each trusted for ``ttl``
seconds (the least recently used go first). ``users.info`` is Tier 4 (about 100 calls a
minute): after a 429 nobody is asked again until its Retry-After has passed, and the
names not known meanwhile are left out (callers show the raw id), so a report never waits
on Slack's limit.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.single_flight import SingleFlight
from socialdesk.core.slack.pacing import retry_after

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 1000


class DisplayNames:
    def __init__(self, client: AsyncWebClient, *, ttl: float = DEFAULT_TTL_SECONDS,
                 max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._names: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._quiet_until = 0.0
        self._asking: SingleFlight[str, str | None] = SingleFlight()  # one users.info per user at a time

    def cached(self, user_id: str, *, stale_ok: bool = False) -> str | None:
        entry = self._names.get(user_id)
        if entry is None or (not stale_ok and self._clock() - entry[1] >= self._ttl):
            return None
        self._names.move_to_end(user_id)
        return entry[0]

    def _remember(self, user_id: str, name: str) -> None:
        self._names[user_id] = (name, self._clock())
        self._names.move_to_end(user_id)
        while len(self._names) > self._max:
            self._names.popitem(last=False)

    async def name(self, user_id: str) -> str | None:
        """The display name (or real name) of ``user_id``; ``None`` if Slack cannot say now
        (the last known name, even expired, is returned then)."""
        fresh = self.cached(user_id)
        if fresh is not None:
            return fresh
        if self._clock() < self._quiet_until:
            return self.cached(user_id, stale_ok=True)
        return await self._asking.call(user_id, lambda: self._ask(user_id))

    async def _ask(self, user_id: str) -> str | None:
        try:
            profile = (await self._client.users_info(user=user_id))["user"]["profile"]
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is not None:
                self._quiet_until = self._clock() + wait
            log.warning("users.info failed", extra={"user": user_id, "error": exc.response.get("error")})
            return self.cached(user_id, stale_ok=True)
        except (OSError, TimeoutError, KeyError, TypeError) as exc:
            log.warning("users.info failed", extra={"user": user_id, "error": type(exc).__name__})
            return self.cached(user_id, stale_ok=True)
        name = str(profile.get("display_name") or profile.get("real_name") or user_id)
        self._remember(user_id, name)
        return name

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Names of those ``user_ids`` that look like Slack users and whose name is known."""
        found: dict[str, str] = {}
        for user_id in dict.fromkeys(user_ids):
            if not (user_id[:1] in ("U", "W") and user_id.isalnum()):
                continue  # "system", or an actor a plugin named
            name = await self.name(user_id)
            if name is not None:
                found[user_id] = name
        return found
