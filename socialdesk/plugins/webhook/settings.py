"""``[plugins.webhook]``: named sources, each with its secret's variable and callback URL.

    [plugins.webhook.sources.shop]
    label = "Shop reviews"                 # shown on cards
    secret_env = "WEBHOOK_SHOP_SECRET"     # whsec_... shared with the sender
    callback_url = "https://shop.example.com/desk/answers"
"""

from __future__ import annotations

import re

from pydantic import field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "webhook"
PLATFORM = "webhook"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_REPLY_LENGTH = 10_000


class WebhookSourceSettings(StrictModel):
    label: str | None = None
    secret_env: EnvVarName
    callback_url: str | None = None  # no URL: the source only sends, agents cannot reply
    callback_secret_env: EnvVarName | None = None  # signs answers; the inbound secret when unset
    max_reply_length: int = DEFAULT_REPLY_LENGTH
    tolerance_seconds: int = 300
    request_timeout_seconds: float = 15.0

    @field_validator("callback_url")
    @classmethod
    def _check_callback(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value, "https://shop.example.com/desk/answers")

    @field_validator("max_reply_length")
    @classmethod
    def _check_length(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise ValueError(f"must be from 1 to 100000 characters (got {value})")
        return value

    @field_validator("tolerance_seconds")
    @classmethod
    def _check_tolerance(cls, value: int) -> int:
        if not 30 <= value <= 3600:
            raise ValueError(f"must be from 30 to 3600 seconds (got {value}); Standard Webhooks suggests 300")
        return value

    @field_validator("request_timeout_seconds")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        if not 1 <= value <= 120:
            raise ValueError(f"must be from 1 to 120 seconds (got {value})")
        return value


class WebhookSettings(StrictModel):
    sources: dict[str, WebhookSourceSettings] = {}

    @field_validator("sources")
    @classmethod
    def _check_names(cls, value: dict[str, WebhookSourceSettings]) -> dict[str, WebhookSourceSettings]:
        for name in value:
            if not SOURCE_NAME.match(name):
                raise ValueError(f"source name {name!r} must be 1-40 lower-case letters, digits, '-' or '_' "
                                 "(it becomes the path /push/webhook/<name>)")
        return value
