"""The access token from the environment -> a Mastodon.py client, off the event loop.

Mastodon.py is synchronous (``requests``), so every call runs in a worker thread
(``asyncio.to_thread``); the loop never waits on the network. After each call the
client's view of the rate limit goes into the desk's ``RateBudget``. The token goes
from ``os.environ`` to Mastodon.py and nowhere else: Mastodon.py sends it as an
``Authorization`` header (never in a URL that ``urllib3`` would log) and prints
requests only with ``debug_requests``, which stays off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from mastodon import Mastodon, MastodonAPIError, MastodonNetworkError, MastodonRatelimitError, MastodonUnauthorizedError

from socialdesk.core.errors import DeskError
from socialdesk.plugins.mastodon.api_errors import describe, status_of
from socialdesk.plugins.mastodon.brand import BrandAccount
from socialdesk.plugins.mastodon.rate_budget import RateBudget
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME, MastodonSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

T = TypeVar("T")
USER_AGENT = "socialdesk (+https://github.com/socialdesk)"


class CredentialsRefused(DeskError):
    """Mastodon answered 401/403 to the desk's own token: an admin must fix it."""


def new_client(api_base: str, token: str, timeout: float) -> Mastodon:
    return Mastodon(api_base_url=api_base, access_token=token, version_check_mode="none",
                    ratelimit_method="throw", request_timeout=timeout, user_agent=USER_AGENT)


class MastodonConnection:
    def __init__(self, app: DeskApp, settings: MastodonSettings, budget: RateBudget,
                 epoch: Callable[[], float]) -> None:
        self.api_base = settings.require_api_base()
        self.token_env = settings.access_token_env
        # Read the secret before anything opens: a missing variable fails cleanly.
        self._token = app.config.secret(settings.access_token_env,
                                        f"plugins.{PLUGIN_NAME}.access_token_env").get_secret_value()
        self._timeout = settings.request_timeout_seconds
        self.client = new_client(self.api_base, self._token, self._timeout)
        self.budget = budget
        self._epoch = epoch
        self._brand: BrandAccount | None = None
        self._brand_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never the client: it holds the token
        return f"MastodonConnection(api_base={self.api_base!r}, brand={self._brand!r})"

    def stream_client(self) -> Mastodon:
        """A client of its own for the user stream: its blocking read shares nothing with REST calls."""
        return new_client(self.api_base, self._token, self._timeout)

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one Mastodon.py method in a thread and account for it in the rate budget."""
        try:
            result = await asyncio.to_thread(method, *args, **kwargs)
        except MastodonRatelimitError:
            self.budget.rate_limited(self._reset_in(), self._epoch())
            raise
        except MastodonAPIError as exc:
            status = status_of(exc) or 0
            if status >= 500:
                self.budget.failed(self._epoch())
            else:
                self._observe()
            raise
        except MastodonNetworkError:
            self.budget.failed(self._epoch())
            raise
        self._observe()
        return result

    def _reset_in(self) -> float | None:
        reset = self.client.ratelimit_reset
        return None if reset is None else float(reset) - time.time()  # Mastodon.py keeps it on the local clock

    def _observe(self) -> None:
        remaining = self.client.ratelimit_remaining
        self.budget.observe(self.client.ratelimit_limit, int(remaining) if remaining is not None else None,
                            self._reset_in(), self._epoch())

    async def brand(self) -> BrandAccount:
        """The account the token belongs to; asked once, then remembered.

        Raises ``CredentialsRefused`` when Mastodon refuses the token; network errors, 429
        and 5xx propagate as they are.
        """
        async with self._brand_lock:
            if self._brand is None:
                try:
                    me = await self.call(self.client.account_verify_credentials)
                except MastodonUnauthorizedError as exc:
                    raise CredentialsRefused(
                        f"Mastodon refused the access token in {self.token_env} ({describe(exc)}); create a new "
                        f"token on {self.api_base} (Preferences > Development) and put it in {self.token_env}"
                    ) from None
                except MastodonAPIError as exc:
                    if status_of(exc) == 403:
                        raise CredentialsRefused(
                            f"the access token in {self.token_env} may not read its own account ({describe(exc)}); "
                            "give the application the scopes read:accounts, read:notifications, read:statuses "
                            "and write:statuses") from None
                    raise
                self._brand = BrandAccount(id=str(me["id"]), username=str(me["username"]), acct=str(me["acct"]),
                                           url=str(me.get("url") or ""))
            return self._brand
