"""The ``/api/<method>`` endpoint: token check, rate limits, dispatch, Slack-shaped answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError, parse_api_call
from socialdesk.sandbox.slack.ratelimit import RateLimiter
from socialdesk.sandbox.slack.scopes import DEFAULT_BOT_SCOPES, SCOPES_HEADER, require_scope
from socialdesk.sandbox.slack.state import Credentials, SlackState

Method = Callable[[SlackState, ApiCall], dict[str, Any]]

APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def authorize(credentials: Credentials, call: ApiCall) -> None:
    """Slack's token rules: bot tokens for the Web API, the app-level token only for Socket Mode."""
    token = call.token
    if not token:
        raise ApiError("not_authed")
    wants_app_token = call.method in APP_TOKEN_METHODS
    if token == credentials.app_token:
        if not wants_app_token:
            raise ApiError("not_allowed_token_type")
    elif token in credentials.bot_tokens:
        if wants_app_token:
            raise ApiError("not_allowed_token_type")
    else:
        raise ApiError("invalid_auth")


def slack_json(body: dict[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=dict(headers or {}))


def ratelimited(retry_after: int) -> web.Response:
    return slack_json({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)})


class WebApi:
    def __init__(self, state: SlackState, limiter: RateLimiter, methods: Mapping[str, Method]) -> None:
        self.state = state
        self.limiter = limiter
        self.methods = dict(methods)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        scope_headers: dict[str, str] = {}
        try:
            call = await parse_api_call(request, method)
            handler = self.methods.get(method)
            if handler is None:
                raise ApiError("unknown_method", status=404, req_method=method)
            try:
                authorize(self.state.credentials, call)
                is_bot = call.token in self.state.credentials.bot_tokens
            finally:
                call.token = None  # tests read api_calls; the token must not linger there
                self.state.remember_call(call)
            if is_bot:
                granted = self.state.credentials.bot_scopes
                granted = DEFAULT_BOT_SCOPES if granted is None else granted
                scope_headers[SCOPES_HEADER] = ",".join(granted)
                require_scope(self.state, call, granted)
            retry_after = self.limiter.check(method, call.text("channel"))
            if retry_after is not None:
                return ratelimited(retry_after)
            return slack_json(handler(self.state, call), headers=scope_headers)
        except ApiError as error:
            return slack_json(error.body(), status=error.status, headers={**scope_headers, **error.headers})
