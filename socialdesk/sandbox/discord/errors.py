"""Discord's error answers and the JSON response every answer goes through.

discord.py decodes a body as JSON only when Content-Type is exactly ``application/json``
(no charset), so every answer is built here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(payload: Any) -> str:
    """``payload`` as Discord's JSON. Discord keeps text as UTF-8, which cannot hold a lone
    UTF-16 surrogate (JSON ``"\\ud83d"`` without its pair): it comes back as U+FFFD."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return _LONE_SURROGATE.sub("\ufffd", text)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    body = json_text(payload).encode("utf-8")
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


class DiscordAPIError(Exception):
    """An error answer: HTTP status, Discord's JSON error code and message, optional field errors."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def field_error(code: str, message: str) -> dict[str, Any]:
    """The innermost ``{"_errors": [...]}`` Discord puts under a field's name."""
    return {"_errors": [{"code": code, "message": message}]}


def invalid_form_body(errors: dict[str, Any]) -> DiscordAPIError:
    return DiscordAPIError(400, 50035, "Invalid Form Body", errors)


def unauthorized() -> DiscordAPIError:
    return DiscordAPIError(401, 0, "401: Unauthorized")


def not_found() -> DiscordAPIError:
    return DiscordAPIError(404, 0, "404: Not Found")


def method_not_allowed() -> DiscordAPIError:
    return DiscordAPIError(405, 0, "405: Method Not Allowed")


def server_error() -> DiscordAPIError:
    return DiscordAPIError(500, 0, "500: Internal Server Error")


def unknown(what: str, code: int) -> DiscordAPIError:
    """``Unknown Channel`` (10003), ``Unknown Guild`` (10004), ``Unknown Message`` (10008)..."""
    return DiscordAPIError(404, code, f"Unknown {what}")


def not_snowflake(field: str, value: str) -> DiscordAPIError:
    return invalid_form_body({field: field_error("NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')})


UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MESSAGE = 10008
CANNOT_EDIT_OTHERS_MESSAGE = 50005
CANNOT_SEND_EMPTY = 50006
MISSING_PERMISSIONS = 50013
CANNOT_SEND_IN_NON_TEXT = 50008
INVALID_JSON = 50109
THREAD_ALREADY_CREATED = 160004
