"""The Discourse emulator: a forum on 127.0.0.1 that serves the REST API and sends webhooks.

    async with DiscourseEmulator() as forum:
        forum.webhooks.url = desk_push_url + "/push/discourse"
        topic, first = await forum.create_topic("dana", "Order never arrived", "My parcel is late @support")
        ...

The clock is injectable (epoch seconds): it stamps topics and posts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from aiohttp import web

from socialdesk.sandbox.discourse.api import DiscourseApi
from socialdesk.sandbox.discourse.forum import Forum, ForumPost, ForumTopic
from socialdesk.sandbox.discourse.webhooks import WebhookSender
from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.lost_responses import ResponseLoser

RATE_LIMITED = {"errors": ["You’ve performed this action too many times. Please wait 10 seconds before trying "
                           "again."], "error_type": "rate_limit", "extras": {"wait_seconds": 10, "time_left": "10 seconds"}}


class DiscourseEmulator(EmulatorServer):
    name = "discourse"

    def __init__(self, *, title: str = "Acme Community", api_username: str = "acme_support",
                 clock: Callable[[], float] = time.time, max_post_length: int = 32_000, min_post_length: int = 20,
                 recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.clock = clock
        self.forum = Forum(clock)
        self.api_key = secrets.token_hex(32)
        self.api_username = api_username
        self.brand = self.forum.add_user(api_username, "Acme Support", admin=True)
        self.webhooks = WebhookSender("http://127.0.0.1", self.recorder, secret=secrets.token_hex(20))
        self.api = DiscourseApi(self.forum, self.api_key, lambda: self.base_url, title=title,
                                max_post_length=max_post_length, min_post_length=min_post_length,
                                on_post=self._post_created)
        self.loser = ResponseLoser()

    def setup(self, app: web.Application) -> None:
        self.api.register(app)
        app.middlewares.append(self.loser.middleware())

    async def start(self, port: int = 0) -> DiscourseEmulator:
        await super().start(port)
        self.webhooks.instance = self.base_url
        return self

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        if status == 429:
            wait = max(1, int(self.faults.retry_after_seconds))
            body = {**RATE_LIMITED, "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"}}
            return web.json_response(body, status=429, headers={"Retry-After": str(wait)})
        return web.json_response({"errors": ["Internal Server Error"], "error_type": "server_error"}, status=status)

    # --- the forum, as its members use it -------------------------------------------------------
    def add_user(self, username: str, name: str | None = None) -> None:
        self.forum.add_user(username, name)

    def add_category(self, name: str) -> int:
        return self.forum.add_category(name)

    async def create_topic(self, username: str, title: str, raw: str, *, category_id: int = 1,
                           tags: tuple[str, ...] = (), webhooks: bool = True) -> tuple[ForumTopic, ForumPost]:
        """A new topic and its first post; Discourse sends ``topic_created`` then ``post_created``."""
        user = self.forum.user(username) or self.forum.add_user(username, username.title())
        topic = self.forum.add_topic(user, title, category_id, list(tags))
        post = self.forum.add_post(user, topic, raw)
        if webhooks:
            await self.webhooks.emit("topic", "topic_created", self.forum.webhook_topic_json(topic))
            await self._post_created(post)
        return topic, post

    async def create_post(self, username: str, topic_id: int, raw: str, *, reply_to_post_number: int | None = None,
                          webhooks: bool = True) -> ForumPost:
        user = self.forum.user(username) or self.forum.add_user(username, username.title())
        post = self.forum.add_post(user, self.forum.topics[topic_id], raw, reply_to_post_number)
        if webhooks:
            await self._post_created(post)
        return post

    async def _post_created(self, post: ForumPost) -> None:
        await self.webhooks.emit("post", "post_created", self.forum.webhook_post_json(post, self.base_url))

    def posts_by(self, username: str) -> list[ForumPost]:
        user = self.forum.user(username)
        return [p for p in self.forum.posts.values() if user is not None and p.user_id == user.id]
