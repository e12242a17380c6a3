"""The Bluesky emulator: a PDS + AppView's XRPC on 127.0.0.1, and a test/demo API beside it.

    async with BlueskyEmulator(brand_handle="acme.bsky.social") as bsky:
        bsky.add_user("dana.bsky.social")
        post = bsky.post_as("dana.bsky.social", "@acme.bsky.social my order never arrived")
        # point the desk (or atproto's AsyncClient) at bsky.base_url + "/xrpc" and log in
        # with bsky.brand_handle / bsky.brand_password
        ...
        assert bsky.replies_by("acme.bsky.social")[0]["record"]["reply"]["root"]["uri"] == post["uri"]

The clock (epoch seconds) stamps posts and drives rate-limit windows, so tests move
time instead of waiting. Session tokens expire by wall-clock time, as the atproto
client judges them (see ``sessions``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from socialdesk.sandbox.bluesky.errors import XrpcError, internal_server_error, rate_limit_exceeded
from socialdesk.sandbox.bluesky.network import Account, Network, Post
from socialdesk.sandbox.bluesky.rate_limits import RateLimiter, RateLimits
from socialdesk.sandbox.bluesky.sessions import SessionSettings, Sessions
from socialdesk.sandbox.bluesky.xrpc import XrpcApi
from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.lost_responses import ResponseLoser

WEB = "https://bsky.app"


def app_password() -> str:
    """Bluesky's app password shape: four groups of four, xxxx-xxxx-xxxx-xxxx."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


class BlueskyEmulator(EmulatorServer):
    name = "bluesky"

    def __init__(self, *, brand_handle: str = "acme.bsky.social", brand_name: str = "Acme Support",
                 clock: Callable[[], float] = time.time, rate_limits: RateLimits | None = None,
                 sessions: SessionSettings | None = None, recorder: TrafficRecorder | None = None,
                 faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.clock = clock
        self.network = Network(clock)
        self.sessions = Sessions(sessions or SessionSettings())
        self.limiter = RateLimiter(clock, rate_limits or RateLimits())
        self.api = XrpcApi(self.network, self.sessions, self.limiter)
        self._loser = ResponseLoser()
        self._brand = self.network.add_account(brand_handle, brand_name, password=app_password(), followers=25_000)

    # --- server plumbing ---------------------------------------------------------------------
    @property
    def xrpc_url(self) -> str:
        """What atproto's ``AsyncClient(base_url=...)`` is given."""
        return f"{self.base_url}/xrpc"

    def setup(self, app: web.Application) -> None:
        self.api.register(app)
        app.middlewares.append(self._loser.middleware())  # innermost: a lost answer was really produced

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        """The PDS's answer for an injected fault; a 429 carries a reset like a real one."""
        error: XrpcError = rate_limit_exceeded() if status == 429 else internal_server_error()
        headers: dict[str, str] = {}
        if status == 429:
            reset = int(self.clock() + self.faults.retry_after_seconds) + 1
            headers = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                       "RateLimit-Policy": "3000;w=300"}
        return error.response(headers)

    # --- credentials ---------------------------------------------------------------------------
    @property
    def brand_handle(self) -> str:
        return self._brand.handle

    @property
    def brand_password(self) -> str:
        """The brand account's app password (sandbox-only)."""
        return self._brand.password

    @property
    def brand_did(self) -> str:
        return self._brand.did

    def expire_sessions(self) -> None:
        """Every access token fails with ExpiredToken from now on (refresh tokens still work)."""
        self.sessions.expire_all()

    def revoke_app_password(self, handle: str) -> None:
        """The app password is deleted: logins and refreshes of that account fail."""
        account = self._account(handle)
        account.password = app_password()
        self.sessions.revoke(account.did)

    @property
    def logins(self) -> int:
        """createSession calls that succeeded."""
        return self.sessions.created

    @property
    def refreshes(self) -> int:
        return self.sessions.refreshed

    # --- rate limits and ambiguity ------------------------------------------------------------
    @property
    def rate_limits(self) -> RateLimits:
        return self.limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        self.limiter.limits = limits

    def reset_rate_limits(self) -> None:
        self.limiter.clear()

    def lose_next_response(self, nsid: str = "com.atproto.repo.createRecord", count: int = 1) -> None:
        """Process the next ``count`` calls of ``nsid``, then drop the connection instead of answering."""
        self._loser.arm(f"/xrpc/{nsid}", None, count)

    @property
    def lost_answers(self) -> list[dict[str, Any]]:
        return list(self._loser.answers)

    # --- the network (test and demo API) ------------------------------------------------------
    @property
    def brand(self) -> dict[str, Any]:
        return self._brand.basic()

    def add_user(self, handle: str, display_name: str | None = None, *, followers: int = 0) -> dict[str, Any]:
        return self.network.add_account(handle, display_name, password=app_password(), followers=followers).basic()

    def post_as(self, handle: str, text: str, *, reply_to: str | None = None, quote: str | None = None,
                facets: list[dict[str, Any]] | None = None, langs: list[str] | None = None) -> dict[str, Any]:
        """Post as ``handle`` (no API call, no rate limit), as the Bluesky app would: @handles of
        known accounts become mention facets unless ``facets`` is given. Returns the postView."""
        author = self._account(handle)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                                  "createdAt": _iso_now(self.clock()), "langs": langs or ["en"]}
        record["facets"] = self.network.mention_facets(text) if facets is None else facets
        if not record["facets"]:
            del record["facets"]
        if reply_to is not None:
            parent = self._post(reply_to)
            root = self._post(parent.root_uri())
            record["reply"] = {"root": root.strong_ref(), "parent": parent.strong_ref()}
        if quote is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": self._post(quote).strong_ref()}
        return self.network.create_post(author, record).view()

    def delete(self, uri: str) -> None:
        self.network.delete_post(uri)

    def post(self, uri: str) -> dict[str, Any] | None:
        found = self.network.get(uri)
        return found.view() if found else None

    def posts_by(self, handle: str) -> list[dict[str, Any]]:
        """``handle``'s live posts, oldest first."""
        return [p.view() for p in self.network.posts_by(self._account(handle).did)]

    def replies_by(self, handle: str) -> list[dict[str, Any]]:
        return [p for p in self.posts_by(handle) if "reply" in p["record"]]

    def thread(self, uri: str) -> list[dict[str, Any]]:
        """Every live post of ``uri``'s thread, oldest first."""
        return [p.view() for p in self.network.thread_of(uri)]

    def web_url(self, uri: str) -> str:
        post = self._post(uri)
        return f"{WEB}/profile/{post.author.handle}/post/{post.rkey}"

    def now(self) -> float:
        return self.clock()

    def _account(self, handle: str) -> Account:
        account = self.network.by_handle(handle)
        if account is None:
            raise KeyError(f"no Bluesky account @{handle.lstrip('@')} in the sandbox; add_user() it first")
        return account

    def _post(self, uri: str) -> Post:
        post = self.network.get(uri)
        if post is None:
            raise KeyError(f"no live post {uri} in the sandbox")
        return post


def _iso_now(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
