"""OpenAI's error answers: ``{"error": {"message", "type", "param", "code"}}`` (``ErrorResponse``).

Messages, types and codes are the ones the API sends for each case (bad key, rate limit,
server error, unknown model, invalid request), so clients map them as they do in production.
"""

from __future__ import annotations

from aiohttp import web


def error(status: int, message: str, kind: str, *, param: str | None = None, code: str | None = None,
          headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": param, "code": code}},
                             status=status, headers=headers)


def missing_key() -> web.Response:
    return error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header "
                      "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error")


def wrong_key(given: str) -> web.Response:
    shown = f"{given[:3]}*{given[-4:]}" if len(given) > 8 else "****"
    return error(401, f"Incorrect API key provided: {shown}. You can find your API key at "
                      "https://platform.openai.com/account/api-keys.", "invalid_request_error",
                 code="invalid_api_key")


def rate_limited(model: str, retry_after: float) -> web.Response:
    seconds = max(1, round(retry_after))
    return error(429, f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1. "
                      f"Please try again in {seconds}s.", "requests", code="rate_limit_exceeded",
                 headers={"Retry-After": str(seconds), "x-ratelimit-limit-requests": "3",
                          "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": f"{seconds}s"})


def server_error() -> web.Response:
    return error(500, "The server had an error while processing your request. Sorry about that!", "server_error")


def unknown_model(model: str) -> web.Response:
    return error(404, f"The model `{model}` does not exist or you do not have access to it.",
                 "invalid_request_error", code="model_not_found")


def invalid(message: str, param: str | None, code: str | None = None) -> web.Response:
    return error(400, message, "invalid_request_error", param=param, code=code)
