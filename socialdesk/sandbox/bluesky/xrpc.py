"""The XRPC methods the desk uses, as aiohttp handlers under ``/xrpc/<nsid>``.

A ``query`` is GET with parameters in the query string (arrays as repeated keys), a
``procedure`` is POST with a JSON body; errors are ``{"error", "message"}`` with the
names the lexicons list. Every request counts against the per-IP limit; sessions and
record writes have their own (``rate_limits``). The answer carries the headers of the
tightest limit that applied.

| nsid                                   | kind      | auth            |
|----------------------------------------|-----------|-----------------|
| com.atproto.server.createSession       | procedure | app password    |
| com.atproto.server.refreshSession      | procedure | refresh JWT     |
| com.atproto.server.getSession          | query     | access JWT      |
| com.atproto.identity.resolveHandle     | query     | none            |
| app.bsky.actor.getProfile              | query     | access JWT      |
| app.bsky.notification.listNotifications| query     | access JWT      |
| app.bsky.notification.updateSeen       | procedure | access JWT      |
| app.bsky.feed.getPosts                 | query     | access JWT      |
| app.bsky.feed.getPostThread            | query     | access JWT      |
| com.atproto.repo.createRecord          | procedure | access JWT      |
| com.atproto.repo.deleteRecord          | procedure | access JWT      |
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from socialdesk.plugins.bluesky.post_length import MAX_BYTES, MAX_GRAPHEMES, byte_length, grapheme_length
from socialdesk.sandbox.bluesky.errors import (
    XrpcError,
    authentication_required,
    invalid_request,
    json_response,
    method_not_implemented,
    rate_limit_exceeded,
)
from socialdesk.sandbox.bluesky.ids import COLLECTION_POST, TidClock, split_uri
from socialdesk.sandbox.bluesky.network import Account, Network, Notification, Post, iso
from socialdesk.sandbox.bluesky.rate_limits import Quota, RateLimiter
from socialdesk.sandbox.bluesky.sessions import Sessions, bearer

Handler = Callable[["Call"], Awaitable[web.Response]]
MAX_POSTS_PER_LOOKUP = 25


@dataclass
class Call:
    request: web.Request
    body: dict[str, Any]
    account: Account | None  # who the access token speaks for

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.request.query.get(name, default)

    def params(self, name: str) -> list[str]:
        return self.request.query.getall(name, [])  # type: ignore[no-any-return]

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        raw = self.param(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_request(f"{name} must be an integer") from None
        if not low <= value <= high:
            raise invalid_request(f"{name} can not be less than {low}" if value < low
                                  else f"{name} can not be greater than {high}")
        return value

    def require(self, name: str) -> str:
        value = self.param(name)
        if not value:
            raise invalid_request(f'Error: Params must have the property "{name}"')
        return value

    @property
    def me(self) -> Account:
        assert self.account is not None
        return self.account


@dataclass(frozen=True)
class Method:
    http_method: str
    handler: Handler
    auth: str  # "access" | "refresh" | "password" | "none"


class XrpcApi:
    def __init__(self, network: Network, sessions: Sessions, limiter: RateLimiter) -> None:
        self.network = network
        self.sessions = sessions
        self.limiter = limiter
        self.tids = TidClock(clock_id=9)
        self.methods: dict[str, Method] = {
            "com.atproto.server.createSession": Method("POST", self.create_session, "password"),
            "com.atproto.server.refreshSession": Method("POST", self.refresh_session, "refresh"),
            "com.atproto.server.getSession": Method("GET", self.get_session, "access"),
            "com.atproto.identity.resolveHandle": Method("GET", self.resolve_handle, "none"),
            "app.bsky.actor.getProfile": Method("GET", self.get_profile, "access"),
            "app.bsky.notification.listNotifications": Method("GET", self.list_notifications, "access"),
            "app.bsky.notification.updateSeen": Method("POST", self.update_seen, "access"),
            "app.bsky.feed.getPosts": Method("GET", self.get_posts, "access"),
            "app.bsky.feed.getPostThread": Method("GET", self.get_post_thread, "access"),
            "com.atproto.repo.createRecord": Method("POST", self.create_record, "access"),
            "com.atproto.repo.deleteRecord": Method("POST", self.delete_record, "access"),
        }

    def register(self, app: web.Application) -> None:
        app.router.add_route("*", "/xrpc/{nsid}", self.dispatch)

    # --- the gate ------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.Response:
        ip = request.remote or "127.0.0.1"
        allowed, quota = self.limiter.take("global-ip", ip, (self.limiter.limits.global_ip,))
        if not allowed:
            return rate_limit_exceeded().response(quota.headers())
        headers = quota.headers()
        try:
            method = self.methods.get(request.match_info["nsid"])
            if method is None:
                raise method_not_implemented()
            if request.method != method.http_method:
                raise invalid_request(f"Incorrect HTTP method ({request.method}) expected {method.http_method}")
            body: dict[str, Any] = {}
            if method.http_method == "POST":
                raw = await request.read()
                if raw:
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        raise invalid_request("Request body is not valid JSON") from None
                    if not isinstance(parsed, dict):
                        raise invalid_request("Input must be an object")
                    body = parsed
            account = self._authenticate(request, method.auth)
            response = await method.handler(Call(request, body, account))
        except _Limited as limited:
            return rate_limit_exceeded().response(limited.quota.headers())
        except XrpcError as error:
            return error.response(headers)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    def _authenticate(self, request: web.Request, kind: str) -> Account | None:
        if kind in ("none", "password"):
            return None
        token = bearer(request.headers.get("Authorization"))
        if kind == "refresh":
            return None  # refreshSession reads the token itself
        account = self.network.accounts.get(self.sessions.access(token))
        if account is None:
            raise authentication_required("Account not found")
        return account

    def _spend(self, name: str, key: str, limits: Any, cost: int = 1) -> Quota:
        allowed, quota = self.limiter.take(name, key, limits, cost)
        if not allowed:
            raise _Limited(quota)
        return quota

    # --- sessions ----------------------------------------------------------------------------
    async def create_session(self, call: Call) -> web.Response:
        identifier = str(call.body.get("identifier") or "")
        password = str(call.body.get("password") or "")
        if not identifier or not password:
            raise invalid_request('Input must have the property "identifier" and "password"')
        quota = self._spend("create-session", identifier.lower(), self.limiter.limits.create_session)
        account = self.network.by_actor(identifier.lstrip("@"))
        if account is None or password != account.password:
            raise authentication_required("Invalid identifier or password")
        access, refresh = self.sessions.issue(account.did)
        self.sessions.created += 1
        return json_response(200, {"accessJwt": access, "refreshJwt": refresh, "handle": account.handle,
                                   "did": account.did, "active": True}, quota.headers())

    async def refresh_session(self, call: Call) -> web.Response:
        did, access, refresh = self.sessions.rotate(bearer(call.request.headers.get("Authorization")))
        account = self.network.accounts[did]
        return json_response(200, {"accessJwt": access, "refreshJwt": refresh, "handle": account.handle,
                                   "did": account.did, "active": True})

    async def get_session(self, call: Call) -> web.Response:
        return json_response(200, {"handle": call.me.handle, "did": call.me.did, "active": True})

    # --- actors --------------------------------------------------------------------------------
    async def resolve_handle(self, call: Call) -> web.Response:
        account = self.network.by_handle(call.require("handle"))
        if account is None:
            raise invalid_request("Unable to resolve handle")
        return json_response(200, {"did": account.did})

    async def get_profile(self, call: Call) -> web.Response:
        account = self.network.by_actor(call.require("actor"))
        if account is None:
            raise invalid_request("Profile not found")
        return json_response(200, account.detailed(len(self.network.posts_by(account.did))))

    # --- notifications -------------------------------------------------------------------------
    async def list_notifications(self, call: Call) -> web.Response:
        limit = call.integer("limit", 1, 100, 50)
        reasons = set(call.params("reasons"))
        before = _parse_cursor(call.param("cursor"))
        page: list[Notification] = []
        for item in self.network.notifications_of(call.me.did, reasons or None):
            if before is not None and item.sort_key >= before:
                continue
            page.append(item)
            if len(page) == limit:
                break
        body: dict[str, Any] = {"notifications": [n.view(call.me.seen_at) for n in page], "priority": False}
        if page:  # the AppView hands out a cursor for any non-empty page; the next one may be empty
            last = page[-1].sort_key
            body["cursor"] = f"{int(last[0] * 1000)}::{last[1]}"
        if call.me.seen_at:
            body["seenAt"] = call.me.seen_at
        return json_response(200, body)

    async def update_seen(self, call: Call) -> web.Response:
        seen = call.body.get("seenAt")
        if not isinstance(seen, str) or _datetime(seen) is None:
            raise invalid_request('Input must have the property "seenAt" (a datetime)')
        call.me.seen_at = iso(_datetime(seen).timestamp())  # type: ignore[union-attr]
        return web.Response(status=200)

    # --- reading posts -------------------------------------------------------------------------
    async def get_posts(self, call: Call) -> web.Response:
        uris = call.params("uris")
        if not uris:
            raise invalid_request('Error: Params must have the property "uris"')
        if len(uris) > MAX_POSTS_PER_LOOKUP:
            raise invalid_request(f"Error: uris must not have more than {MAX_POSTS_PER_LOOKUP} elements")
        found = [p for p in (self.network.get(u) for u in uris) if p is not None]
        return json_response(200, {"posts": [p.view() for p in found]})

    async def get_post_thread(self, call: Call) -> web.Response:
        uri = call.require("uri")
        depth = call.integer("depth", 0, 1000, 6)
        height = call.integer("parentHeight", 0, 1000, 80)
        post = self.network.get(uri)
        if post is None:
            raise XrpcError(400, "NotFound", f"Post not found: {uri}")
        thread = self._thread_view(post, depth)
        node, parent_uri = thread, post.parent_uri()
        for _ in range(height):
            parent = self.network.get(parent_uri or "")
            if parent_uri is None:
                break
            if parent is None:
                node["parent"] = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": parent_uri, "notFound": True}
                break
            node["parent"] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": parent.view()}
            node, parent_uri = node["parent"], parent.parent_uri()
        return json_response(200, {"thread": thread})

    def _thread_view(self, post: Post, depth: int) -> dict[str, Any]:
        view: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": post.view()}
        if depth > 0:
            replies = sorted(self.network.replies_to(post.uri), key=lambda p: p.indexed_epoch)
            view["replies"] = [self._thread_view(r, depth - 1) for r in replies]
        return view

    # --- writing records -----------------------------------------------------------------------
    async def create_record(self, call: Call) -> web.Response:
        repo, collection = call.body.get("repo"), call.body.get("collection")
        record, rkey = call.body.get("record"), call.body.get("rkey")
        if not isinstance(repo, str) or not isinstance(collection, str) or not isinstance(record, dict):
            raise invalid_request('Input must have the properties "repo", "collection" and "record"')
        if repo not in (call.me.did, call.me.handle):
            raise authentication_required("Can not write to repo of another account")
        if collection != COLLECTION_POST:
            raise invalid_request(f"Unsupported collection in the sandbox: {collection}")
        if rkey is not None and (not isinstance(rkey, str) or not 1 <= len(rkey) <= 512):
            raise invalid_request("Invalid record key")
        _validate_post(record, self.network)
        quota = self._spend("repo-write", call.me.did, self.limiter.limits.repo_write, self.limiter.limits.create_cost)
        try:
            post = self.network.create_post(call.me, record, rkey)
        except ValueError as exc:
            raise invalid_request(str(exc)) from None
        commit = {"cid": post.cid, "rev": self.tids.next(post.indexed_epoch)}
        return json_response(200, {"uri": post.uri, "cid": post.cid, "commit": commit, "validationStatus": "valid"},
                             quota.headers())

    async def delete_record(self, call: Call) -> web.Response:
        repo, collection, rkey = (call.body.get(k) for k in ("repo", "collection", "rkey"))
        if not all(isinstance(v, str) for v in (repo, collection, rkey)):
            raise invalid_request('Input must have the properties "repo", "collection" and "rkey"')
        if repo not in (call.me.did, call.me.handle):
            raise authentication_required("Can not write to repo of another account")
        quota = self._spend("repo-write", call.me.did, self.limiter.limits.repo_write, self.limiter.limits.delete_cost)
        uri = f"at://{call.me.did}/{collection}/{rkey}"
        if self.network.get(uri) is not None:
            self.network.delete_post(uri)
        return json_response(200, {"commit": {"cid": "", "rev": self.tids.next(self.network.clock())}},
                             quota.headers())


class _Limited(Exception):
    def __init__(self, quota: Quota) -> None:
        super().__init__("rate limited")
        self.quota = quota


def _parse_cursor(raw: str | None) -> tuple[float, int] | None:
    if not raw:
        return None
    try:
        millis, sequence = raw.split("::")
        return int(millis) / 1000, int(sequence)
    except ValueError:
        raise invalid_request("Malformed cursor") from None


def _datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _validate_post(record: dict[str, Any], network: Network) -> None:
    """The checks the PDS makes against the app.bsky.feed.post lexicon (what the desk can get wrong)."""
    def refuse(detail: str) -> XrpcError:
        return invalid_request(f"Invalid app.bsky.feed.post record: {detail}")

    if record.get("$type") != COLLECTION_POST:
        raise refuse("Record/$type must be app.bsky.feed.post")
    text = record.get("text")
    if not isinstance(text, str):
        raise refuse('Record must have the property "text"')
    if byte_length(text) > MAX_BYTES:
        raise refuse(f"Record/text must not be longer than {MAX_BYTES} characters")
    if grapheme_length(text) > MAX_GRAPHEMES:
        raise refuse(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
    if not isinstance(record.get("createdAt"), str) or _datetime(record["createdAt"]) is None:
        raise refuse("Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)")
    reply = record.get("reply")
    if reply is not None:
        for part in ("root", "parent"):
            ref = reply.get(part) if isinstance(reply, dict) else None
            if not isinstance(ref, dict) or not isinstance(ref.get("uri"), str) or not isinstance(ref.get("cid"), str):
                raise refuse(f'Record/reply must have the property "{part}" with "uri" and "cid"')
            if split_uri(ref["uri"]) is None:
                raise refuse(f"Record/reply/{part}/uri must be a valid at-uri")
    size = byte_length(text)
    for number, facet in enumerate(record.get("facets") or ()):
        index = facet.get("index") if isinstance(facet, dict) else None
        start = index.get("byteStart") if isinstance(index, dict) else None
        end = index.get("byteEnd") if isinstance(index, dict) else None
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end <= size:
            raise refuse(f"Record/facets/{number}/index must lie within the text's UTF-8 bytes")
        if not isinstance(facet.get("features"), list) or not facet["features"]:
            raise refuse(f'Record/facets/{number} must have the property "features"')
