"""The X emulator: X API v2 on 127.0.0.1, a public timeline, and a test/demo API beside it.

    async with XEmulator(brand_username="acme") as x:
        x.add_user("dana", followers=120)
        mention = x.post_as("dana", "@acme my order never arrived")
        # point the desk (or tweepy) at x.base_url with x.app_credentials / x.brand_credentials
        ...
        assert x.replies_by("acme")[0]["conversation_id"] == mention["conversation_id"]

The clock is injectable (a callable returning epoch seconds): it stamps posts, mints
ids, and drives rate-limit windows, so tests move time instead of waiting.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x.api import ApiSettings, XApi
from socialdesk.sandbox.x.auth import PUBLIC_ORIGINS, AppCredentials, Authenticator, UserCredentials
from socialdesk.sandbox.x.lost_responses import ResponseLoser
from socialdesk.sandbox.x.problems import generic, server_error, too_many_requests
from socialdesk.sandbox.x.oauth2 import TOKEN_PATH, OAuth2Grant, OAuth2Server
from socialdesk.sandbox.x.rate_limits import RateLimiter, RateLimits
from socialdesk.sandbox.x.timeline import PublicTimeline, XMedia, XUser


class XEmulator(EmulatorServer):
    name = "x"

    def __init__(self, *, brand_username: str = "acme", brand_name: str = "Acme Support",
                 brand_id: str | None = None, clock: Callable[[], float] = time.time,
                 rate_limits: RateLimits | None = None, settings: ApiSettings | None = None,
                 max_tweets: int = 50_000, app_credentials: AppCredentials | None = None,
                 public_origins: tuple[str, ...] = PUBLIC_ORIGINS,
                 recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.clock = clock
        self.store = PublicTimeline(clock, max_tweets=max_tweets)  # accounts and posts
        self.auth = Authenticator(app_credentials or AppCredentials.generate(), public_origins, clock=clock)
        self.oauth2 = OAuth2Server(self.auth, clock)
        self.limiter = RateLimiter(rate_limits or RateLimits(), clock)
        self.api = XApi(self.store, self.auth, self.limiter, settings)
        self._loser = ResponseLoser()
        self._brand = self.store.add_user(brand_username, brand_name, user_id=brand_id, verified=True,
                                          followers=25_000, following=120)
        self._credentials: dict[str, UserCredentials] = {self._brand.id: self.auth.issue(self._brand.id)}

    # --- server plumbing ---------------------------------------------------------------------
    def setup(self, app: web.Application) -> None:
        app.router.add_post(TOKEN_PATH, self.oauth2.token, name="oauth2_token")  # before the API's catch-all
        self.api.register(app)
        # Innermost, so a lost answer is one the handler really produced.
        app.middlewares.append(self._loser.middleware())

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        """X's own answer for an injected fault, with rate-limit headers like a real one."""
        if status == 429:
            headers: dict[str, str] = {}
            limit = self.api.rate_limit_of(request)
            if limit is not None:  # exhausted until retry_after_seconds from now
                reset = math.ceil(self.clock() + self.faults.retry_after_seconds)
                headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                           "x-rate-limit-reset": str(reset)}
            return too_many_requests().response(headers)
        error = server_error() if status == 500 else generic(status)
        return error.response(self.api.quota_headers(request))

    # --- credentials ---------------------------------------------------------------------------
    @property
    def app_credentials(self) -> AppCredentials:
        """Consumer key/secret and the app-only bearer token."""
        return self.auth.app

    @property
    def brand_credentials(self) -> UserCredentials:
        """The brand account's OAuth 1.0a access token/secret and OAuth 2.0 user token."""
        return self._credentials[self._brand.id]

    def credentials_for(self, username: str) -> UserCredentials:
        """User-context tokens of any account (issued on first use)."""
        user = self._user(username)
        if user.id not in self._credentials:
            self._credentials[user.id] = self.auth.issue(user.id)
        return self._credentials[user.id]

    def oauth2_grant(self, username: str) -> OAuth2Grant:
        """Expiring OAuth 2.0 user tokens with a refresh token (``offline.access``) for an account;
        the app's client id is ``self.oauth2.client_id``."""
        return self.oauth2.grant(self._user(username).id)

    def revoke_credentials(self, username: str) -> None:
        """The account's tokens stop working (401), as when a user removes the app."""
        user = self._user(username)
        self.auth.revoke(user.id)
        self._credentials.pop(user.id, None)

    # --- rate limits -----------------------------------------------------------------------
    @property
    def rate_limits(self) -> RateLimits:
        return self.limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        self.limiter.limits = limits

    def reset_rate_limits(self) -> None:
        self.limiter.clear()

    # --- ambiguity -------------------------------------------------------------------------
    def lose_next_response(self, path_prefix: str = "/2/tweets", method: str | None = "POST", count: int = 1) -> None:
        """Process the next ``count`` matching requests, then drop the connection instead of answering."""
        self._loser.arm(path_prefix, method, count)

    @property
    def lost_answers(self) -> list[dict[str, Any]]:
        """What the lost answers would have said: ``{"method", "path", "status", "response"}``, oldest first."""
        return list(self._loser.answers)

    # --- the public timeline (test and demo API) ----------------------------------------------
    @property
    def brand(self) -> dict[str, Any]:
        return self._brand.as_dict()

    def add_user(self, username: str, name: str | None = None, *, followers: int = 0, verified: bool = False,
                 following: int = 0, description: str = "", location: str | None = None,
                 protected: bool = False) -> dict[str, Any]:
        """A community member; returns the X user object (all fields)."""
        user = self.store.add_user(username, name, followers=followers, verified=verified, following=following,
                                      description=description, location=location, protected=protected)
        return user.as_dict()

    def user(self, username: str) -> dict[str, Any] | None:
        found = self.store.user_by_username(username)
        return found.as_dict() if found else None

    def post_as(self, username: str, text: str, in_reply_to: str | None = None, quote: str | None = None,
                lang: str | None = None, media: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """Post publicly as ``username`` (no API call, no rate limit); returns the X post object (all fields).

        ``media``: attachments as ``{"type": "photo"|"video"|"animated_gif", "alt_text": ..., "width": ...,
        "height": ...}``; each gets a media key and X's CDN URLs (``url`` for photos, a
        ``preview_image_url`` for videos and GIFs).
        """
        attached = [self._media(dict(m)) for m in media]
        tweet = self.store.post(self._user(username), text, in_reply_to=in_reply_to, quote=quote, lang=lang,
                                media=attached)
        return tweet.as_dict()

    def _media(self, described: dict[str, Any]) -> XMedia:
        kind = str(described.get("type") or "photo")
        prefix = {"photo": "3", "video": "7", "animated_gif": "16"}.get(kind)
        if prefix is None:
            raise ValueError(f"X media is a photo, video or animated_gif, not {kind!r}")
        media_id = self.store.ids.next()
        name = secrets.token_urlsafe(12)
        still = f"https://pbs.twimg.com/{'media' if kind == 'photo' else 'ext_tw_video_thumb/' + media_id}/{name}.jpg"
        return XMedia(media_key=f"{prefix}_{media_id}", type=kind, url=still if kind == "photo" else None,
                      preview_image_url=None if kind == "photo" else still, alt_text=described.get("alt_text"),
                      width=int(described.get("width", 1200)), height=int(described.get("height", 800)),
                      duration_ms=None if kind == "photo" else int(described.get("duration_ms", 12_000)))

    def delete(self, tweet_id: str) -> None:
        """Delete a post as its author would; ``LookupError`` when it is already gone."""
        self.store.delete(tweet_id)

    def tweet(self, tweet_id: str) -> dict[str, Any] | None:
        """The live post with that id, or None (unknown or deleted)."""
        found = self.store.get(tweet_id)
        return found.as_dict() if found else None

    def is_deleted(self, tweet_id: str) -> bool:
        found = self.store.get_any(tweet_id)
        return found is not None and found.deleted

    @property
    def tweets(self) -> list[dict[str, Any]]:
        """Every live post, oldest first."""
        return [t.as_dict() for t in self.store.oldest_first()]

    def timeline_of(self, username: str) -> list[dict[str, Any]]:
        """One account's live posts, newest first."""
        author = self._user(username)
        return [t.as_dict() for t in self.store.newest_first() if t.author_id == author.id]

    def timeline(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The public timeline: live posts, newest first."""
        posts = []
        for tweet in self.store.newest_first():
            if limit is not None and len(posts) >= limit:
                break
            posts.append(tweet.as_dict())
        return posts

    def replies_by(self, username: str) -> list[dict[str, Any]]:
        """``username``'s live replies, oldest first: what the brand answered, for assertions."""
        author = self._user(username)
        return [t.as_dict() for t in self.store.oldest_first()
                if t.author_id == author.id and t.in_reply_to_tweet_id is not None]

    def conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every live post of a conversation, oldest first."""
        return [t.as_dict() for t in self.store.oldest_first() if t.conversation_id == conversation_id]

    def now(self) -> float:
        return self.clock()

    def _user(self, username: str) -> XUser:
        user = self.store.user_by_username(username)
        if user is None:
            raise KeyError(f"no X account @{username.lstrip('@')} in the sandbox; add_user() it first")
        return user
