"""A URL the desk sends credentials or signed requests to: https, or plain http to this machine.

Shared by the settings of platforms configured with a base URL or a callback URL; the
message names the fix. Plain http is allowed only for 127.0.0.1/localhost (the sandbox).
"""

from __future__ import annotations

import ipaddress

from yarl import URL


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(value: str, example: str, *, allow_path: bool = True, allow_query: bool = True) -> str:
    """``value`` normalised (no trailing slash), or ``ValueError`` saying what to write instead."""
    try:
        url = URL(value.strip())
    except ValueError:
        raise ValueError(f"must be a URL such as {example} (got {value!r})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"must be an http(s) URL such as {example} (got {value!r})")
    if url.user or url.password:
        raise ValueError("must not carry a user name or password; credentials come from environment variables")
    if url.query_string and not allow_query:
        raise ValueError(f"must not have a query (got {value!r})")
    if url.fragment or (not allow_path and url.path not in ("", "/")):
        raise ValueError(f"must be a bare address such as {example} (got {value!r})")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(f"must use https; plain http is allowed only for 127.0.0.1 or localhost (got {value!r})")
    return str(url).rstrip("/")
