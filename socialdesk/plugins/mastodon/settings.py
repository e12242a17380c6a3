"""``[plugins.mastodon]``: validated once at start-up; every message says what is wrong and the fix.

The access token is never here, only the NAME of the environment variable that holds
it. Every key has a default so that a desk without Mastodon validates; ``api_base``
(your instance's address) must be set before the plugin is enabled, and start-up
says so when it is not.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import field_validator
from yarl import URL

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName, LookbackMinutes, RequestTimeoutSeconds
from socialdesk.core.errors import DeskError

PLUGIN_NAME = "mastodon"
EXAMPLE_API_BASE = "https://mastodon.social"
Visibility = Literal["public", "unlisted", "private", "direct"]


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MastodonSettings(StrictModel):
    api_base: str | None = None  # the instance the brand account lives on
    access_token_env: EnvVarName = "MASTODON_ACCESS_TOKEN"
    streaming: bool = True
    catch_up_interval: int = 300
    page_size: int = 40
    first_poll_lookback_minutes: LookbackMinutes = 60
    max_visibility: Visibility = "public"
    request_timeout_seconds: RequestTimeoutSeconds = 30.0

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = URL(value.strip())
        except ValueError:
            raise ValueError(f"must be your instance's address such as {EXAMPLE_API_BASE} (got {value!r})") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"must be an http(s) URL such as {EXAMPLE_API_BASE} (got {value!r})")
        if url.user or url.password:
            raise ValueError("must not carry a user name or password; the token comes from access_token_env")
        if url.query_string or url.fragment or url.path not in ("", "/"):
            raise ValueError(f"must be the instance's address alone, without a path such as /api/v1 (got {value!r})")
        if url.scheme == "http" and not _is_loopback(url.host):
            raise ValueError(
                f"must use https; plain http is allowed only for 127.0.0.1 or localhost (got {value!r})")
        return str(url.origin())

    @field_validator("catch_up_interval")
    @classmethod
    def _check_interval(cls, value: int) -> int:
        if not 30 <= value <= 86_400:
            raise ValueError(f"must be from 30 to 86400 seconds (got {value})")
        return value

    @field_validator("page_size")
    @classmethod
    def _check_page_size(cls, value: int) -> int:
        if not 1 <= value <= 80:
            raise ValueError(f"must be from 1 to 80 notifications per page, Mastodon's maximum (got {value})")
        return value

    def require_api_base(self) -> str:
        """The instance address, or the error that tells the admin what to write."""
        if self.api_base is None:
            raise DeskError(f"plugins.{PLUGIN_NAME}.api_base is not set: write your instance's address, such as "
                            f'api_base = "{EXAMPLE_API_BASE}", in [plugins.{PLUGIN_NAME}]')
        return self.api_base
