"""One Web API call as Slack reads it: method, arguments from wherever they came, and the token.

Slack takes arguments from the query string, a form body (urlencoded or multipart) or
a JSON body, and the token from ``Authorization: Bearer`` or a ``token`` argument;
slack_sdk uses all of these depending on the method. Errors are HTTP 200 with
``{"ok": false, "error": ...}`` unless Slack itself uses another status (429).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


class ApiError(Exception):
    """A Slack error answer: ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(messages: list[str]) -> ApiError:
    """Slack's answer to a malformed argument: the problems listed in response_metadata."""
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


@dataclass(frozen=True)
class UploadedPart:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ApiCall:
    method: str
    http_method: str
    content_type: str
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedPart] = field(default_factory=dict)
    token: str | None = None
    token_source: str | None = None  # "header" or "param": where the token came from

    def text(self, key: str) -> str | None:
        """A string argument; JSON numbers are accepted as their text, as Slack does."""
        value = self.params.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, str):
            return value
        raise invalid_arguments([f"must be a string [json-pointer:/{key}]"])

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.params.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def integer(self, key: str, default: int) -> int:
        value = self.params.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid_arguments([f"must be an integer [json-pointer:/{key}]"]) from None

    def structured(self, key: str, format_error: str) -> Any:
        """A JSON argument (blocks, view, files...): a JSON string in forms, a value in JSON bodies."""
        value = self.params.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(format_error) from None
        return value


def parse_multipart(raw: bytes, content_type_header: str) -> tuple[dict[str, Any], dict[str, UploadedPart]]:
    # The traffic recorder has already read the body, so aiohttp's streaming reader cannot
    # be used; the stdlib MIME parser reads the cached bytes instead.
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type_header.encode("latin-1") + b"\r\n\r\n" + raw
    )
    params: dict[str, Any] = {}
    files: dict[str, UploadedPart] = {}
    if not message.is_multipart():
        raise ApiError("invalid_form_data")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedPart(filename, part.get_content_type(), data)
        else:
            params[name] = data.decode(part.get_content_charset() or "utf-8", errors="replace")
    return params, files


async def parse_api_call(request: web.Request, method: str) -> ApiCall:
    content_type = request.content_type or ""
    call = ApiCall(method=method, http_method=request.method, content_type=content_type)
    call.params.update(request.query)
    raw = await request.read()  # cached: the traffic recorder has read it already
    if raw:
        if content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError("json_not_object")
            call.params.update(body)
        elif content_type == "application/x-www-form-urlencoded":
            call.params.update(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
        elif content_type == "multipart/form-data":
            params, files = parse_multipart(raw, request.headers.get("Content-Type", ""))
            call.params.update(params)
            call.files.update(files)
        else:
            raise ApiError("invalid_post_type")
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        call.token, call.token_source = authorization[7:].strip(), "header"
    token_param = call.params.pop("token", None)
    if call.token is None and isinstance(token_param, str) and token_param:
        call.token, call.token_source = token_param, "param"
    return call
