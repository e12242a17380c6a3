"""The Discourse REST client: ``Api-Key`` and ``Api-Username`` headers, JSON in and out.

Discourse answers a rate limit with 429, ``Retry-After`` and
``{"extras": {"wait_seconds": N}}``; other refusals with ``{"errors": [...]}``. Both become
``DiscourseRefusal`` carrying the status, Discourse's own message and when to retry.
Transport errors (no connection, timeout) are left to the caller, which alone knows
whether a request may have been processed.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

MAX_MESSAGE_CHARS = 300


class DiscourseRefusal(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500


def _message(status: int, text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:MAX_MESSAGE_CHARS] or f"HTTP {status}"
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)[:MAX_MESSAGE_CHARS]
        if isinstance(body.get("error"), str):
            return body["error"][:MAX_MESSAGE_CHARS]
    return f"HTTP {status}"


def _retry_after(response: aiohttp.ClientResponse, text: str) -> float | None:
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    try:
        wait = json.loads(text).get("extras", {}).get("wait_seconds")
    except (ValueError, AttributeError):
        return None
    return float(wait) if isinstance(wait, (int, float)) else None


class DiscourseClient:
    def __init__(self, base_url: str, api_key: str, api_username: str, timeout_seconds: float) -> None:
        self.base_url = base_url
        self.api_username = api_username
        self._headers = {"Api-Key": api_key, "Api-Username": api_username, "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        async with self._open().request(method, self.base_url + path, params=params, json=body) as response:
            text = await response.text(errors="replace")
            if response.status >= 300:
                raise DiscourseRefusal(response.status, _message(response.status, text),
                                       _retry_after(response, text) if response.status == 429 else None)
            try:
                return json.loads(text) if text.strip() else {}
            except ValueError:
                raise DiscourseRefusal(response.status, "the answer is not JSON") from None

    async def get(self, path: str, params: Any = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body=body)
