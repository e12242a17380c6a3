"""XRPC error answers: ``{"error": "<Name>", "message": "..."}`` with the lexicons' names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                        headers=dict(headers or {}))


class XrpcError(Exception):
    """Raised by a handler; becomes the XRPC error answer."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message

    def response(self, headers: Mapping[str, str] | None = None) -> web.Response:
        return json_response(self.status, {"error": self.error, "message": self.message}, headers)


def invalid_request(message: str) -> XrpcError:
    return XrpcError(400, "InvalidRequest", message)


def authentication_required(message: str = "Authentication Required") -> XrpcError:
    return XrpcError(401, "AuthenticationRequired", message)


def expired_token() -> XrpcError:
    return XrpcError(400, "ExpiredToken", "Token has expired")


def invalid_token(message: str = "Token could not be verified") -> XrpcError:
    return XrpcError(400, "InvalidToken", message)


def rate_limit_exceeded() -> XrpcError:
    return XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded")


def internal_server_error() -> XrpcError:
    return XrpcError(500, "InternalServerError", "Internal Server Error")


def method_not_implemented() -> XrpcError:
    return XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
