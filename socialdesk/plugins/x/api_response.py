"""What one X answer carried: its JSON body and the headers the rate budget reads.

The plugin's tweepy clients use ``return_type=aiohttp.ClientResponse``: tweepy still
encodes parameters, signs requests and maps error statuses to exceptions, and the
desk gets the raw answer with its ``x-rate-limit-*`` headers (tweepy's own ``Response``
drops headers). tweepy has already read the body, so ``json()`` needs no connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import tweepy


@dataclass(frozen=True)
class ApiAnswer:
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def meta(self) -> dict[str, Any]:
        return self.body.get("meta") or {}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    def users_by_id(self) -> dict[str, dict[str, Any]]:
        return {user["id"]: user for user in (self.body.get("includes") or {}).get("users", [])}

    def media_by_key(self) -> dict[str, dict[str, Any]]:
        """``includes.media`` (asked for with ``expansions=attachments.media_keys``) by media key."""
        media = (self.body.get("includes") or {}).get("media") or []
        return {str(m["media_key"]): m for m in media if isinstance(m, dict) and m.get("media_key")}


async def read_answer(response: aiohttp.ClientResponse) -> ApiAnswer:
    body = await response.json(content_type=None)
    if not isinstance(body, dict):
        raise ValueError(f"X answered {response.status} with a body that is not a JSON object")
    return ApiAnswer(body, dict(response.headers))


def headers_of(error: BaseException) -> Mapping[str, str]:
    """The headers of a tweepy HTTP error's answer ({} for anything else)."""
    response = getattr(error, "response", None) if isinstance(error, tweepy.HTTPException) else None
    return dict(response.headers) if response is not None else {}


def status_of(error: tweepy.HTTPException) -> int:
    response = error.response
    return int(getattr(response, "status", None) or getattr(response, "status_code", 0))


def describe(error: tweepy.HTTPException) -> str:
    """X's own words for an error answer, for agents and logs (X puts no secrets there)."""
    messages = [m for m in error.api_messages if m]
    detail = "; ".join(dict.fromkeys(messages)) if messages else "no details"
    return f"{status_of(error)} {detail}"
