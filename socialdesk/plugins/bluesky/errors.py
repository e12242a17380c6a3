"""atproto's exceptions, read for what they mean to the desk.

atproto raises ``BadRequestError`` (400), ``UnauthorizedError`` (401/403),
``RateLimitExceededError`` (429), ``NetworkError`` (transport failures, and 409/413/502
answers), ``InvokeTimeoutError`` (a timeout) and ``RequestException`` (any other
status). Transport failures carry no response; their ``__cause__`` is httpx's own
exception, which tells whether the request could have reached the server. Some
transport failures (a connection closed before the answer: ``RemoteProtocolError``)
are not wrapped by atproto and arrive as httpx's own ``TransportError``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from atproto_client.exceptions import AtProtocolError, RequestErrorBase

# Failures that prove the request never left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
# Everything a call through atproto may raise about the service or the network.
API_ERRORS: tuple[type[Exception], ...] = (AtProtocolError, httpx.TransportError)


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None) if isinstance(error, RequestErrorBase) else None
    return int(response.status_code) if response is not None else None


def error_name(error: BaseException) -> str | None:
    """The XRPC error name (``ExpiredToken``, ``InvalidRequest``...), when the server answered one."""
    response = getattr(error, "response", None) if isinstance(error, RequestErrorBase) else None
    content = getattr(response, "content", None)
    name = getattr(content, "error", None)
    return str(name) if name else None


def headers_of(error: BaseException) -> Mapping[str, str]:
    response = getattr(error, "response", None) if isinstance(error, RequestErrorBase) else None
    return dict(response.headers) if response is not None else {}


def never_sent(error: BaseException) -> bool:
    """True when the failure proves nothing reached the server (no connection was made)."""
    if isinstance(error, httpx.TransportError):
        return isinstance(error, _NOT_SENT)
    return status_of(error) is None and isinstance(error.__cause__, _NOT_SENT)


def answered(error: BaseException) -> bool:
    """True when the server answered (with an error status): it told us what it did."""
    return status_of(error) is not None


def describe(error: BaseException) -> str:
    """The server's own words for an error, for agents and logs (Bluesky puts no secrets there)."""
    status = status_of(error)
    if isinstance(error, httpx.TransportError):
        return type(error).__name__
    if status is None:
        cause = error.__cause__
        return type(cause).__name__ if cause is not None else type(error).__name__
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    message = getattr(content, "message", None)
    name = error_name(error)
    detail = f"{name}: {message}" if name and message else name or "no details"
    return f"{status} {detail}"
