"""The Mastodon emulator: an instance's REST API and user stream on 127.0.0.1, and a test/demo API.

    async with MastodonEmulator(brand_username="acme") as masto:
        dana = masto.add_account("dana", domain="example.social")
        mention = masto.post_as("dana@example.social", "@acme my order never arrived")
        # point the desk (or Mastodon.py) at masto.base_url with masto.brand_token
        ...
        assert masto.replies_by("acme")[0]["in_reply_to_id"] == mention["id"]

The clock is injectable (epoch seconds): it stamps statuses and notifications, mints
ids, drives rate-limit windows and the idempotency keys' hour, and is the ``Date`` of
every answer, so tests move time instead of waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from socialdesk.plugins.mastodon.status_length import DEFAULT_MAX_CHARACTERS
from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.mastodon.api import MastodonApi, error
from socialdesk.sandbox.mastodon.auth import DEFAULT_SCOPES, TokenRegistry
from socialdesk.sandbox.mastodon.rate_limits import DEFAULT_LIMIT, DEFAULT_PERIOD, RateLimiter
from socialdesk.sandbox.mastodon.state import Account, Instance, Status
from socialdesk.sandbox.mastodon.streaming import StreamHub
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.lost_responses import ResponseLoser


class MastodonEmulator(EmulatorServer):
    name = "mastodon"

    def __init__(self, *, brand_username: str = "acme", brand_name: str = "Acme Support",
                 domain: str = "social.sandbox", clock: Callable[[], float] = time.time,
                 max_characters: int = DEFAULT_MAX_CHARACTERS, rate_limit: int = DEFAULT_LIMIT,
                 rate_period: float = DEFAULT_PERIOD, heartbeat_seconds: float = 15.0,
                 brand_scopes: tuple[str, ...] = DEFAULT_SCOPES,
                 recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.clock = clock
        self.instance = Instance(domain, clock, max_characters)
        self.tokens = TokenRegistry()
        self.limiter = RateLimiter(clock, rate_limit, rate_period)
        self.hub = StreamHub(heartbeat_seconds)
        self.api = MastodonApi(self.instance, self.tokens, self.limiter, self.hub, lambda: self.base_url)
        self._loser = ResponseLoser()
        self._brand = self.instance.add_account(brand_username, display_name=brand_name, followers=25_000)
        self.brand_token = self.tokens.issue(self._brand.id, brand_scopes).token

    # --- server plumbing ---------------------------------------------------------------------
    def setup(self, app: web.Application) -> None:
        self.api.register(app)
        app.middlewares.append(self._loser.middleware())  # innermost: a lost answer was really produced

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        if status == 429:
            return error(429, "Too many requests", self.api.rate_headers_for(request))
        message = "We're sorry, but something went wrong on our end." if status >= 500 else "Error"
        return error(status, message, self.api.date_header())

    async def stop(self) -> None:
        self.hub.drop_all()  # open streams end first, or the server would wait for them
        await super().stop()

    # --- credentials -------------------------------------------------------------------------
    def issue_token(self, acct: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
        """A user token of any local account, with these scopes."""
        return self.tokens.issue(self._account(acct).id, scopes).token

    def revoke_token(self, token: str) -> None:
        self.tokens.revoke(token)

    # --- limits and faults -------------------------------------------------------------------
    @property
    def max_characters(self) -> int:
        return self.instance.max_characters

    @max_characters.setter
    def max_characters(self, value: int) -> None:
        self.instance.max_characters = value

    def reset_rate_limits(self) -> None:
        self.limiter.clear()

    def lose_next_response(self, path_prefix: str = "/api/v1/statuses", method: str | None = "POST",
                           count: int = 1) -> None:
        """Process the next ``count`` matching requests, then drop the connection instead of answering."""
        self._loser.arm(path_prefix, method, count)

    @property
    def lost_answers(self) -> list[dict[str, Any]]:
        return list(self._loser.answers)

    def drop_streams(self) -> None:
        """End every open stream, as a restarted streaming server or a network change would."""
        self.hub.drop_all()

    @property
    def open_streams(self) -> int:
        return self.hub.open_streams

    @property
    def stream_connections(self) -> int:
        return self.hub.connections

    # --- the instance (test and demo API) ----------------------------------------------------
    @property
    def brand(self) -> dict[str, Any]:
        return self.instance.account_json(self._brand)

    def add_account(self, username: str, display_name: str | None = None, *, domain: str | None = None,
                    followers: int = 0, bot: bool = False) -> dict[str, Any]:
        """A person on this instance, or (with ``domain``) on another server of the fediverse."""
        account = self.instance.add_account(username, domain, display_name, followers=followers, bot=bot)
        return self.instance.account_json(account)

    def post_as(self, acct: str, text: str, *, visibility: str = "public", in_reply_to: str | None = None,
                spoiler_text: str = "") -> dict[str, Any]:
        """A status by ``acct`` (no API call, no rate limit); its @mentions notify local accounts."""
        status = self.instance.post(self._account(acct), text, visibility=visibility, in_reply_to_id=in_reply_to,
                                    spoiler_text=spoiler_text)
        return self.instance.status_json(status)

    def serve_oddly(self, status_id: str, **fields: Any) -> None:
        """From now on, serve this status with these fields replaced (what a buggy or hostile server sends)."""
        self.instance.oddities[status_id] = fields

    def delete(self, status_id: str) -> None:
        status = self.instance.live(status_id)
        if status is None:
            raise LookupError(f"no live status {status_id}")
        status.deleted = True

    def status(self, status_id: str) -> dict[str, Any] | None:
        found = self.instance.live(status_id)
        return self.instance.status_json(found) if found else None

    def statuses_by(self, acct: str) -> list[dict[str, Any]]:
        """``acct``'s live statuses, oldest first."""
        account = self._account(acct)
        return [self.instance.status_json(s) for s in self._live() if s.account_id == account.id]

    def replies_by(self, acct: str) -> list[dict[str, Any]]:
        account = self._account(acct)
        return [self.instance.status_json(s) for s in self._live()
                if s.account_id == account.id and s.in_reply_to_id is not None]

    def thread(self, status_id: str) -> list[dict[str, Any]]:
        """Every live status of the thread that ``status_id`` belongs to, oldest first."""
        root = self.instance.root_of(self.instance.statuses[status_id])
        return [self.instance.status_json(s) for s in self._live() if self.instance.root_of(s).id == root.id]

    def now(self) -> float:
        return self.clock()

    def _live(self) -> list[Status]:
        return sorted((s for s in self.instance.statuses.values() if not s.deleted), key=lambda s: int(s.id))

    def _account(self, acct: str) -> Account:
        account = self.instance.find_account(acct)
        if account is None:
            raise KeyError(f"no Mastodon account @{acct.lstrip('@')} in the sandbox; add_account() it first")
        return account
