"""Query-parameter checks with X's wording; every problem is reported at once, like X does.

A handler reads its parameters through ``QueryParams`` and then calls ``check()``,
which raises the 400 invalid-request answer listing each bad parameter and value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from socialdesk.sandbox.x import pagination
from socialdesk.sandbox.x.fields import (
    MEDIA_FIELDS,
    OTHER_FIELD_PARAMETERS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_EXPANSIONS,
    USER_FIELDS,
    Selection,
)
from socialdesk.sandbox.x.problems import invalid_request, parameter_error

SNOWFLAKE = re.compile(r"^[0-9]{1,19}$")
TWEET_SELECTION_PARAMETERS = ("tweet.fields", "post.fields", "user.fields", "expansions", *OTHER_FIELD_PARAMETERS)
USER_SELECTION_PARAMETERS = ("user.fields", "tweet.fields", "post.fields", "expansions")


class QueryParams:
    def __init__(self, query: Mapping[str, str], allowed: Iterable[str]) -> None:
        self.query = query
        self.errors: list[dict[str, Any]] = []
        allowed = tuple(allowed)
        for name in query:
            if name not in allowed:
                listed = ",".join(a for a in allowed if a != "post.fields")
                self.errors.append(parameter_error(name, query[name], f"The query parameter [{name}] is not one of [{listed}]"))

    def _bad(self, name: str, value: str, message: str) -> None:
        self.errors.append(parameter_error(name, value, message))

    def check(self) -> None:
        if self.errors:
            raise invalid_request(self.errors)

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        raw = self.query.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"-?[0-9]+", raw):
            self._bad(name, raw, f"The `{name}` query parameter value [{raw}] is not a valid integer")
            return default
        if not low <= int(raw) <= high:
            self._bad(name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}")
            return default
        return int(raw)

    def snowflake(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        if not SNOWFLAKE.match(raw):
            self._bad(name, raw, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
            return None
        return int(raw)

    def timestamp(self, name: str) -> float | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise ValueError("no time zone")
        except ValueError:
            self._bad(name, raw, f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time")
            return None
        return moment.timestamp()

    def cursor(self, *names: str) -> int | None:
        for name in names:
            raw = self.query.get(name)
            if raw is None:
                continue
            position = pagination.decode(raw)
            if position is None:
                self._bad(name, raw, f"The `{name}` query parameter value [{raw}] is not a valid token")
            return position
        return None

    def text(self, name: str, max_length: int) -> str:
        raw = self.query.get(name)
        if raw is None or not raw.strip():
            self._bad(name, raw or "", f"The `{name}` query parameter can not be empty")
            return ""
        if len(raw) > max_length:
            self._bad(name, raw, f"The `{name}` query parameter value is longer than {max_length} characters")
        return raw

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw not in options:
            self._bad(name, raw, f"The `{name}` query parameter value [{raw}] is not one of [{','.join(options)}]")
            return default
        return raw

    def csv(self, name: str, allowed: tuple[str, ...]) -> frozenset[str]:
        raw = self.query.get(name)
        if raw is None:
            return frozenset()
        values = raw.split(",")
        for value in values:
            if value not in allowed:
                self._bad(name, value, f"The `{name}` query parameter value [{value}] is not one of [{','.join(allowed)}]")
        return frozenset(v for v in values if v in allowed)

    def tweet_selection(self) -> Selection:
        """Fields and expansions of an endpoint that returns posts."""
        # poll.fields and place.fields are allowed but select nothing: the sandbox has no polls or places.
        fields = self.csv("tweet.fields", TWEET_FIELDS) | self.csv("post.fields", TWEET_FIELDS)
        return Selection(fields, self.csv("user.fields", USER_FIELDS), self.csv("expansions", TWEET_EXPANSIONS),
                         self.csv("media.fields", MEDIA_FIELDS))

    def user_selection(self) -> Selection:
        """Fields and expansions of an endpoint that returns users."""
        fields = self.csv("tweet.fields", TWEET_FIELDS) | self.csv("post.fields", TWEET_FIELDS)
        return Selection(fields, self.csv("user.fields", USER_FIELDS), self.csv("expansions", USER_EXPANSIONS))
