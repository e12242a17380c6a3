"""``[plugins.discord]``: where the bot listens, what it listens for, and how it connects.

Ids are Discord snowflakes (enable Developer Mode in Discord, then right-click → Copy ID).
The bot token is never in the file: ``token_env`` names the environment variable.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName

PLUGIN_NAME = "discord"
PLATFORM = "discord"
DEFAULT_API_BASE = "https://discord.com/api/v10"
_MAX_SNOWFLAKE = 2**63 - 1


def _snowflake(value: Any) -> int:
    # TOML has integers, but ids pasted as strings are common: accept both, store ints.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_SNOWFLAKE:
        raise ValueError(
            f"must be a Discord id such as 1234567890123456789 (got {value!r}); "
            "enable Developer Mode in Discord and use 'Copy ID'"
        )
    return value


Snowflake = Annotated[int, BeforeValidator(_snowflake)]


class DiscordSettings(StrictModel):
    token_env: EnvVarName = Field("DISCORD_BOT_TOKEN", description="variable holding the bot token")
    api_base: str = Field(DEFAULT_API_BASE, description="REST base URL, ending in /api/v10 (proxies, sandbox)")
    gateway_url: str | None = Field(
        None, description="gateway websocket URL; unset: Discord's, or GET /gateway/bot of a changed api_base")
    guilds: list[Snowflake] = Field(default_factory=list, description="servers to watch; empty: every server")
    channels: list[Snowflake] = Field(
        default_factory=list,
        description="text, announcement and forum channels to watch (their threads too); empty: all in the guilds")
    keywords: list[str] = Field(default_factory=list, description="words that make a message a mention")
    listen_to_mentions: bool = True
    sharded: bool = Field(False, description="use AutoShardedClient")
    shard_count: int | None = Field(None, ge=1, le=4096, description="unset: Discord's recommendation")
    backfill_limit: int = Field(
        0, ge=0, le=10_000,
        description="newest messages read per channel the first time the desk sees it; 0: start from now")
    catch_up_interval_seconds: float = Field(
        900.0, ge=30, le=86_400,
        description="also read history this often while connected (repairs events Discord did not deliver)")
    request_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="a reply not answered in this time may have been posted: uncertain")
    max_ratelimit_wait_seconds: float = Field(
        30.0, ge=30, le=3600, description="longer 429 waits give the reply back to the outbox to retry later")
    guild_ready_timeout: float = Field(
        2.0, gt=0, le=60, description="seconds to wait for the server list after connecting (discord.py)")

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_API_BASE} (got {value!r})")
        if not value.endswith("/api/v10"):
            raise ValueError(f"must end in /api/v10, the API version this plugin speaks (got {value!r})")
        return value

    @field_validator("gateway_url")
    @classmethod
    def _check_gateway(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value.startswith(("wss://", "ws://")):
            raise ValueError(f"must be a websocket URL such as wss://gateway.discord.gg (got {value!r})")
        return value

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value]
        if any(not k for k in cleaned):
            raise ValueError("keywords must not be blank")
        return list(dict.fromkeys(cleaned))

    @model_validator(mode="after")
    def _check_combination(self) -> DiscordSettings:
        if not self.listen_to_mentions and not self.keywords:
            raise ValueError("nothing to listen for: set listen_to_mentions = true or give keywords")
        if self.shard_count is not None and not self.sharded:
            raise ValueError("shard_count needs sharded = true")
        return self

    @property
    def uses_default_api(self) -> bool:
        return self.api_base == DEFAULT_API_BASE
