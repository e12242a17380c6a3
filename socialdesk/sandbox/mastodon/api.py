"""The Mastodon REST endpoints the desk uses, answering as Mastodon 4.x does.

Accounts (``verify_credentials``), instance (v1 and v2), notifications (``types[]``,
``since_id``/``min_id``/``max_id``, ``limit`` up to 80, ``Link`` headers), statuses
(get, context, post with ``Idempotency-Key``, delete) and the user stream. Errors are
Mastodon's ``{"error": "..."}`` bodies; every authenticated answer carries the
``X-RateLimit-*`` headers and a ``Date`` from the emulator's clock.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from socialdesk.plugins.mastodon.status_length import status_length
from socialdesk.sandbox.mastodon.auth import AccessToken, TokenRegistry
from socialdesk.sandbox.mastodon.rate_limits import RateLimiter
from socialdesk.sandbox.mastodon.state import VISIBILITIES, Account, Instance, Notification, iso
from socialdesk.sandbox.mastodon.streaming import StreamHub

VERSION = "4.5.0"
MAX_NOTIFICATIONS = 80
DEFAULT_NOTIFICATIONS = 40

Handler = Callable[[web.Request, Account, AccessToken], Awaitable[web.StreamResponse]]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class MastodonApi:
    def __init__(self, instance: Instance, tokens: TokenRegistry, limiter: RateLimiter, hub: StreamHub,
                 base_url: Callable[[], str]) -> None:
        self.instance = instance
        self.tokens = tokens
        self.limiter = limiter
        self.hub = hub
        self._base_url = base_url
        instance.on_notification.append(self._push)

    def date_header(self) -> dict[str, str]:
        return {"Date": formatdate(self.instance.clock(), usegmt=True)}

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/api/v1/accounts/verify_credentials", self._auth("read:accounts", self.verify_credentials))
        r.add_get("/api/v1/apps/verify_credentials", self._auth("", self.app_credentials))
        for slash in ("", "/"):  # Rails routes ignore a trailing slash; Mastodon.py sends one here
            r.add_get(f"/api/v1/instance{slash}", self.instance_v1)
            r.add_get(f"/api/v2/instance{slash}", self.instance_v2)
        r.add_get("/api/v1/notifications", self._auth("read:notifications", self.notifications))
        r.add_get("/api/v1/notifications/{id}", self._auth("read:notifications", self.notification))
        r.add_post("/api/v1/statuses", self._auth("write:statuses", self.post_status))
        r.add_get("/api/v1/statuses/{id}", self._auth("read:statuses", self.get_status))
        r.add_delete("/api/v1/statuses/{id}", self._auth("write:statuses", self.delete_status))
        r.add_put("/api/v1/statuses/{id}", self._auth("write:statuses", self.edit_status))
        r.add_get("/api/v1/statuses/{id}/context", self._auth("read:statuses", self.context))
        r.add_get("/api/v1/streaming/health", self.streaming_health)
        r.add_get("/api/v1/streaming/user", self.stream_user)

    # --- plumbing ------------------------------------------------------------------------------
    def _caller(self, request: web.Request) -> AccessToken | None:
        return self.tokens.find(request.headers.get("Authorization"), request.query.get("access_token"))

    def _auth(self, scope: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            token = self._caller(request)
            if token is None or token.account_id not in self.instance.accounts:
                return error(401, "The access token is invalid", self.date_header())
            standing = self.limiter.spend(token.account_id)
            headers = {**standing.headers(), **self.date_header()}
            if standing.exceeded:
                return error(429, "Too many requests", headers)
            if scope and not token.allows(scope):
                return error(403, "This action is outside the authorized scopes", headers)
            response = await handler(request, self.instance.accounts[token.account_id], token)
            response.headers.update(headers)
            return response

        return wrapped

    def rate_headers_for(self, request: web.Request) -> dict[str, str]:
        """Headers for an injected 429: the caller's window, used up."""
        token = self._caller(request)
        headers = self.date_header()
        if token is not None:
            standing = self.limiter.standing(token.account_id)
            headers.update({"X-RateLimit-Limit": str(standing.limit), "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": iso(standing.reset)})
        return headers

    def _push(self, note: Notification) -> None:
        self.hub.publish(note.recipient_id, "notification", self.instance.notification_json(note))

    # --- accounts and instance -----------------------------------------------------------------
    async def verify_credentials(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        body = self.instance.account_json(me)
        body["source"] = {"privacy": "public", "sensitive": False, "language": "en", "note": me.note,
                          "fields": [], "follow_requests_count": 0}
        return web.json_response(body)

    async def app_credentials(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        """The application the token was issued to, with the scopes it holds (Mastodon 4.3+)."""
        return web.json_response({"id": "1", "name": "socialdesk", "website": None,
                                  "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                                  "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"], "scopes": list(token.scopes),
                                  "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="})

    def _configuration(self) -> dict[str, Any]:
        return {"statuses": {"max_characters": self.instance.max_characters, "max_media_attachments": 4,
                             "characters_reserved_per_url": 23},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "media_attachments": {"image_matrix_limit": 33177600, "image_size_limit": 16777216,
                                      "supported_mime_types": ["image/png", "image/jpeg"],
                                      "video_frame_rate_limit": 120, "video_matrix_limit": 8294400,
                                      "video_size_limit": 103809024},
                "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                          "max_expiration": 2629746}}

    async def instance_v1(self, request: web.Request) -> web.Response:
        streaming = self._base_url().replace("http://", "ws://").replace("https://", "wss://")
        return web.json_response({
            "uri": self.instance.domain, "title": "Sandbox Mastodon", "short_description": "The socialdesk sandbox",
            "description": "A Mastodon emulator on 127.0.0.1", "email": f"admin@{self.instance.domain}",
            "version": VERSION, "urls": {"streaming_api": streaming},
            "stats": {"user_count": len(self.instance.accounts), "status_count": len(self.instance.statuses),
                      "domain_count": 1},
            "thumbnail": None, "languages": ["en"], "registrations": False, "approval_required": False,
            "invites_enabled": False, "configuration": self._configuration(), "contact_account": None, "rules": [],
        }, headers=self.date_header())

    async def instance_v2(self, request: web.Request) -> web.Response:
        streaming = self._base_url().replace("http://", "ws://").replace("https://", "wss://")
        configuration = self._configuration()
        configuration.update({
            "urls": {"streaming": streaming, "status": None},
            "translation": {"enabled": False},
            "timelines_access": {"live_feeds": {"local": "public", "remote": "public"},
                                 "hashtag_feeds": {"local": "public", "remote": "public"},
                                 "trending_link_feeds": {"local": "public", "remote": "public"}},
        })
        return web.json_response({
            "domain": self.instance.domain, "title": "Sandbox Mastodon", "version": VERSION,
            "source_url": "https://github.com/mastodon/mastodon", "description": "A Mastodon emulator on 127.0.0.1",
            "usage": {"users": {"active_month": len(self.instance.accounts)}},
            "thumbnail": {"url": f"{self.instance.origin}/packs/media/images/preview.png"},
            "icon": [], "languages": ["en"], "configuration": configuration,
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "api_versions": {"mastodon": 6},
            "contact": {"email": f"admin@{self.instance.domain}", "account": None}, "rules": [],
        }, headers=self.date_header())

    # --- notifications -------------------------------------------------------------------------
    async def notifications(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        query = request.query
        types = set(query.getall("types[]", [])) | set(query.getall("types", []))
        excluded = set(query.getall("exclude_types[]", [])) | set(query.getall("exclude_types", []))
        try:
            limit = int(query.get("limit", DEFAULT_NOTIFICATIONS))
            since_id, min_id, max_id = (int(query[k]) if query.get(k) else None for k in ("since_id", "min_id", "max_id"))
        except ValueError:
            return error(422, "Validation failed: invalid pagination parameter")
        limit = max(1, min(limit, MAX_NOTIFICATIONS))
        mine = [n for n in self.instance.notifications
                if n.recipient_id == me.id and (not types or n.type in types) and n.type not in excluded
                and (n.status_id is None or self.instance.live(n.status_id) is not None)]
        if max_id is not None:
            mine = [n for n in mine if int(n.id) < max_id]
        if since_id is not None:
            mine = [n for n in mine if int(n.id) > since_id]
        if min_id is not None:
            page = [n for n in mine if int(n.id) > min_id][:limit]  # the oldest just above the cursor
            page.reverse()
        else:
            page = list(reversed(mine))[:limit]
        headers = {}
        if page:
            base = f"{self._base_url()}/api/v1/notifications"
            keep = [(k, v) for k, v in query.items() if k not in ("max_id", "min_id", "since_id")]
            headers["Link"] = (f'<{base}?{urlencode([*keep, ("max_id", page[-1].id)])}>; rel="next", '
                               f'<{base}?{urlencode([*keep, ("min_id", page[0].id)])}>; rel="prev"')
        return web.json_response([self.instance.notification_json(n) for n in page], headers=headers)

    async def notification(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        for note in self.instance.notifications:
            if note.id == request.match_info["id"] and note.recipient_id == me.id:
                return web.json_response(self.instance.notification_json(note))
        return error(404, "Record not found")

    # --- statuses ------------------------------------------------------------------------------
    async def _form(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return body if isinstance(body, dict) else {}
        return dict(await request.post())

    async def post_status(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key:
            earlier = self.instance.idempotent(me, key)
            if earlier is not None:  # the same request again: the same status, nothing new
                return web.json_response(self.instance.status_json(earlier))
        try:
            form = await self._form(request)
        except (ValueError, json.JSONDecodeError):
            return error(400, "Invalid request body")
        text = str(form.get("status") or "")
        visibility = str(form.get("visibility") or "public")
        spoiler = str(form.get("spoiler_text") or "")
        if not text.strip():
            return error(422, "Validation failed: Text can't be blank")
        if visibility not in VISIBILITIES:
            return error(422, "Validation failed: Visibility is not included in the list")
        if status_length(text, spoiler) > self.instance.max_characters:
            return error(422, f"Validation failed: Text character limit of {self.instance.max_characters} exceeded")
        in_reply_to_id = str(form["in_reply_to_id"]) if form.get("in_reply_to_id") else None
        if in_reply_to_id is not None:
            parent = self.instance.live(in_reply_to_id)
            if parent is None or not self.instance.visible_to(parent, me):
                return error(404, "Record not found")
        status = self.instance.post(me, text, visibility=visibility, in_reply_to_id=in_reply_to_id,
                                    spoiler_text=spoiler, language=str(form.get("language") or "en"))
        if key:
            self.instance.remember(me, key, status)
        return web.json_response(self.instance.status_json(status))

    async def get_status(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        status = self.instance.live(request.match_info["id"])
        if status is None or not self.instance.visible_to(status, me):
            return error(404, "Record not found")
        return web.json_response(self.instance.status_json(status))

    async def edit_status(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        """PUT /api/v1/statuses/:id: the author changes the text (Mastodon 3.5+); ``edited_at`` is set."""
        status = self.instance.live(request.match_info["id"])
        if status is None or status.account_id != me.id:
            return error(404, "Record not found")
        try:
            form = await self._form(request)
        except (ValueError, json.JSONDecodeError):
            return error(400, "Invalid request body")
        text = str(form.get("status") or "")
        spoiler = str(form.get("spoiler_text") or status.spoiler_text)
        if not text.strip():
            return error(422, "Validation failed: Text can't be blank")
        if status_length(text, spoiler) > self.instance.max_characters:
            return error(422, f"Validation failed: Text character limit of {self.instance.max_characters} exceeded")
        status.text, status.spoiler_text, status.edited_at = text, spoiler, self.instance.clock()
        return web.json_response(self.instance.status_json(status))

    async def delete_status(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        status = self.instance.live(request.match_info["id"])
        if status is None or status.account_id != me.id:
            return error(404, "Record not found")
        status.deleted = True
        body = self.instance.status_json(status)
        body["text"] = status.text
        return web.json_response(body)

    async def context(self, request: web.Request, me: Account, token: AccessToken) -> web.Response:
        status = self.instance.live(request.match_info["id"])
        if status is None or not self.instance.visible_to(status, me):
            return error(404, "Record not found")
        return web.json_response({
            "ancestors": [self.instance.status_json(s) for s in self.instance.ancestors(status, me)],
            "descendants": [self.instance.status_json(s) for s in self.instance.descendants(status, me)],
        })

    # --- streaming -----------------------------------------------------------------------------
    async def streaming_health(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def stream_user(self, request: web.Request) -> web.StreamResponse:
        token = self._caller(request)
        if token is None:
            return error(401, "Missing access token" if not request.headers.get("Authorization")
                         else "Invalid access token")
        if not (token.allows("read:statuses") or token.allows("read:notifications")):
            return error(401, "Access token does not have the required scopes")
        if self.hub.refusing:
            return error(503, "Streaming is unavailable")
        return await self.hub.serve(request, token.account_id)
