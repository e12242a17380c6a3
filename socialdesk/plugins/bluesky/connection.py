"""Handle + app password from the environment -> one logged-in atproto ``AsyncClient``.

Bluesky allows 30 logins (``createSession``) per 5 minutes and 300 a day per account,
so the desk logs in once and keeps the session: atproto refreshes the access token
itself (``refreshSession``, 15 minutes before it expires) with the rotating refresh
token. Only when the server no longer accepts the session (``ExpiredToken`` /
``InvalidToken``: a PDS restart, a revoked token) does the desk log in again, once per
call, and logins that fail back off (a 429 waits for the reset the PDS names) so a
wrong password or an outage never turns into a login storm.

The app password goes from ``os.environ`` into the login request and nowhere else:
not into logs, errors or reprs. httpx logs request lines only (no headers, no bodies).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from atproto import AsyncClient
from atproto_client.exceptions import BadRequestError, RateLimitExceededError, UnauthorizedError
from atproto_client.client.session import Session
from atproto_client.request import AsyncRequest, Response

from socialdesk.core.errors import DeskError
from socialdesk.plugins.bluesky.brand import BrandAccount
from socialdesk.plugins.bluesky.errors import describe, error_name, headers_of
from socialdesk.plugins.bluesky.rate_budget import reset_of
from socialdesk.plugins.bluesky.settings import PLUGIN_NAME, BlueskySettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

T = TypeVar("T")
MAX_CONNECT_SECONDS = 10.0
LOGIN_BACKOFF_SECONDS = 60.0
MAX_LOGIN_BACKOFF_SECONDS = 3600.0
SESSION_REJECTED = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


class CredentialsRefused(DeskError):
    """Bluesky refused the handle or app password: an admin must fix them."""


class LoginDeferred(DeskError):
    """A login is not tried now: the last one failed or was rate limited (``retry_at``, epoch seconds)."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class BlueskyConnection:
    def __init__(self, app: DeskApp, settings: BlueskySettings, epoch: Callable[[], float]) -> None:
        def secret(key: str) -> str:
            return app.config.secret(getattr(settings, key), f"plugins.{PLUGIN_NAME}.{key}").get_secret_value()

        # Read both secrets before opening anything: a missing variable fails cleanly.
        self._identifier = secret("handle_env").strip().lstrip("@")
        self._password = secret("app_password_env")
        self.credentials = f"{settings.handle_env}, {settings.app_password_env}"
        timeout = httpx.Timeout(settings.request_timeout_seconds,
                                connect=min(settings.request_timeout_seconds, MAX_CONNECT_SECONDS))
        self.client = AsyncClient(base_url=settings.xrpc_base, request=AsyncRequest(timeout=timeout))
        self._epoch = epoch
        self._brand: BrandAccount | None = None
        self._lock = asyncio.Lock()
        self._login_not_before = 0.0
        self._login_failures = 0
        self.logins = 0  # successful createSession calls by this connection

    def __repr__(self) -> str:  # never the password or the tokens
        return f"BlueskyConnection(brand={self._brand!r})"

    async def brand(self) -> BrandAccount:
        """The logged-in brand account; logs in only when there is no session.

        Raises ``CredentialsRefused`` (an admin must act), ``LoginDeferred`` (too soon after a
        failed or rate-limited login), or atproto's network errors as they are.
        """
        async with self._lock:
            if self._brand is None:
                self._brand = await self._login()
            return self._brand

    async def _login(self) -> BrandAccount:
        now = self._epoch()
        if now < self._login_not_before:
            raise LoginDeferred("the last Bluesky login failed or was rate limited; the next is tried later",
                                self._login_not_before)
        try:
            profile = await self.client.login(self._identifier, self._password)
        except UnauthorizedError as exc:
            self._back_off(now)
            raise CredentialsRefused(
                f"Bluesky refused the login ({describe(exc)}); check {self.credentials}: the handle (or DID) "
                "and an app password created under Settings -> Privacy and security -> App passwords") from None
        except RateLimitExceededError as exc:
            self._back_off(now, reset_of(headers_of(exc)))
            raise
        except BadRequestError as exc:
            self._back_off(now)
            if error_name(exc) in ("AccountTakedown", "AuthFactorTokenRequired"):
                raise CredentialsRefused(f"Bluesky refused the login ({describe(exc)}); an app password "
                                         "never needs a second factor: use one instead of the account password") from None
            raise
        except Exception:
            self._back_off(now)
            raise
        self._login_failures = 0
        self.logins += 1
        if profile is None:  # the service does not serve app.bsky (a bare PDS): the session still knows who
            session = Session.decode(self.client.export_session_string())
            return BrandAccount(did=session.did, handle=session.handle)
        return BrandAccount(did=profile.did, handle=profile.handle, display_name=profile.display_name,
                            followers=profile.followers_count)

    def _back_off(self, now: float, until: float | None = None) -> None:
        self._login_failures += 1
        step = min(MAX_LOGIN_BACKOFF_SECONDS, LOGIN_BACKOFF_SECONDS * 2 ** (self._login_failures - 1))
        self._login_not_before = max(now + step, until or 0.0)

    async def query(self, nsid: str, params: Any) -> Response:
        return await self._with_session(lambda: self.client.invoke_query(
            nsid, params=params, output_encoding="application/json"))

    async def procedure(self, nsid: str, data: Any, expect_output: bool = True) -> Response:
        return await self._with_session(lambda: self.client.invoke_procedure(
            nsid, data=data, input_encoding="application/json",
            output_encoding="application/json" if expect_output else None))

    async def _with_session(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call`` with a live session. A session the server rejected (400/401, so nothing was
        done) is replaced by one new login and the call is made once more."""
        used = await self.brand()
        try:
            return await call()
        except (BadRequestError, UnauthorizedError) as exc:
            if error_name(exc) not in SESSION_REJECTED:
                raise
        async with self._lock:
            if self._brand is used:  # another call may have logged in again already
                self._brand = None
        await self.brand()
        return await call()

    async def close(self) -> None:
        await self.client.request.close()
