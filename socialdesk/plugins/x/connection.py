"""Credentials from the environment -> tweepy clients, and the brand account they speak for.

Two ``tweepy.asynchronous.AsyncClient``s share one HTTP session (``http.ApiSession``):
the reader with the app's bearer token (mentions, search: app-only limits are the
larger ones) and the poster with the user context that posts replies, OAuth 1.0a or an
OAuth 2.0 user token. Tokens go from ``os.environ`` to tweepy and nowhere else: not into
logs, errors or reprs: tweepy logs request headers and oauthlib the signed parameters at
DEBUG, so filters on their loggers cut those off whatever level the host application chose.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
import tweepy
import tweepy.asynchronous

from socialdesk.core.errors import DeskError
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.x.api_response import describe, read_answer
from socialdesk.plugins.x.brand import BrandAccount
from socialdesk.plugins.x.http import ApiSession
from socialdesk.plugins.x.settings import OAUTH1_KEYS, PLUGIN_NAME, XSettings
from socialdesk.plugins.x.token_refresh import PostingToken

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


_TWEEPY_LOGGER = "tweepy.asynchronous.client"
BRAND_KEY = "brand"  # "<id> <username>", remembered for when OAuth 2.0 posting credentials lapse
_OAUTH1_LOGGER = "oauthlib.oauth1.rfc5849"


class _NoRequestHeaders(logging.Filter):
    """tweepy logs every request at DEBUG with its headers, bearer token and OAuth
    signature included; keep the method and URL, drop the rest, whatever the log level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Making API request:"):
            record.msg, record.args = message.split("\n", 1)[0], None
        return True


class _NoSigningDetails(logging.Filter):
    """oauthlib logs the parameters it signs (access token, consumer key) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _guard_library_logs() -> None:
    """Filters sit on the loggers themselves, so no handler or level set by the host
    application can let a token through. Installed once per process."""
    for name, kind in ((_TWEEPY_LOGGER, _NoRequestHeaders), (_OAUTH1_LOGGER, _NoSigningDetails)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class CredentialsRefused(DeskError):
    """X answered 401/403 to the desk's own credentials: an admin must fix them."""


class XConnection:
    def __init__(self, app: DeskApp, settings: XSettings) -> None:
        def secret(key: str) -> str:
            env = getattr(settings, key)
            return app.config.secret(env, f"plugins.{PLUGIN_NAME}.{key}").get_secret_value()

        _guard_library_logs()
        # Read every secret before opening anything: a missing variable fails cleanly.
        bearer = secret("bearer_token_env")
        if settings.posting_method == "oauth1":
            keys = {key.removesuffix("_env"): secret(key) for key in OAUTH1_KEYS}
            poster = tweepy.asynchronous.AsyncClient(**keys, return_type=aiohttp.ClientResponse)
            self.posting_user_auth = True  # tweepy signs with OAuth 1.0a
            self.posting_credentials = ", ".join(getattr(settings, key) for key in OAUTH1_KEYS)
        else:
            poster = tweepy.asynchronous.AsyncClient(bearer_token=secret("user_access_token_env"),
                                                     return_type=aiohttp.ClientResponse)
            self.posting_user_auth = False  # the user token travels as a bearer token
            self.posting_credentials = str(settings.user_access_token_env)
        self.reading_credentials = settings.bearer_token_env
        self.session = ApiSession(settings.api_base, settings.request_timeout_seconds)
        self.reader = tweepy.asynchronous.AsyncClient(bearer_token=bearer, return_type=aiohttp.ClientResponse)
        self.reader.session = self.session
        poster.session = self.session
        self.poster = poster
        # OAuth 2.0 with a refresh token: the token lives in the database and is renewed there.
        self.posting_token = PostingToken(app, settings, self.session) if settings.refreshes else None
        self._app = app
        self._brand: BrandAccount | None = None
        self._brand_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never the clients: they hold the tokens
        return f"XConnection(brand={self._brand!r})"

    async def fresh_poster(self) -> tweepy.asynchronous.AsyncClient:
        """The posting client with a current token (renewed first if it is about to expire).

        Raises ``RefreshRefused`` when X refused the refresh token (an admin must act) and
        ``RefreshFailed`` when X could not be asked (try again later).
        """
        if self.posting_token is not None:
            self.poster.bearer_token = await self.posting_token.access_token()
        return self.poster

    async def brand(self) -> BrandAccount:
        """The account the posting credentials belong to; asked once, then remembered.

        Raises ``CredentialsRefused`` when X refuses them; network errors, 429 and 5xx
        propagate as they are (the caller decides whether to retry).
        """
        async with self._brand_lock:
            if self._brand is None:
                try:
                    poster = await self.fresh_poster()
                except DeskError:
                    # Expired OAuth 2.0 credentials stop posting, not reading: the brand seen last
                    # time keeps the mentions coming (the bearer token reads them).
                    self._brand = await self._remembered_brand()
                    if self._brand is None:
                        raise
                    return self._brand
                try:
                    response = await poster.get_me(user_auth=self.posting_user_auth)
                except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                    raise CredentialsRefused(
                        f"X refused the posting credentials ({describe(exc)}); check the values of "
                        f"{self.posting_credentials} and the app's permissions (Read and write)"
                    ) from None
                user = (await read_answer(response)).data or {}
                self._brand = BrandAccount(id=str(user["id"]), username=str(user["username"]))
                if self.posting_token is not None:
                    await self._app.cursors.set(
                        CursorAdvance(PLUGIN_NAME, BRAND_KEY, f"{self._brand.id} {self._brand.username}"),
                        self._app.clock())
            return self._brand

    async def _remembered_brand(self) -> BrandAccount | None:
        value = await self._app.cursors.get(PLUGIN_NAME, BRAND_KEY)
        if not value:
            return None
        brand_id, _, username = value.partition(" ")
        return BrandAccount(id=brand_id, username=username)

    async def close(self) -> None:
        await self.session.close()
