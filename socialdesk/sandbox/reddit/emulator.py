"""The Reddit emulator: OAuth and the API on one loopback server (point both URLs at it).

    async with RedditEmulator(brand="acme_support") as reddit:
        post = reddit.submit("dana", "acme", "Order never arrived", "It has been two weeks")
        reddit.comment("fox", post, "u/acme_support same here")
        ...

The clock is injectable (epoch seconds): it stamps things and drives rate-limit windows.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.reddit.api import RedditApi, RedditApp
from socialdesk.sandbox.reddit.site import Site, Thing
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.lost_responses import ResponseLoser


class RedditEmulator(EmulatorServer):
    name = "reddit"

    def __init__(self, *, brand: str = "acme_support", clock: Callable[[], float] = time.time,
                 rate_limit: int = 1000, recorder: TrafficRecorder | None = None,
                 faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.clock = clock
        self.site = Site(clock)
        self.api = RedditApi(self.site, clock, rate_limit)
        self.brand = brand
        self.password = secrets.token_urlsafe(12)
        self.api.passwords[brand.lower()] = self.password
        self.script_app = self._app("script")
        self.web_app = self._app("web")
        self.refresh_token = secrets.token_urlsafe(24)
        self.api.refresh_tokens[self.refresh_token] = brand
        self.loser = ResponseLoser()

    def _app(self, kind: str) -> RedditApp:
        app = RedditApp(secrets.token_urlsafe(10), secrets.token_urlsafe(20), kind, self.brand)
        self.api.apps[app.client_id] = app
        return app

    def setup(self, app: web.Application) -> None:
        self.api.register(app)
        app.middlewares.append(self.loser.middleware())

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        if status == 429:
            return web.json_response({"message": "Too Many Requests", "error": 429}, status=429,
                                     headers={"x-ratelimit-used": "600", "x-ratelimit-remaining": "0.0",
                                              "x-ratelimit-reset": str(int(self.faults.retry_after_seconds))})
        return web.Response(text="<html><body>all of our servers are busy right now</body></html>",
                            status=status, content_type="text/html")

    # --- the site, as its users use it ----------------------------------------------------------
    def submit(self, author: str, subreddit: str, title: str, selftext: str = "",
               shows: dict[str, Any] | None = None) -> Thing:
        """A post; ``shows``: its image, video or gallery (``site.image_post`` and the like)."""
        return self.site.submit(author, subreddit, title, selftext, shows)

    def comment(self, author: str, parent: Thing, body: str) -> Thing:
        return self.site.comment(author, parent, body)

    def comments_by(self, author: str) -> list[Thing]:
        return [t for t in self.site.things.values() if t.kind == "t1" and t.author.lower() == author.lower()]
