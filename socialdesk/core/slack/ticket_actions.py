"""The ticket actions a card button and a `/desk` subcommand share, and the one-line answer each gives."""

from __future__ import annotations

from socialdesk.core.errors import ClaimedByOther
from socialdesk.core.extensions import Actor
from socialdesk.core.service import DeskService

TAKEOVER = "--takeover"


async def claim(service: DeskService, actor: Actor, number: int, command: str, *, takeover: bool = False) -> str:
    try:
        await service.claim(number, actor, takeover=takeover)
    except ClaimedByOther as exc:
        return f"{exc}. To take it over: `{command} claim {number} {TAKEOVER}`"
    return f"You have #{number} now."


async def unclaim(service: DeskService, actor: Actor, number: int) -> str:
    await service.unclaim(number, actor)
    return f"You let go of #{number}; it is back in the queue."


async def close(service: DeskService, actor: Actor, number: int, reason: str | None = None) -> str:
    await service.close(number, actor, reason)
    return f"#{number} is closed."


async def reopen(service: DeskService, actor: Actor, number: int) -> str:
    await service.reopen(number, actor)
    return f"#{number} is open again."


async def spam(service: DeskService, actor: Actor, number: int) -> str:
    await service.mark_spam(number, actor)
    return f"#{number} is marked as spam and closed."
