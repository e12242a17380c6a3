"""A gateway event produced by a change in the emulated world, before it is fanned out to sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GatewayEvent:
    name: str  # the dispatch name, e.g. MESSAGE_CREATE
    data: dict[str, Any]
    guild_id: int | None  # decides the shard; None goes to every session
    intent: int  # the intent a session needs to receive it
    content_gated: bool = False  # a message whose content needs MESSAGE_CONTENT
