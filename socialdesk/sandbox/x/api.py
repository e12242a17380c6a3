"""The X API v2 endpoints the desk uses, as aiohttp handlers.

Every endpoint goes through the same gate, in X's order: authenticate (401), check the
authentication type is allowed here (403 Unsupported Authentication), count the request
against the rate limit (429), then handle it. Every answer after the rate-limit step
carries ``x-rate-limit-limit`` / ``-remaining`` / ``-reset``.

| endpoint                        | name          | who may call            |
|---------------------------------|---------------|-------------------------|
| GET /2/users/me                 | users_me      | user context            |
| GET /2/users/:id/mentions       | mentions      | app-only or user        |
| GET /2/tweets/search/recent     | search_recent | app-only or user        |
| GET /2/tweets/:id, /2/tweets    | tweet_lookup  | app-only or user        |
| POST /2/tweets                  | create_tweet  | user context            |
| DELETE /2/tweets/:id            | delete_tweet  | user context            |
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from socialdesk.sandbox.x.auth import APP_ONLY, Authenticator, Caller
from socialdesk.sandbox.x.create_request import parse_create_request
from socialdesk.sandbox.x.fields import Renderer, Selection
from socialdesk.sandbox.x.pagination import Page, page_of
from socialdesk.sandbox.x.params import SNOWFLAKE, TWEET_SELECTION_PARAMETERS, USER_SELECTION_PARAMETERS, QueryParams
from socialdesk.sandbox.x.problems import (
    DUPLICATE,
    NOT_YOUR_TWEET,
    QUOTE_TARGET_GONE,
    REPLY_TARGET_GONE,
    XApiError,
    forbidden,
    generic,
    invalid_request,
    json_response,
    not_found,
    not_found_error,
    parameter_error,
    too_many_requests,
    unsupported_authentication,
)
from socialdesk.sandbox.x.query import QueryError, compile_query
from socialdesk.sandbox.x.rate_limits import RateLimiter
from socialdesk.sandbox.x.timeline import PublicTimeline, Tweet

Handler = Callable[[web.Request, Caller], Awaitable[web.Response]]
RouteHandler = Callable[[web.Request], Awaitable[web.Response]]
MENTIONS_TIMELINE_DEPTH = 800  # X serves the 800 most recent mentions
SEARCH_WINDOW_SECONDS = 7 * 24 * 3600  # recent search covers the last seven days
QUERY_MAX_LENGTH = 4096


@dataclass
class ApiSettings:
    max_tweet_length: int = 280
    duplicate_window_seconds: float = 24 * 3600  # X refuses the same text from the same account "recently"


class XApi:
    def __init__(self, timeline: PublicTimeline, auth: Authenticator, limiter: RateLimiter,
                 settings: ApiSettings | None = None) -> None:
        self.timeline = timeline
        self.auth = auth
        self.limiter = limiter
        self.settings = settings or ApiSettings()

    def register(self, app: web.Application) -> None:
        app.router.add_get("/2/users/me", self._gate("users_me", self.users_me, user_only=True), name="users_me")
        app.router.add_get("/2/users/{id}/mentions", self._gate("mentions", self.mentions), name="mentions")
        app.router.add_get("/2/tweets/search/recent", self._gate("search_recent", self.search_recent),
                           name="search_recent")
        app.router.add_get("/2/tweets", self._gate("tweet_lookup", self.tweets_by_ids), name="tweets_by_ids")
        app.router.add_post("/2/tweets", self._gate("create_tweet", self.create_tweet, user_only=True),
                            name="create_tweet")
        app.router.add_get("/2/tweets/{id}", self._gate("tweet_lookup", self.tweet_by_id), name="tweet_by_id")
        app.router.add_delete("/2/tweets/{id}", self._gate("delete_tweet", self.delete_tweet, user_only=True),
                              name="delete_tweet")
        app.router.add_route("*", "/{tail:.*}", self.unknown_route, name="unknown")

    # --- the gate -------------------------------------------------------------------------
    def _gate(self, endpoint: str, handler: Handler, *, user_only: bool = False) -> RouteHandler:
        async def gated(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                caller = self.auth.authenticate(request, body)
            except XApiError as error:
                return error.response()
            if user_only and caller.kind == "app":
                return unsupported_authentication(APP_ONLY).response()
            allowed, quota = self.limiter.take(endpoint, caller)
            headers = quota.headers() if quota else {}
            if not allowed:
                return too_many_requests().response(headers)
            try:
                response = await handler(request, caller)
            except XApiError as error:
                response = error.response()
            response.headers.update(headers)
            return response

        gated.endpoint = endpoint  # type: ignore[attr-defined]  # read by the emulator's fault answers
        return gated

    def _endpoint_and_caller(self, request: web.Request) -> tuple[str, Caller] | None:
        route = request.match_info.route
        endpoint = getattr(route.handler, "endpoint", None) if route is not None else None
        caller = self.auth.identify(request)
        return (endpoint, caller) if endpoint is not None and caller is not None else None

    def quota_headers(self, request: web.Request) -> dict[str, str]:
        """The caller's current rate-limit headers, without counting (for injected faults)."""
        found = self._endpoint_and_caller(request)
        quota = self.limiter.peek(*found) if found else None
        return quota.headers() if quota else {}

    def rate_limit_of(self, request: web.Request) -> int | None:
        """The request's per-window limit for its caller, if one applies (for injected 429s)."""
        found = self._endpoint_and_caller(request)
        return self.limiter.limits.limit_for(*found) if found else None

    async def unknown_route(self, request: web.Request) -> web.Response:
        return generic(404).response()

    # --- users ------------------------------------------------------------------------------
    async def users_me(self, request: web.Request, caller: Caller) -> web.Response:
        params = QueryParams(request.query, USER_SELECTION_PARAMETERS)
        selection = params.user_selection()
        params.check()
        user = self.timeline.user(caller.user_id or "")
        if user is None:  # tokens of an account that no longer exists
            raise generic(401)
        data, includes = Renderer(self.timeline, selection).user(user)
        return json_response(200, _body(data=data, includes=includes))

    # --- reading posts ---------------------------------------------------------------------
    async def mentions(self, request: web.Request, caller: Caller) -> web.Response:
        params = QueryParams(request.query, ("max_results", "pagination_token", "since_id", "until_id",
                                             "start_time", "end_time", *TWEET_SELECTION_PARAMETERS))
        user_id = _path_id(request, "id")
        size = params.integer("max_results", 5, 100, 10)
        window = _TimeWindow.read(params)
        below = params.cursor("pagination_token")
        selection = params.tweet_selection()
        params.check()
        user = self.timeline.user(user_id)
        if user is None:
            return json_response(200, {"errors": [not_found("user", user_id)]})

        def candidates() -> Iterator[Tweet]:
            seen = 0
            for tweet in self.timeline.newest_first():
                if tweet.mentions(user.username):
                    seen += 1
                    if seen > MENTIONS_TIMELINE_DEPTH:
                        return
                    if window.admits(tweet):
                        yield tweet

        return self._page(page_of(candidates(), size, below), selection)

    async def search_recent(self, request: web.Request, caller: Caller) -> web.Response:
        params = QueryParams(request.query, ("query", "max_results", "next_token", "pagination_token", "since_id",
                                             "until_id", "start_time", "end_time", "sort_order",
                                             *TWEET_SELECTION_PARAMETERS))
        text = params.text("query", QUERY_MAX_LENGTH)
        size = params.integer("max_results", 10, 100, 10)
        window = _TimeWindow.read(params)
        below = params.cursor("next_token", "pagination_token")
        params.choice("sort_order", ("recency", "relevancy"), "recency")  # relevancy is served by recency
        selection = params.tweet_selection()
        oldest_allowed = self.timeline.clock() - SEARCH_WINDOW_SECONDS
        if window.start is not None and window.start < oldest_allowed:
            params.errors.append(parameter_error("start_time", request.query["start_time"],
                                                 "Invalid 'start_time'. 'start_time' must be within the last 7 days"))
        predicate = None
        if text:
            try:
                predicate = compile_query(text, self.timeline)
            except QueryError as error:
                params.errors.append(parameter_error("query", text, str(error)))
        params.check()
        assert predicate is not None
        found = (t for t in self.timeline.newest_first()
                 if t.created_epoch >= oldest_allowed and window.admits(t) and predicate(t))
        return self._page(page_of(found, size, below), selection)

    async def tweet_by_id(self, request: web.Request, caller: Caller) -> web.Response:
        tweet_id = _path_id(request, "id")
        params = QueryParams(request.query, TWEET_SELECTION_PARAMETERS)
        selection = params.tweet_selection()
        params.check()
        tweet = self.timeline.get(tweet_id)
        if tweet is None:
            return json_response(200, {"errors": [not_found("tweet", tweet_id)]})
        data, includes = Renderer(self.timeline, selection).tweets([tweet])
        return json_response(200, _body(data=data[0], includes=includes))

    async def tweets_by_ids(self, request: web.Request, caller: Caller) -> web.Response:
        params = QueryParams(request.query, ("ids", *TWEET_SELECTION_PARAMETERS))
        raw = request.query.get("ids", "")
        ids = [i for i in raw.split(",") if i] if raw else []
        if not ids:
            params.errors.append(parameter_error("ids", raw, "The `ids` query parameter can not be empty"))
        elif len(ids) > 100:
            params.errors.append(parameter_error("ids", raw, f"The `ids` query parameter value [{raw}] "
                                                             "is not between 1 and 100 ids"))
        for value in ids:
            if not SNOWFLAKE.match(value):
                params.errors.append(_not_a_snowflake("ids", value))
        selection = params.tweet_selection()
        params.check()
        found: list[Tweet] = []
        errors = []
        for tweet_id in ids:
            tweet = self.timeline.get(tweet_id)
            if tweet is None:
                errors.append(not_found("tweet", tweet_id, parameter="ids"))
            else:
                found.append(tweet)
        data, includes = Renderer(self.timeline, selection).tweets(found)
        return json_response(200, _body(data=data or None, includes=includes, errors=errors))

    def _page(self, page: Page, selection: Selection) -> web.Response:
        data, includes = Renderer(self.timeline, selection).tweets(page.tweets)
        return json_response(200, _body(data=data or None, includes=includes, meta=page.meta()))

    # --- writing posts ---------------------------------------------------------------------
    async def create_tweet(self, request: web.Request, caller: Caller) -> web.Response:
        wanted = parse_create_request(await request.read(), self.settings.max_tweet_length)
        author = self.timeline.user(caller.user_id or "")
        if author is None:
            raise generic(401)
        if wanted.in_reply_to_tweet_id and self.timeline.get(wanted.in_reply_to_tweet_id) is None:
            raise forbidden(REPLY_TARGET_GONE)
        if wanted.quote_tweet_id and self.timeline.get(wanted.quote_tweet_id) is None:
            raise forbidden(QUOTE_TARGET_GONE)
        since = self.timeline.clock() - self.settings.duplicate_window_seconds
        if self.timeline.recent_duplicate(author.id, wanted.text, since) is not None:
            raise forbidden(DUPLICATE)
        tweet = self.timeline.post(author, wanted.text, in_reply_to=wanted.in_reply_to_tweet_id,
                                   quote=wanted.quote_tweet_id)
        return json_response(201, {"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}})

    async def delete_tweet(self, request: web.Request, caller: Caller) -> web.Response:
        tweet_id = _path_id(request, "id")
        tweet = self.timeline.get(tweet_id)
        if tweet is None:
            raise not_found_error("tweet", tweet_id)
        if tweet.author_id != caller.user_id:
            raise forbidden(NOT_YOUR_TWEET)
        self.timeline.delete(tweet_id)
        return json_response(200, {"data": {"deleted": True}})


@dataclass(frozen=True)
class _TimeWindow:
    """since_id / until_id / start_time / end_time: the same four bounds on every timeline."""

    since_id: int | None
    until_id: int | None
    start: float | None
    end: float | None

    @classmethod
    def read(cls, params: QueryParams) -> _TimeWindow:
        return cls(params.snowflake("since_id"), params.snowflake("until_id"),
                   params.timestamp("start_time"), params.timestamp("end_time"))

    def admits(self, tweet: Tweet) -> bool:
        number = int(tweet.id)
        return ((self.since_id is None or number > self.since_id)
                and (self.until_id is None or number < self.until_id)
                and (self.start is None or tweet.created_epoch >= self.start)
                and (self.end is None or tweet.created_epoch < self.end))


def _path_id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not SNOWFLAKE.match(value):
        raise invalid_request([_not_a_snowflake(name, value)])
    return value


def _not_a_snowflake(name: str, value: str) -> dict[str, Any]:
    return parameter_error(name, value, f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$")


def _body(**parts: Any) -> dict[str, Any]:
    """A response body without the empty parts, as X leaves them out."""
    return {name: value for name, value in parts.items() if value}
