"""Who is calling: X's three ways in, checked like X checks them.

* OAuth 2.0 Application-Only: ``Authorization: Bearer <app bearer token>``; reads only.
* OAuth 1.0a User Context: consumer key + access token, HMAC-SHA1 signed; the signature
  must verify, and a nonce is accepted once.
* OAuth 2.0 User Context: ``Authorization: Bearer <user access token>``.

Anything else is 401. Credentials are random per emulator and look like X's, so
redaction rules written for real tokens are exercised too.

Signature base URI: tweepy has no setting for the API host, so tests point it at the
sandbox by forwarding its ``https://api.twitter.com/...`` requests (see
tests/sandbox/tweepy_loopback.py); the signature then covers the public URL. The
sandbox stands in for X, so it accepts a signature made for its own loopback URL or for
one of X's public origins, and nothing else.
"""

from __future__ import annotations

import secrets
import string
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from socialdesk.sandbox.x import oauth1
from socialdesk.sandbox.x.problems import unauthorized

PUBLIC_ORIGINS = ("https://api.twitter.com", "https://api.x.com")
APP_ONLY = "OAuth 2.0 Application-Only"
OAUTH1_USER = "OAuth 1.0a User Context"
OAUTH2_USER = "OAuth 2.0 User Context"
_ALNUM = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class AppCredentials:
    """The developer app's keys: what X shows once in the developer portal."""

    consumer_key: str
    consumer_secret: str
    bearer_token: str

    @classmethod
    def generate(cls) -> AppCredentials:
        return cls(consumer_key=_random(25), consumer_secret=_random(50),
                   bearer_token="A" * 22 + _random(24) + "%3D" + _random(50))


@dataclass(frozen=True)
class UserCredentials:
    """One account's user-context tokens for the app."""

    user_id: str
    access_token: str
    access_token_secret: str
    oauth2_access_token: str


@dataclass(frozen=True)
class Caller:
    kind: Literal["app", "user"]
    scheme: str  # X's name of the authentication type, used in its 403 message
    user_id: str | None = None


class Authenticator:
    def __init__(self, app: AppCredentials, public_origins: tuple[str, ...] = PUBLIC_ORIGINS,
                 nonce_memory: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.clock = clock
        self._expiry: dict[str, float] = {}  # OAuth 2.0 user token -> when it stops working
        self.public_origins = public_origins
        self._oauth1: dict[str, UserCredentials] = {}
        self._oauth2: dict[str, UserCredentials] = {}
        self._nonces: set[tuple[str, str, str]] = set()
        self._nonce_order: deque[tuple[str, str, str]] = deque()
        self._nonce_memory = nonce_memory

    def issue(self, user_id: str) -> UserCredentials:
        """New user-context tokens for an account (as if it authorised the app)."""
        credentials = UserCredentials(user_id=user_id, access_token=f"{user_id}-{_random(30)}",
                                      access_token_secret=_random(45), oauth2_access_token=_random(86))
        self._oauth1[credentials.access_token] = credentials
        self._oauth2[credentials.oauth2_access_token] = credentials
        return credentials

    def add_oauth2_token(self, token: str, user_id: str, *, expires_at: float) -> None:
        """An OAuth 2.0 user access token that stops working at ``expires_at`` (emulator clock)."""
        self._oauth2[token] = UserCredentials(user_id=user_id, access_token="", access_token_secret="",
                                              oauth2_access_token=token)
        self._expiry[token] = expires_at

    def revoke(self, user_id: str) -> None:
        """Forget an account's tokens: its next call is 401."""
        self._oauth1 = {k: v for k, v in self._oauth1.items() if v.user_id != user_id}
        self._oauth2 = {k: v for k, v in self._oauth2.items() if v.user_id != user_id}

    def identify(self, request: web.Request) -> Caller | None:
        """Who the request claims to be, without checking a signature (for fault answers)."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer "):]
            if secrets.compare_digest(token.encode(), self.app.bearer_token.encode()):
                return Caller("app", APP_ONLY)
            user = self._oauth2.get(token)
            if user is not None and self._expiry.get(token, float("inf")) <= self.clock():
                return None  # expired: 401, as X answers a stale access token
            return Caller("user", OAUTH2_USER, user.user_id) if user else None
        oauth = oauth1.parse_authorization(header)
        user = self._oauth1.get(oauth.get("oauth_token", "")) if oauth else None
        return Caller("user", OAUTH1_USER, user.user_id) if user else None

    def authenticate(self, request: web.Request, body: bytes) -> Caller:
        """The verified caller; raises X's 401 answer otherwise."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            caller = self.identify(request)
            if caller is None:
                raise unauthorized()
            return caller
        oauth = oauth1.parse_authorization(header)
        if oauth is None:
            raise unauthorized()
        return self._verify_oauth1(request, oauth, body)

    def _verify_oauth1(self, request: web.Request, oauth: dict[str, str], body: bytes) -> Caller:
        user = self._oauth1.get(oauth.get("oauth_token", ""))
        if (user is None or oauth.get("oauth_consumer_key") != self.app.consumer_key
                or oauth.get("oauth_signature_method") != "HMAC-SHA1"
                or oauth.get("oauth_version", "1.0") != "1.0"
                or not oauth.get("oauth_nonce") or not oauth.get("oauth_timestamp", "").isdigit()
                or "oauth_signature" not in oauth):
            raise unauthorized()
        form = body.decode("utf-8", "replace") if request.content_type == "application/x-www-form-urlencoded" else None
        params = oauth1.signed_parameters(oauth, request.rel_url.raw_query_string, form)
        path = request.rel_url.raw_path
        own_origin = str(request.url.origin())  # scheme://host[:port] as the client addressed us
        base_uris = [own_origin + path] + [origin + path for origin in self.public_origins]
        if not oauth1.signature_matches(oauth["oauth_signature"], request.method, base_uris, params,
                                        self.app.consumer_secret, user.access_token_secret):
            raise unauthorized()
        nonce = (user.access_token, oauth["oauth_nonce"], oauth["oauth_timestamp"])
        if nonce in self._nonces:  # a replayed request
            raise unauthorized()
        self._remember(nonce)
        return Caller("user", OAUTH1_USER, user.user_id)

    def _remember(self, nonce: tuple[str, str, str]) -> None:
        self._nonces.add(nonce)
        self._nonce_order.append(nonce)
        while len(self._nonce_order) > self._nonce_memory:
            self._nonces.discard(self._nonce_order.popleft())
