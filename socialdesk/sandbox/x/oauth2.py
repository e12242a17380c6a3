"""X's OAuth 2.0 user tokens that expire, and ``POST /2/oauth2/token`` that renews them.

As X documents: an access token issued with the ``offline.access`` scope lasts two hours
(``expires_in: 7200``) and comes with a refresh token; ``grant_type=refresh_token``
returns a new access token and a new refresh token, and the refresh token presented stops
working. A public client names itself with ``client_id`` in the form, a confidential one
with HTTP Basic. A spent, unknown or foreign refresh token is 400 ``invalid_request``,
as X answers.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web

from socialdesk.sandbox.x.auth import Authenticator

ACCESS_TOKEN_SECONDS = 7200
TOKEN_PATH = "/2/oauth2/token"
_ALNUM = string.ascii_letters + string.digits


def _token(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class OAuth2Grant:
    """What the authorisation (or a refresh) gave the app."""

    access_token: str
    refresh_token: str
    expires_in: int = ACCESS_TOKEN_SECONDS


def _invalid(description: str) -> web.Response:
    return web.json_response({"error": "invalid_request", "error_description": description}, status=400)


class OAuth2Server:
    def __init__(self, auth: Authenticator, clock: Callable[[], float]) -> None:
        self.auth = auth
        self.clock = clock
        self.client_id = _token(34)
        self.client_secret = _token(50)
        self._refresh: dict[str, str] = {}  # live refresh token -> user id
        self.refreshes = 0  # accepted refreshes, for tests

    def grant(self, user_id: str) -> OAuth2Grant:
        """Tokens as if the account authorised the app with ``offline.access``."""
        grant = OAuth2Grant(access_token=_token(86), refresh_token=_token(86))
        self.auth.add_oauth2_token(grant.access_token, user_id, expires_at=self.clock() + ACCESS_TOKEN_SECONDS)
        self._refresh[grant.refresh_token] = user_id
        return grant

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token stops working (the user removed the app, or a refresh answer was lost)."""
        self._refresh.clear()

    def _client(self, request: web.Request, form: dict[str, str]) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return client_id if secrets.compare_digest(secret, self.client_secret) else None
        return form.get("client_id")

    async def token(self, request: web.Request) -> web.Response:
        form = dict(parse_qsl((await request.read()).decode("utf-8", "replace")))
        if form.get("grant_type") != "refresh_token":
            return _invalid("Missing required parameter [grant_type].")
        if self._client(request, form) != self.client_id:
            return web.json_response({"error": "unauthorized_client",
                                      "error_description": "Missing valid authorization header"}, status=401)
        user_id = self._refresh.pop(form.get("refresh_token", ""), None)
        if user_id is None:
            return _invalid("Value passed for the token was invalid.")
        grant = self.grant(user_id)
        self.refreshes += 1
        return web.json_response({"token_type": "bearer", "expires_in": grant.expires_in,
                                  "access_token": grant.access_token,
                                  "scope": "tweet.read tweet.write users.read offline.access",
                                  "refresh_token": grant.refresh_token})
