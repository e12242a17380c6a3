"""What a Mastodon.py exception says: the HTTP status, Mastodon's message, and whether anything left.

Mastodon.py raises ``MastodonAPIError(message, status, reason, error)`` for error answers
(subclasses for 401, 404, 5xx), ``MastodonRatelimitError`` for 429 and
``MastodonNetworkError`` when no answer arrived. The network error is raised while
handling the ``requests`` exception, so that exception is its ``__context__``: a
refused connection or a connect timeout means the request never left.
"""

from __future__ import annotations

import requests
import urllib3.exceptions
from mastodon import MastodonAPIError, MastodonError, MastodonNetworkError, MastodonRatelimitError

# What may fail when calling Mastodon.py: its own errors, and bad data in an answer.
CALL_ERRORS: tuple[type[BaseException], ...] = (MastodonError, requests.RequestException, ValueError, KeyError,
                                                TypeError, AttributeError)


def status_of(exc: BaseException) -> int | None:
    if isinstance(exc, MastodonRatelimitError):
        return 429
    if isinstance(exc, MastodonAPIError) and len(exc.args) >= 2 and isinstance(exc.args[1], int):
        return exc.args[1]
    return None


def describe(exc: BaseException) -> str:
    """'404 (Record not found)': the status and Mastodon's own words, never a token."""
    status = status_of(exc)
    if isinstance(exc, MastodonAPIError) and len(exc.args) >= 4:
        message = str(exc.args[3] or exc.args[2] or "")
        return f"{status} ({message})" if message else str(status)
    if status is not None:
        return str(status)
    return type(exc).__name__


def never_left(exc: BaseException) -> bool:
    """True when the request could not have reached Mastodon (no connection was made)."""
    if not isinstance(exc, MastodonNetworkError):
        return False
    seen: BaseException | None = exc.__context__ or exc.__cause__
    depth = 0
    while seen is not None and depth < 6:
        if isinstance(seen, requests.ConnectTimeout):
            return True
        if isinstance(seen, requests.ConnectionError):
            reason = seen.args[0] if seen.args else None
            inner = getattr(reason, "reason", reason)
            if isinstance(inner, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)):
                return True
        seen = seen.__context__ or seen.__cause__
        depth += 1
    return False
