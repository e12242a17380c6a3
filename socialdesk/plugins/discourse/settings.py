"""``[plugins.discourse]``: the forum's address, which posts concern the desk, secrets' names.

Secrets (the API key, the webhook secret) are never here, only the names of the
environment variables holding them. With no ``categories``, ``tags`` or
``support_group``, every post on the forum becomes a mention.
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "discourse"
PLATFORM = "discourse"
DISCOURSE_MAX_POST_LENGTH = 32_000  # the site setting's default
DISCOURSE_MIN_POST_LENGTH = 20
_GROUP = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


class DiscourseSettings(StrictModel):
    base_url: str = "https://forum.example.com"
    api_key_env: EnvVarName = "DISCOURSE_API_KEY"
    api_username_env: EnvVarName = "DISCOURSE_API_USERNAME"
    webhook_secret_env: EnvVarName = "DISCOURSE_WEBHOOK_SECRET"
    categories: list[int] = []
    tags: list[str] = []
    support_group: str | None = None
    max_post_length: int = DISCOURSE_MAX_POST_LENGTH
    min_post_length: int = DISCOURSE_MIN_POST_LENGTH
    stale_after_minutes: int = 360
    backfill_interval: int = 300
    backfill_max_pages: int = 20
    request_timeout_seconds: float = 30.0

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return checked_url(value, "https://forum.example.com")

    @field_validator("support_group")
    @classmethod
    def _check_group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("@")
        if not _GROUP.match(value):
            raise ValueError(f"must be a Discourse group name such as 'support' (got {value!r})")
        return value

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str]) -> list[str]:
        return [tag.strip().lower() for tag in value if tag.strip()]

    @field_validator("max_post_length")
    @classmethod
    def _check_max(cls, value: int) -> int:
        if not 100 <= value <= 1_000_000:
            raise ValueError(f"must be the site's max_post_length setting, 100 or more (got {value}); "
                             "`socialdesk check --online` compares it with the forum's when the key is an admin's")
        return value

    @field_validator("stale_after_minutes")
    @classmethod
    def _check_stale(cls, value: int) -> int:
        # Discourse retries a failed webhook after 1, 5, 25 and 125 minutes: 156 in all.
        if not 160 <= value <= 7 * 24 * 60:
            raise ValueError(f"must be from 160 (Discourse retries for 156 minutes) to 10080 minutes (got {value})")
        return value

    @field_validator("backfill_interval")
    @classmethod
    def _check_interval(cls, value: int) -> int:
        if not 30 <= value <= 86_400:
            raise ValueError(f"must be from 30 seconds to 86400, one day (got {value})")
        return value

    @field_validator("backfill_max_pages")
    @classmethod
    def _check_pages(cls, value: int) -> int:
        if not 1 <= value <= 200:
            raise ValueError(f"must be from 1 to 200 pages of latest posts (got {value})")
        return value

    @model_validator(mode="after")
    def _lengths(self) -> DiscourseSettings:
        if self.min_post_length >= self.max_post_length:
            raise ValueError("min_post_length must be smaller than max_post_length")
        return self

    def wants_all_posts(self) -> bool:
        return not (self.categories or self.tags or self.support_group)
