"""Who is calling: OAuth bearer tokens of this instance's accounts, each with its scopes.

Mastodon answers 401 ``{"error": "The access token is invalid"}`` for an unknown or
revoked token and 403 ``{"error": "This action is outside the authorized scopes"}`` when
the token lacks the method's scope. A broader scope covers its narrower ones
(``read`` covers ``read:notifications``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

DEFAULT_SCOPES = ("read", "write")


@dataclass(frozen=True)
class AccessToken:
    token: str
    account_id: str
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or scope.split(":", 1)[0] in self.scopes


class TokenRegistry:
    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}

    def issue(self, account_id: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> AccessToken:
        token = AccessToken(secrets.token_urlsafe(32), account_id, tuple(scopes))
        self._tokens[token.token] = token
        return token

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def find(self, authorization: str | None, query_token: str | None) -> AccessToken | None:
        value = query_token
        if authorization and authorization.lower().startswith("bearer "):
            value = authorization[7:].strip()
        return self._tokens.get(value or "")
