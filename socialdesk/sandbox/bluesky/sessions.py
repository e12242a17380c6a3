"""Sessions as a PDS keeps them: createSession with an app password, short access JWTs,
single-use refresh JWTs that rotate on refreshSession.

Tokens are HS256 JWTs signed with the emulator's secret, carrying what the atproto
client reads (``exp``, ``sub``, ``scope``). Expiry is judged by wall-clock time, as the
client judges it: the client refreshes 15 minutes before ``exp``. ``expire_all()``
makes every access token fail with ``ExpiredToken`` (what a client sees after a PDS
restart or a long sleep), so a test can check the desk recovers without a crash loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from socialdesk.sandbox.bluesky.errors import XrpcError, authentication_required, expired_token, invalid_token

ACCESS_SCOPE = "com.atproto.appPass"
REFRESH_SCOPE = "com.atproto.refresh"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class SessionSettings:
    access_lifetime_seconds: float = 2 * 3600  # the PDS's access tokens live two hours
    refresh_lifetime_seconds: float = 90 * 24 * 3600


@dataclass
class Sessions:
    settings: SessionSettings = field(default_factory=SessionSettings)
    wall_clock: Callable[[], float] = time.time
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _generation: int = 0
    _live_refresh: dict[str, str] = field(default_factory=dict)  # jti -> did
    created: int = 0
    refreshed: int = 0

    def issue(self, did: str) -> tuple[str, str]:
        """A new (access, refresh) pair for ``did``."""
        now = int(self.wall_clock())
        jti = secrets.token_hex(16)
        access = self._sign({"scope": ACCESS_SCOPE, "sub": did, "aud": "did:web:sandbox.bsky.localhost",
                             "iat": now, "exp": now + int(self.settings.access_lifetime_seconds),
                             "gen": self._generation}, "at+jwt")
        refresh = self._sign({"scope": REFRESH_SCOPE, "sub": did, "aud": "did:web:sandbox.bsky.localhost",
                              "jti": jti, "iat": now, "exp": now + int(self.settings.refresh_lifetime_seconds)},
                             "refresh+jwt")
        self._live_refresh[jti] = did
        return access, refresh

    def access(self, token: str) -> str:
        """The DID an access token speaks for; raises the PDS's error otherwise."""
        claims = self._verify(token, "at+jwt")
        if claims.get("gen") != self._generation or claims["exp"] <= self.wall_clock():
            raise expired_token()
        return str(claims["sub"])

    def rotate(self, token: str) -> tuple[str, str, str]:
        """refreshSession: the old refresh token is spent; returns (did, access, refresh)."""
        claims = self._verify(token, "refresh+jwt")
        if claims["exp"] <= self.wall_clock():
            raise expired_token()
        did = self._live_refresh.pop(str(claims.get("jti")), None)
        if did is None:
            raise expired_token()  # already used or revoked
        self.refreshed += 1
        return (did, *self.issue(did))

    def expire_all(self) -> None:
        self._generation += 1

    def revoke(self, did: str) -> None:
        """Every refresh token of ``did`` stops working (the app password was deleted)."""
        self._live_refresh = {jti: owner for jti, owner in self._live_refresh.items() if owner != did}
        self.expire_all()

    def _sign(self, claims: dict[str, object], typ: str) -> str:
        head = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
        body = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"

    def _verify(self, token: str, typ: str) -> dict[str, object]:
        try:
            head, body, signature = token.split(".")
            expected = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(_b64(expected), signature):
                raise invalid_token()
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except XrpcError:
            raise
        except ValueError:
            raise invalid_token() from None
        if header.get("typ") != typ:
            raise invalid_token("Bad token scope")
        return claims


def bearer(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise authentication_required()
    return authorization[len("Bearer "):].strip()
