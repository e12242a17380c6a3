"""The configurable API base URL under tweepy's ``AsyncClient``.

tweepy has no setting for the API host: ``AsyncBaseClient.request`` always builds
``"https://api.twitter.com" + route``. Its one seam is ``client.session``: the aiohttp
session requests go through, called as ``session.request(method, url, ...)`` and left
open by tweepy when it is set. ``ApiSession`` fills that seam: it forwards to one real
``aiohttp.ClientSession`` (timeouts, connection pool) and, when ``api_base`` is not X's
own origin, swaps the origin (and prepends the base's path) keeping the path and query
exactly as tweepy encoded them. Nothing of tweepy is copied or patched.

Used for the sandbox (``http://127.0.0.1:<port>``) and for proxies. OAuth 1.0a
signatures still cover the ``https://api.twitter.com/...`` URL tweepy believes it
calls, which is what X verifies when a proxy forwards the request unchanged.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL

TWEEPY_ORIGIN = URL("https://api.twitter.com")
MAX_CONNECT_SECONDS = 10.0

# Failures that prove the request never left this machine. aiohttp < 3.10 has no
# ConnectionTimeoutError: there a connect timeout counts as "may have left" (the safe side).
NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)


class ApiSession:
    """Duck-types the part of ``aiohttp.ClientSession`` tweepy uses: ``request()``."""

    def __init__(self, api_base: str, timeout_seconds: float) -> None:
        base = URL(api_base)
        self._target: URL | None = None if base.origin() == TWEEPY_ORIGIN and base.path in ("", "/") else base
        # A separate connect timeout raises ConnectionTimeoutError, which proves nothing was
        # sent; a timeout after connecting cannot tell (see replies.py).
        timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, MAX_CONNECT_SECONDS))
        self._session = aiohttp.ClientSession(timeout=timeout)

    def redirect(self, url: str | URL) -> URL:
        # tweepy passes a str for bearer calls and an already-encoded URL for signed calls.
        url = url if isinstance(url, URL) else URL(url)
        if self._target is None or url.origin() != TWEEPY_ORIGIN:
            return url
        prefix = self._target.raw_path.rstrip("/")
        return URL.build(scheme=self._target.scheme, host=self._target.raw_host, port=self._target.explicit_port,
                         path=prefix + url.raw_path, query_string=url.raw_query_string, encoded=True)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        return self._session.request(method, self.redirect(url), **kwargs)

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def close(self) -> None:
        await self._session.close()
