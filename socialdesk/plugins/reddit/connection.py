"""Credentials from the environment -> one asyncpraw client, with the desk's own retry rules.

asyncprawcore re-sends a request after a dropped connection or a 5xx. For reading that
is harmless, but a comment re-sent after its answer was lost is a comment posted twice;
the desk decides itself what may be sent again (the outbox, reconcile), so the client's
retries are turned off. asyncpraw's own sleep on a RATELIMIT answer is turned off too
(``ratelimit_seconds=0``): the reply is retried by the outbox after Reddit's wait.

asyncprawcore also sleeps before a request to spread a window's requests evenly (up to
10 s each) or until the reset when none remain. The desk runs every platform on one
loop, and its outbox and pollers already wait for Reddit's reset (``RateBudget``), so
the client's limiter records the headers but never sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import aiohttp
import asyncpraw
from asyncprawcore.rate_limit import RateLimiter
from asyncprawcore.sessions import FiniteRetryStrategy

from socialdesk.plugins.reddit.rate_budget import RateBudget
from socialdesk.plugins.reddit.settings import PLUGIN_NAME, RedditSettings

if TYPE_CHECKING:
    from socialdesk.core.config import AppConfig


@dataclass(frozen=True)
class NoRetries(FiniteRetryStrategy):
    DEFAULT_RETRIES: ClassVar[int] = 0
    retries: int = 0


class NoSleepRateLimiter(RateLimiter):
    async def delay(self) -> None:
        return None


class RedditConnection:
    def __init__(self, reddit: asyncpraw.Reddit, account: str) -> None:
        self.reddit = reddit
        self.account = account

    async def close(self) -> None:
        await self.reddit.close()


def _secret(config: AppConfig, settings: RedditSettings, key: str) -> str:
    return config.secret(getattr(settings, key), f"plugins.{PLUGIN_NAME}.{key}").get_secret_value()


def connect(config: AppConfig, settings: RedditSettings, budget: RateBudget) -> RedditConnection:
    """A client for the configured app; a missing variable raises ``MissingSecret`` naming it."""
    credentials: dict[str, str] = {"client_id": _secret(config, settings, "client_id_env"),
                                   "client_secret": _secret(config, settings, "client_secret_env")}
    if settings.refresh_token_env is not None:
        credentials["refresh_token"] = _secret(config, settings, "refresh_token_env")
        account = settings.username or ""
    else:
        credentials["username"] = account = _secret(config, settings, "username_env")
        credentials["password"] = _secret(config, settings, "password_env")
    session = aiohttp.ClientSession(trace_configs=[budget.trace_config()])
    reddit = asyncpraw.Reddit(
        **credentials, user_agent=settings.user_agent(account), oauth_url=settings.oauth_url,
        reddit_url=settings.reddit_url, ratelimit_seconds=0, check_for_updates=False,
        requestor_kwargs={"session": session, "timeout": settings.request_timeout_seconds})
    for core in (reddit._core, reddit._authorized_core, reddit._read_only_core):  # noqa: SLF001
        if core is not None:
            core._retry_strategy_class = NoRetries  # noqa: SLF001  (see the module docstring)
            core._rate_limiter = NoSleepRateLimiter(window_size=core._rate_limiter.window_size)  # noqa: SLF001
    return RedditConnection(reddit, account)
