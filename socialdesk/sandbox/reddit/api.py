"""Reddit's OAuth and the API routes asyncpraw uses, answered as Reddit answers them.

* ``POST /api/v1/access_token``: HTTP Basic client auth (401 with ``WWW-Authenticate``
  otherwise); ``grant_type=password`` only for script apps (``unauthorized_client``),
  ``refresh_token`` for web apps; ``{"error": "invalid_grant"}`` for wrong secrets.
* API calls need ``Authorization: bearer <token>`` and get ``X-Ratelimit-Used``,
  ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` on every answer; a spent window
  answers 429 with the same headers.
* ``POST /api/comment`` answers ``{"json": {"errors": [...], "data": {"things": [...]}}}``
  with Reddit's error triples (``TOO_LONG``, ``DELETED_COMMENT``, ``THREAD_LOCKED``,
  ``RATELIMIT``).
"""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from socialdesk.sandbox.reddit.site import Site, Thing

WINDOW_SECONDS = 600
RATE_HEADERS = web.RequestKey("ratelimit_headers", dict)
MAX_COMMENT = 10_000


@dataclass
class RedditApp:
    client_id: str
    client_secret: str
    kind: str  # "script" or "web"
    owner: str


@dataclass
class RateWindow:
    limit: int
    clock: Callable[[], float]
    started: float = 0.0
    used: int = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock()
        if now - self.started >= WINDOW_SECONDS:
            self.started, self.used = now - (now % WINDOW_SECONDS), 0
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        reset = max(1, math.ceil(self.started + WINDOW_SECONDS - now))
        return allowed, {"x-ratelimit-used": str(self.used),
                         "x-ratelimit-remaining": f"{float(self.limit - self.used):.1f}",
                         "x-ratelimit-reset": str(reset)}


@dataclass
class RedditApi:
    site: Site
    clock: Callable[[], float]
    rate_limit: int = 1000
    apps: dict[str, RedditApp] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # account -> password
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> account
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> account
    windows: dict[str, RateWindow] = field(default_factory=dict)  # account:client -> window
    user_agents: list[str] = field(default_factory=list)
    action_wait_minutes: int = 0  # > 0: the next comment gets a RATELIMIT answer

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/access_token", self.access_token)
        app.router.add_get("/api/v1/me", self.me)
        app.router.add_get("/r/{sub}/comments{tail:/?}", self.subreddit_comments)
        app.router.add_get("/r/{sub}/new{tail:/?}", self.subreddit_new)
        app.router.add_get("/message/mentions{tail:/?}", self.mentions)
        app.router.add_get("/message/comments{tail:/?}", self.comment_replies)
        app.router.add_get("/user/{name}/comments{tail:/?}", self.user_comments)
        app.router.add_post("/api/comment{tail:/?}", self.comment)
        app.router.add_post("/api/del{tail:/?}", self.delete)

    # --- OAuth ---------------------------------------------------------------------------------
    def _client(self, request: web.Request) -> RedditApp | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        app = self.apps.get(client_id)
        return app if app is not None and secrets.compare_digest(app.client_secret, secret) else None

    async def access_token(self, request: web.Request) -> web.Response:
        self.user_agents.append(request.headers.get("User-Agent", ""))
        client = self._client(request)
        if client is None:
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401,
                                     headers={"WWW-Authenticate": 'Basic realm="reddit"'})
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "password":
            if client.kind != "script":
                return web.json_response({"error": "unauthorized_client",
                                          "error_description": "Only script apps may use password auth"})
            account = str(form.get("username", ""))
            if self.passwords.get(account.lower()) != form.get("password") or account.lower() != client.owner.lower():
                return web.json_response({"error": "invalid_grant"})
        elif grant == "refresh_token":
            account = self.refresh_tokens.get(str(form.get("refresh_token", "")), "")
            if not account:
                return web.json_response({"error": "invalid_grant"}, status=400)
        else:
            return web.json_response({"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = account
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    def _account(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        self.user_agents.append(request.headers.get("User-Agent", ""))
        header = request.headers.get("Authorization", "")
        account = self.tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
        if account is None:
            return None, web.json_response({"message": "Unauthorized", "error": 401}, status=401,
                                           headers={"WWW-Authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        window = self.windows.setdefault(account, RateWindow(self.rate_limit, self.clock))
        allowed, headers = window.take()
        request[RATE_HEADERS] = headers
        if not allowed:
            return None, web.json_response({"message": "Too Many Requests", "error": 429}, status=429, headers=headers)
        return account, None

    def _answer(self, request: web.Request, body: Any) -> web.Response:
        return web.json_response(body, headers=request.get(RATE_HEADERS, {}))

    # --- listings ------------------------------------------------------------------------------
    def _listing(self, request: web.Request, children: list[dict[str, Any]]) -> web.Response:
        """Newest first; ``after``/``before`` page by fullname, ``limit`` up to 100."""
        try:
            limit = max(1, min(100, int(request.query.get("limit", "25"))))
        except ValueError:
            limit = 25
        names = [child["data"]["name"] for child in children]
        after = request.query.get("after")
        if after in names:
            children = children[names.index(after) + 1:]
        page = children[:limit]
        more = len(children) > limit
        return self._answer(request, {"kind": "Listing", "data": {
            "after": page[-1]["data"]["name"] if more and page else None, "before": None, "dist": len(page),
            "modhash": None, "geo_filter": "", "children": page}})

    def _newest(self, things: list[Thing]) -> list[Thing]:
        return sorted(things, key=lambda t: (t.kind, int(t.id, 36)), reverse=True)

    def _in_subs(self, sub: str, kind: str) -> list[Thing]:
        subs = {s.lower() for s in sub.split("+")}
        return self._newest([t for t in self.site.things.values() if t.kind == kind and t.subreddit.lower() in subs])

    async def me(self, request: web.Request) -> web.Response:
        account, refused = self._account(request)
        if refused is not None:
            return refused
        return self._answer(request, {"name": account, "id": base64.b32encode(str(account).encode()).decode()[:6].lower(),
                                      "is_suspended": False, "created_utc": 1_500_000_000.0})

    async def subreddit_comments(self, request: web.Request) -> web.Response:
        _, refused = self._account(request)
        if refused is not None:
            return refused
        things = self._in_subs(request.match_info["sub"], "t1")
        return self._listing(request, [self.site.json(t) for t in things])

    async def subreddit_new(self, request: web.Request) -> web.Response:
        _, refused = self._account(request)
        if refused is not None:
            return refused
        things = self._in_subs(request.match_info["sub"], "t3")
        return self._listing(request, [self.site.json(t) for t in things])

    def _inbox(self, request: web.Request, box: dict[str, list[str]], kind: str) -> web.Response:
        account, refused = self._account(request)
        if refused is not None:
            return refused
        assert account is not None
        things = self._newest([self.site.things[n] for n in box.get(account.lower(), [])])
        return self._listing(request, [self.site.inbox_json(t, account, kind) for t in things])

    async def mentions(self, request: web.Request) -> web.Response:
        return self._inbox(request, self.site.mentions, "username_mention")

    async def comment_replies(self, request: web.Request) -> web.Response:
        return self._inbox(request, self.site.replies, "comment_reply")

    async def user_comments(self, request: web.Request) -> web.Response:
        _, refused = self._account(request)
        if refused is not None:
            return refused
        name = request.match_info["name"].lower()
        things = self._newest([t for t in self.site.things.values()
                               if t.kind == "t1" and t.author.lower() == name and not t.deleted])
        return self._listing(request, [self.site.json(t) for t in things])

    # --- posting -------------------------------------------------------------------------------
    async def delete(self, request: web.Request) -> web.Response:
        """POST /api/del ``id=<fullname>``: Reddit answers ``{}`` whatever the id, and deletes only
        the caller's own comment or post (shown as ``[deleted]`` from then on)."""
        account, refused = self._account(request)
        if refused is not None:
            return refused
        assert account is not None
        form = await request.post()
        thing = self.site.things.get(str(form.get("id", "")))
        if thing is not None and thing.author.lower() == account.lower():
            thing.deleted = True
        return self._answer(request, {})

    async def comment(self, request: web.Request) -> web.Response:
        account, refused = self._account(request)
        if refused is not None:
            return refused
        assert account is not None
        form = await request.post()
        text, parent_name = str(form.get("text", "")), str(form.get("thing_id", ""))
        parent = self.site.things.get(parent_name)
        errors: list[list[str]] = []
        if self.action_wait_minutes:
            errors.append(["RATELIMIT", f"Looks like you've been doing that a lot. Take a break for "
                                        f"{self.action_wait_minutes} minutes before trying again.", "ratelimit"])
            self.action_wait_minutes = 0
        elif len(text) > MAX_COMMENT:
            errors.append(["TOO_LONG", f"this is too long (max: {MAX_COMMENT})", "text"])
        elif parent is None or parent.deleted:
            errors.append(["DELETED_COMMENT", "that comment has been deleted", "parent"])
        elif parent.locked or self.site.things[parent.link_id or parent.name].locked:
            errors.append(["THREAD_LOCKED", "Comments are locked.", "parent"])
        if errors:
            return self._answer(request, {"json": {"errors": errors}})
        assert parent is not None
        thing = self.site.comment(account, parent, text)
        return self._answer(request, {"json": {"errors": [], "data": {"things": [self.site.json(thing)]}}})
