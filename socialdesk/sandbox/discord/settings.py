"""Knobs of the Discord emulator: the app's settings on Discord's side and the sandbox's limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from socialdesk.sandbox.discord import intents


@dataclass(frozen=True)
class RateLimitRule:
    """``limit`` requests per ``per`` seconds in one bucket (route + major parameter)."""

    limit: int
    per: float


def _default_route_limits() -> dict[str, RateLimitRule]:
    # Discord's best-known limit: 5 messages per 5 s per channel for a bot.
    return {"POST /channels/{channel_id}/messages": RateLimitRule(5, 5.0)}


@dataclass
class DiscordSettings:
    bot_username: str = "socialdesk-bot"
    application_name: str = "socialdesk"
    bot_token: str | None = None  # None: a token shaped like Discord's is made for the bot's id
    # Privileged intents switched on in the developer portal; asking for others closes with 4014.
    enabled_privileged_intents: int = intents.MESSAGE_CONTENT | intents.GUILD_MEMBERS
    heartbeat_interval_ms: int = 41_250  # Discord's usual value; tests use a small one
    # A connection that sends nothing for interval * factor (+1 s) is a zombie and is closed 4009.
    heartbeat_timeout_factor: float = 2.5
    recommended_shards: int = 1  # "shards" in GET /gateway/bot
    max_guilds_per_shard: int = 2500  # more guilds per shard than this closes with 4011
    session_start_total: int = 1000
    max_concurrency: int = 1
    resume_buffer_events: int = 1000  # events kept per session for RESUME
    resume_window_seconds: float = 120.0  # a detached session older than this can't be resumed
    max_sessions: int = 256  # sessions remembered (live + resumable); oldest dead ones are forgotten
    outbound_queue_limit: int = 5000  # a client this far behind is disconnected (4000), then may RESUME
    gateway_send_limit: int = 120  # client payloads per 60 s, else close 4008
    max_inbound_payload_bytes: int = 4096  # larger client payloads close with 4002
    max_messages_per_channel: int = 5000  # older messages are forgotten (bounded memory)
    max_attachment_bytes: int = 10 * 1024 * 1024
    route_limits: dict[str, RateLimitRule] = field(default_factory=_default_route_limits)
    default_route_limit: RateLimitRule = RateLimitRule(50, 1.0)
    global_limit_per_second: int = 50
