"""The REST routes the plugin uses, answered as Discourse answers them.

Every request needs ``Api-Key`` (the emulator's key) and ``Api-Username`` (an existing
user), or it gets Discourse's 403 ``invalid_access``. ``POST /posts.json`` enforces the
site's ``max_post_length``/``min_post_length`` with Discourse's 422 messages, and fires a
``post_created`` webhook for the new post, as Discourse does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from socialdesk.sandbox.discourse.forum import Forum, ForumPost

PAGE_SIZE = 50
NOT_FOUND = {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}
INVALID_ACCESS = {"errors": ["You are not permitted to view the requested resource. The API username or key is "
                             "invalid."], "error_type": "invalid_access"}


class DiscourseApi:
    def __init__(self, forum: Forum, api_key: str, base_url: Callable[[], str], *, title: str,
                 max_post_length: int, min_post_length: int,
                 on_post: Callable[[ForumPost], Awaitable[None]]) -> None:
        self.forum = forum
        self.api_key = api_key
        self._base_url = base_url
        self.title = title
        self.max_post_length = max_post_length
        self.min_post_length = min_post_length
        self._on_post = on_post

    def register(self, app: web.Application) -> None:
        app.router.add_get("/posts.json", self.latest_posts)
        app.router.add_post("/posts.json", self.create_post)
        app.router.add_get("/posts/{id}.json", self.get_post)
        app.router.add_put("/posts/{id}.json", self.update_post)
        app.router.add_delete("/posts/{id}.json", self.delete_post)
        app.router.add_get("/t/{id}.json", self.get_topic)
        app.router.add_get("/site/basic-info.json", self.basic_info)
        app.router.add_get("/u/{username}.json", self.get_user)
        app.router.add_get("/admin/site_settings.json", self.site_settings)

    def _authorised(self, request: web.Request) -> bool:
        return (request.headers.get("Api-Key") == self.api_key
                and self.forum.user(request.headers.get("Api-Username", "")) is not None)

    def _int(self, request: web.Request, name: str) -> int | None:
        try:
            return int(request.match_info[name])
        except ValueError:
            return None

    async def latest_posts(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        ids = sorted(self.forum.posts, reverse=True)
        before = request.query.get("before")
        if before is not None:
            try:
                ids = [i for i in ids if i < int(before)]
            except ValueError:
                return web.json_response({"errors": ["before must be an integer"]}, status=400)
        base = self._base_url()
        posts = [self.forum.latest_post_json(self.forum.posts[i], base) for i in ids[:PAGE_SIZE]]
        return web.json_response({"latest_posts": posts})

    async def get_post(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        post_id = self._int(request, "id")
        post = self.forum.posts.get(post_id) if post_id is not None else None
        if post is None or post.deleted_at is not None:
            return web.json_response(NOT_FOUND, status=404)
        return web.json_response(self.forum.post_json(post, self._base_url()))

    def _own_post(self, request: web.Request) -> tuple[ForumPost | None, web.Response | None]:
        if not self._authorised(request):
            return None, web.json_response(INVALID_ACCESS, status=403)
        post_id = self._int(request, "id")
        post = self.forum.posts.get(post_id) if post_id is not None else None
        if post is None or post.deleted_at is not None:
            return None, web.json_response(NOT_FOUND, status=404)
        user = self.forum.user(request.headers["Api-Username"])
        if user is None or (user.id != post.user_id and not user.admin):
            return None, web.json_response(INVALID_ACCESS, status=403)
        return post, None

    async def update_post(self, request: web.Request) -> web.Response:
        """PUT /posts/{id}.json ``{"post": {"raw": ..., "edit_reason": ...}}``: the author (or staff) edits."""
        post, refused = self._own_post(request)
        if refused is not None:
            return refused
        assert post is not None
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"errors": ["the body is not valid JSON"]}, status=400)
        raw = (body.get("post") or {}).get("raw") if isinstance(body, dict) else None
        if not isinstance(raw, str):
            return web.json_response({"errors": ["param is missing or the value is empty: post"]}, status=400)
        length = len(raw.strip())
        if length > self.max_post_length:
            return web.json_response({"action": "edit_post", "errors": [
                f"Body is limited to {self.max_post_length} characters; you entered {length}."]}, status=422)
        if length < self.min_post_length:
            return web.json_response({"action": "edit_post", "errors": [
                f"Body is too short (minimum is {self.min_post_length} characters)"]}, status=422)
        if raw != post.raw:
            post.raw, post.version, post.updated_at = raw, post.version + 1, self.forum.clock()
        return web.json_response({"post": self.forum.post_json(post, self._base_url())})

    async def delete_post(self, request: web.Request) -> web.Response:
        """DELETE /posts/{id}.json: the author (or staff) deletes; the post is gone from reads."""
        post, refused = self._own_post(request)
        if refused is not None:
            return refused
        assert post is not None
        post.deleted_at = self.forum.clock()
        return web.json_response({})

    async def get_topic(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        topic_id = self._int(request, "id")
        topic = self.forum.topics.get(topic_id) if topic_id is not None else None
        if topic is None:
            return web.json_response(NOT_FOUND, status=404)
        return web.json_response(self.forum.topic_json(topic, self._base_url()))

    async def get_user(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        user = self.forum.user(request.match_info["username"])
        if user is None:
            return web.json_response(NOT_FOUND, status=404)
        return web.json_response({"user": {"id": user.id, "username": user.username, "name": user.name,
                                           "admin": user.admin}})

    async def site_settings(self, request: web.Request) -> web.Response:
        """Admin only, as on Discourse (not in the API description; the admin UI's own endpoint)."""
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        user = self.forum.user(request.headers["Api-Username"])
        if user is None or not user.admin:
            return web.json_response(INVALID_ACCESS, status=403)
        settings = [{"setting": name, "value": str(value), "default": str(default), "type": "integer",
                     "category": "posting"}
                    for name, value, default in (("max_post_length", self.max_post_length, 32_000),
                                                 ("min_post_length", self.min_post_length, 20))]
        return web.json_response({"site_settings": settings})

    async def basic_info(self, request: web.Request) -> web.Response:
        return web.json_response({
            "logo_url": "", "logo_small_url": "", "apple_touch_icon_url": "", "favicon_url": "",
            "title": self.title, "description": "The sandbox forum", "header_primary_color": "222222",
            "header_background_color": "ffffff", "login_required": False, "locale": "en",
            "include_in_discourse_discover": False, "mobile_logo_url": ""})

    async def create_post(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(INVALID_ACCESS, status=403)
        user = self.forum.user(request.headers["Api-Username"])
        assert user is not None
        try:
            body: dict[str, Any] = (await request.json() if request.content_type == "application/json"
                                    else dict(await request.post()))
        except ValueError:
            return web.json_response({"errors": ["the body is not valid JSON"]}, status=400)
        raw = body.get("raw")
        if not isinstance(raw, str):
            return web.json_response({"action": "create_post", "errors": ["raw is required"]}, status=422)
        try:
            topic_id = int(body.get("topic_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return web.json_response({"action": "create_post", "errors": ["Title can't be blank"]}, status=422)
        topic = self.forum.topics.get(topic_id)
        if topic is None:
            return web.json_response(NOT_FOUND, status=404)
        length = len(raw.strip())
        if length > self.max_post_length:
            return web.json_response({"action": "create_post", "errors": [
                f"Body is limited to {self.max_post_length} characters; you entered {length}."]}, status=422)
        if length < self.min_post_length:
            return web.json_response({"action": "create_post", "errors": [
                f"Body is too short (minimum is {self.min_post_length} characters)"]}, status=422)
        reply_to = body.get("reply_to_post_number")
        post = self.forum.add_post(user, topic, raw, int(reply_to) if reply_to not in (None, "") else None)
        await self._on_post(post)
        answer = self.forum.post_json(post, self._base_url())
        answer["draft_sequence"] = 0
        return web.Response(text=json.dumps(answer), content_type="application/json")
