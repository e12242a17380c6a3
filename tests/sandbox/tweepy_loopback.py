"""Point the real ``tweepy.asynchronous.AsyncClient`` at the X emulator.

tweepy has no setting for the API host: ``AsyncBaseClient.request`` builds
``"https://api.twitter.com" + route``. Its one seam is ``client.session``, documented as
the aiohttp session requests go through, used as ``session.request(method, url, ...)``
and left open by tweepy when it is set. ``LoopbackSession`` fills that seam: it
forwards to a real ``aiohttp.ClientSession`` and swaps X's origin for the emulator's,
keeping the path and the query exactly as tweepy encoded them. Nothing of tweepy is
copied or patched, so what runs is tweepy's own code: parameter processing, OAuth 1.0a
signing with oauthlib, error mapping.

The OAuth 1.0a signature therefore covers ``https://api.twitter.com/...``, the URL tweepy
believes it calls; the emulator accepts signatures made for X's public origins (it is
standing in for them) as well as for its own loopback URL.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import tweepy.asynchronous
from yarl import URL

TWEEPY_ORIGIN = URL("https://api.twitter.com")


class LoopbackSession:
    """Duck-types the part of ``aiohttp.ClientSession`` tweepy uses: ``request()``."""

    def __init__(self, base_url: str) -> None:
        self._target = URL(base_url)
        self._session = aiohttp.ClientSession()

    def _redirect(self, url: str | URL) -> URL:
        # tweepy passes a str for bearer calls and an already-encoded URL for signed calls.
        url = url if isinstance(url, URL) else URL(url)
        if url.origin() != TWEEPY_ORIGIN:
            return url
        return URL.build(scheme=self._target.scheme, host=self._target.host, port=self._target.port,
                         path=url.raw_path, query_string=url.raw_query_string, encoded=True)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        return self._session.request(method, self._redirect(url), **kwargs)

    async def close(self) -> None:
        await self._session.close()


def loopback_client(base_url: str, **credentials: Any) -> tweepy.asynchronous.AsyncClient:
    """An ``AsyncClient(**credentials)`` whose requests go to ``base_url``; close with ``close_client``."""
    client = tweepy.asynchronous.AsyncClient(**credentials)
    client.session = LoopbackSession(base_url)
    return client


async def close_client(client: tweepy.asynchronous.AsyncClient) -> None:
    if isinstance(client.session, LoopbackSession):
        await client.session.close()
