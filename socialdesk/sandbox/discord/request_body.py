"""Request bodies as Discord reads them: JSON, or multipart with ``payload_json`` and ``files[n]``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from aiohttp import web

from socialdesk.sandbox.discord.errors import INVALID_JSON, DiscordAPIError


@dataclass
class UploadedFile:
    field_name: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class RequestBody:
    payload: dict[str, Any]
    files: list[UploadedFile] = field(default_factory=list)


def _invalid_json() -> DiscordAPIError:
    return DiscordAPIError(400, INVALID_JSON, "The request body contains invalid JSON.")


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise _invalid_json() from exc
    if not isinstance(payload, dict):
        raise _invalid_json()
    return payload


def parse_multipart(raw: bytes, content_type_header: str) -> RequestBody:
    """A multipart/form-data body: ``payload_json`` is the JSON, file parts are the uploads."""
    # The traffic middleware has already read the stream, so parse the cached bytes.
    parsed: Message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type_header.encode("latin-1") + b"\r\n\r\n" + raw)
    payload: dict[str, Any] = {}
    files: list[UploadedFile] = []
    for part in parsed.iter_parts() if parsed.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        if filename is not None:
            files.append(UploadedFile(str(name), filename, part.get_content_type(), data))
        elif name == "payload_json":
            payload = _json_object(data)
        elif name is not None:
            payload[str(name)] = data.decode("utf-8", errors="replace")
    return RequestBody(payload, files)


async def read_body(request: web.Request) -> RequestBody:
    raw = await request.read()
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        return parse_multipart(raw, content_type)
    return RequestBody(_json_object(raw))
