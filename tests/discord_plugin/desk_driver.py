"""Drive a desk running the Discord plugin in tests, and read what it stored.

Reads go straight to the store (what the desk really wrote). Waits poll with a deadline
and fail with what they were waiting for; nothing asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from socialdesk.core.app import DeskApp
from socialdesk.core.store.models import Message, OutboxJob, Reply, Ticket
from socialdesk.plugins.discord.plugin import runtime_for
from socialdesk.plugins.discord.runtime import DiscordRuntime
from socialdesk.sandbox.discord import DiscordEmulator
from tests.platform_double import CardRecorder
from tests.sandbox.discord_loopback import WAIT, eventually

TOKEN_ENV = "SOCIALDESK_TEST_DISCORD_TOKEN"
T = TypeVar("T")


async def eventually_async(probe: Callable[[], Awaitable[T]], timeout: float = WAIT,
                           what: str = "condition") -> T:
    """Await ``probe`` until its result is truthy; fail (not hang) after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await asyncio.wait_for(probe(), timeout)
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {value!r})")
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Stored:
    """An inbound message as the desk stored it."""

    external_id: str
    ticket_id: int
    conversation_id: str
    text: str
    url: str | None
    in_reply_to_id: str | None
    attachments: list[str]


class DiscordDesk:
    def __init__(self, app: DeskApp, emulator: DiscordEmulator, cards: CardRecorder) -> None:
        self.app = app
        self.emulator = emulator
        self.cards = cards

    @property
    def runtime(self) -> DiscordRuntime:
        return runtime_for(self.app)

    @property
    def bot_id(self) -> int:
        return int(self.emulator.bot_user["id"])

    def at_bot(self, text: str) -> str:
        return f"<@{self.bot_id}> {text}"

    # -- running -------------------------------------------------------------------------------

    async def start(self, timeout: float = WAIT) -> None:
        await asyncio.wait_for(self.app.hooks.start_listeners(), timeout)
        await self.until_caught_up(timeout)

    async def until_caught_up(self, timeout: float = WAIT, passes: int = 1) -> None:
        runtime = self.runtime
        await eventually(lambda: runtime.ready and runtime.catch_up.passes >= passes, timeout,
                         f"the desk to be connected and caught up ({passes} pass(es))")

    async def stop(self) -> None:
        await asyncio.wait_for(self.app.hooks.stop_listeners(), WAIT)

    async def drain(self) -> None:
        await asyncio.wait_for(self.app.outbox_runner().drain(), WAIT)

    # -- reading the store -------------------------------------------------------------------------

    async def inbound(self) -> list[Stored]:
        query = (select(Message, Ticket.conversation_id).join(Ticket, Ticket.id == Message.ticket_id)
                 .where(Message.direction == "inbound").order_by(Message.id))
        async with self.app.database.sessions() as session:
            rows = (await session.execute(query)).all()
        return [Stored(m.external_id or "", m.ticket_id, conversation, m.text, m.url, m.in_reply_to_id,
                       list(m.attachments)) for m, conversation in rows]

    async def until_inbound(self, count: int, timeout: float = WAIT) -> list[Stored]:
        async def probe() -> list[Stored] | None:
            stored = await self.inbound()
            assert len(stored) <= count, f"more messages than expected: {[s.text for s in stored]}"
            return stored if len(stored) == count else None

        return await eventually_async(probe, timeout, f"{count} inbound messages")

    async def tickets(self) -> list[Ticket]:
        async with self.app.database.sessions() as session:
            return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())

    async def replies(self) -> list[Reply]:
        async with self.app.database.sessions() as session:
            return list((await session.scalars(select(Reply).order_by(Reply.id))).all())

    async def jobs(self, kind: str) -> list[OutboxJob]:
        async with self.app.database.sessions() as session:
            return list((await session.scalars(
                select(OutboxJob).where(OutboxJob.kind == kind).order_by(OutboxJob.id))).all())

    async def cursor(self, key: str) -> str | None:
        return await self.app.cursors.get("discord", key)

    # -- what crossed the wire ----------------------------------------------------------------------

    def posts(self, channel_id: int) -> list[dict[str, Any]]:
        return self.emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel_id}/messages")

    def all_message_posts(self) -> list[dict[str, Any]]:
        return [r for r in self.emulator.recorder.of("discord", method="POST")
                if r["path"].endswith("/messages")]

    def bot_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [m for m in self.emulator.messages(channel_id) if m["author"]["id"] == str(self.bot_id)]
