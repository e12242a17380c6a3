"""X API v2 error answers, with the bodies the live API sends.

X answers errors as RFC 7807 "problem" objects. Bodies here are copied from what the
live API returns (seen in tweepy and client-library bug reports, 2022-2026): generic
errors use ``"type": "about:blank"``; typed problems use ``https://api.twitter.com/2/
problems/<name>`` (the vendored OpenAPI description writes ``https://api.x.com/...``;
the contract tests account for that). Every body is JSON with ``application/json``,
the content type X sends for these answers.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PROBLEMS = "https://api.twitter.com/2/problems/"
CONTENT_TYPE = "application/json"
TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines text length "
            "see https://github.com/twitter/twitter-text.")
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_TARGET_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
QUOTE_TARGET_GONE = "You attempted to quote a Tweet that is deleted or not visible to you."
NOT_YOUR_TWEET = "You are not allowed to delete this Tweet."
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
APP_ONLY = "OAuth 2.0 Application-Only"
USER_CONTEXTS = "[OAuth 1.0a User Context, OAuth 2.0 User Context]"


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone UTF-16 surrogate (X counts and cuts text in UTF-16 units, so a post can end
        # in half an emoji) cannot be UTF-8: X sends it as a JSON escape, "\ud83d".
        encoded = json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return web.Response(status=status, body=encoded, content_type=CONTENT_TYPE, charset="utf-8",
                        headers=headers)


class XApiError(Exception):
    """Raised by handlers; becomes the HTTP answer X would give."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('detail') or body.get('title')}")
        self.status = status
        self.body = body

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return json_response(self.status, self.body, headers)


def generic(status: int, detail: str | None = None) -> XApiError:
    """``{"title", "detail", "type": "about:blank", "status"}``: X's 401, 429, 5xx and most 403s."""
    title = _TITLES.get(status, "Error")
    return XApiError(status, {"title": title, "detail": detail or title, "type": "about:blank", "status": status})


def unauthorized() -> XApiError:
    return generic(401)


def forbidden(detail: str) -> XApiError:
    return generic(403, detail)


def too_many_requests() -> XApiError:
    return generic(429)


def server_error() -> XApiError:
    return generic(500)


def unsupported_authentication(used: str = APP_ONLY, supported: str = USER_CONTEXTS) -> XApiError:
    return XApiError(403, {
        "title": "Unsupported Authentication",
        # two spaces after the first sentence: X's own text
        "detail": f"Authenticating with {used} is forbidden for this endpoint.  Supported authentication types are {supported}.",
        "type": PROBLEMS + "unsupported-authentication",
        "status": 403,
    })


def parameter_error(name: str, values: list[str] | str, message: str) -> dict[str, Any]:
    """One entry of an invalid-request ``errors`` list: which parameter, which value, why."""
    return {"parameters": {name: values if isinstance(values, list) else [values]}, "message": message}


def invalid_request(errors: list[dict[str, Any]]) -> XApiError:
    return XApiError(400, {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    })


def not_found(resource_type: str, resource_id: str, parameter: str = "id") -> dict[str, Any]:
    """A resource-not-found problem, as X lists it in ``errors`` next to (or instead of) ``data``."""
    return {
        "value": resource_id,
        "detail": f"Could not find {resource_type} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": PROBLEMS + "resource-not-found",
    }


def not_found_error(resource_type: str, resource_id: str, parameter: str = "id") -> XApiError:
    return XApiError(404, {**not_found(resource_type, resource_id, parameter), "status": 404})
