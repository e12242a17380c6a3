"""The OAuth 2.0 user token the desk posts with, renewed before it expires.

X's OAuth 2.0 user access tokens last two hours; ``POST /2/oauth2/token`` with
``grant_type=refresh_token`` returns a new access token *and a new refresh token* (the
old one stops working). The pair lives in the database
(:mod:`socialdesk.core.store.credentials`), seeded once from ``user_access_token_env``
and ``refresh_token_env``, so every replica and every restart uses the newest one and a
refresh token is presented once. A refused refresh token is recorded: replies fail with
that reason on the card, and ``/healthz`` says so, until an admin authorises again.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp

from socialdesk.core.errors import DeskError
from socialdesk.core.store.credentials import CredentialStore, RefreshRefused, TokenGrant
from socialdesk.plugins.x.http import TWEEPY_ORIGIN, ApiSession
from socialdesk.plugins.x.settings import PLUGIN_NAME, XSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

PLATFORM = "x"
TOKEN_PATH = "/2/oauth2/token"
# Renew this long before X's expiry: a reply in flight must not carry a token that lapses.
MARGIN = timedelta(minutes=5)


class RefreshFailed(DeskError):
    """X could not be asked (network, 5xx): nothing changed, the next use tries again."""


class PostingToken:
    def __init__(self, app: DeskApp, settings: XSettings, session: ApiSession) -> None:
        self._app = app
        self._settings = settings
        self._session = session
        self._store = CredentialStore(app.database, PLATFORM)
        self._lock = asyncio.Lock()  # one renewal per process; the row lock covers the other replicas
        self._seeded = False
        self.generation = 0

    def _secret(self, key: str) -> str:
        return self._app.config.secret(getattr(self._settings, key), f"plugins.{PLUGIN_NAME}.{key}").get_secret_value()

    def _refused_message(self, why: str) -> str:
        return (f"X posting credentials stopped working: {why}; authorise the app again (OAuth 2.0 with the "
                f"offline.access scope) and put the new tokens in {self._settings.user_access_token_env} and "
                f"{self._settings.refresh_token_env}, then restart")

    async def access_token(self) -> str:
        """The current access token, renewed first when it is about to expire."""
        async with self._lock:
            now = self._app.clock()
            if not self._seeded:
                stored = await self._store.seed(self._secret("user_access_token_env"),
                                                self._secret("refresh_token_env"), now)
                self._seeded = True
            else:
                stored = await self._store.current() or await self._store.seed(
                    self._secret("user_access_token_env"), self._secret("refresh_token_env"), now)
            if stored.failure is not None:
                raise RefreshRefused(self._refused_message(stored.failure))
            if stored.due(now, MARGIN):
                try:
                    stored = await self._store.refresh(self._refresh, seen_generation=stored.generation, now=now)
                except RefreshRefused as exc:
                    raise RefreshRefused(self._refused_message(str(exc))) from None
            self.generation = stored.generation
            return stored.access_token

    async def refused(self) -> None:
        """X answered 401 to the access token: renew it on the next use."""
        await self._store.expire(self.generation, self._app.clock())

    async def _refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": self._secret("client_id_env")}
        auth = None
        if self._settings.client_secret_env is not None:  # a confidential client authenticates with Basic
            auth = aiohttp.BasicAuth(form["client_id"], self._secret("client_secret_env"))
        try:
            async with self._session.request("POST", str(TWEEPY_ORIGIN) + TOKEN_PATH, data=form, auth=auth) as answer:
                status = answer.status
                body = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RefreshFailed(f"could not renew the X access token ({type(exc).__name__}); "
                                "the next attempt tries again") from None
        if status in (400, 401):
            error = body.get("error", "refused") if isinstance(body, dict) else "refused"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise RefreshRefused(f"X refused the refresh token ({error}{': ' + description if description else ''})")
        if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise RefreshFailed(f"X answered {status} when renewing the access token; the next attempt tries again")
        expires_in = body.get("expires_in")
        return TokenGrant(access_token=str(body["access_token"]),
                          refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
                          expires_in=float(expires_in) if isinstance(expires_in, (int, float)) else None)
