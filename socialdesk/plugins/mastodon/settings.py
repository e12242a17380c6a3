"""``[plugins.mastodon]``: validated once at start-up; every message says what is wrong and the fix.

The access token is never here, only the NAME of the environment variable that holds
it. Every key has a default so that a desk without Mastodon validates; ``api_base``
(your instance's address) must be set before the plugin is enabled, and start-up
says so when it is not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator
from yarl import URL

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName, LookbackMinutes, RequestTimeoutSeconds
from socialdesk.core.outbound_url import checked_url
from socialdesk.core.errors import DeskError

PLUGIN_NAME = "mastodon"
EXAMPLE_API_BASE = "https://mastodon.social"
Visibility = Literal["public", "unlisted", "private", "direct"]



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
        # The instance's address alone: the plugin adds /api/v1 and /api/v2 itself.
        url = URL(checked_url(value, EXAMPLE_API_BASE, allow_query=False))
        if url.path not in ("", "/"):
            raise ValueError(f"must be the instance's address alone, without a path such as /api/v1 (got {value!r})")
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
