"""``[plugins.bluesky]``: validated once at start-up; every message says what is wrong and the fix.

Secrets are never here, only the NAMES of the environment variables that hold them:
the brand's handle (or DID) and an app password (Settings -> Privacy and security ->
App passwords on bsky.app; never the account password). Every key has a default, so a
desk that does not use Bluesky validates without a ``[plugins.bluesky]`` table.
"""

from __future__ import annotations


from pydantic import field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName, LookbackMinutes, RequestTimeoutSeconds
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "bluesky"
DEFAULT_SERVICE = "https://bsky.social"  # the PDS entryway; self-hosted PDSes have their own
MIN_POLL_INTERVAL = 10
MAX_POLL_INTERVAL = 86_400



class BlueskySettings(StrictModel):
    service: str = DEFAULT_SERVICE
    handle_env: EnvVarName = "BLUESKY_HANDLE"
    app_password_env: EnvVarName = "BLUESKY_APP_PASSWORD"
    poll_interval: int = 30
    page_size: int = 50
    first_poll_lookback_minutes: LookbackMinutes = 60
    request_timeout_seconds: RequestTimeoutSeconds = 30.0

    @field_validator("service")
    @classmethod
    def _check_service(cls, value: str) -> str:
        # The app password travels in the login request: plain http only to this machine (the sandbox).
        base = checked_url(value, DEFAULT_SERVICE, allow_query=False)
        return base.removesuffix("/xrpc")  # the XRPC path is added by the plugin

    @property
    def xrpc_base(self) -> str:
        return f"{self.service}/xrpc"

    @field_validator("poll_interval")
    @classmethod
    def _check_poll_interval(cls, value: int) -> int:
        if not MIN_POLL_INTERVAL <= value <= MAX_POLL_INTERVAL:
            raise ValueError(f"must be from {MIN_POLL_INTERVAL} seconds to {MAX_POLL_INTERVAL} (one day) (got {value})")
        return value

    @field_validator("page_size")
    @classmethod
    def _check_page_size(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError(f"must be from 1 to 100 notifications per page, Bluesky's limit (got {value})")
        return value

