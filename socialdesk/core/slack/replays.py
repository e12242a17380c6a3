"""Replayed Slack requests are answered without acting.

Slack signs each request over its timestamp and body, and Bolt refuses a signature older
than five minutes; inside that window the same signed bytes could be sent again (by
anyone who saw them) and a ``/desk reply`` would be posted twice. The signature of each
verified request is recorded in the database (every replica sees it) before the request
acts; a second request with the same signature is acknowledged with an empty answer and
does nothing. Records expire after :data:`KEEP_SECONDS`, well past Slack's window.

Socket Mode requests arrive over the app's own authenticated websocket, unsigned; they
are not replayable from outside and are not recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.store.models import HandledSlackRequest

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

KEEP_SECONDS = 15 * 60  # Slack's signature window is 5 minutes; allow for clock skew
SWEEP_EVERY_SECONDS = 60.0
SIGNATURE_HEADER = "x-slack-signature"
RECEIVED_AT = "socialdesk_received_at"  # context key: when the request reached the desk (loop time)


def _signature(req: AsyncBoltRequest) -> str | None:
    values = req.headers.get(SIGNATURE_HEADER) or []
    return values[0][:128] if values and values[0] else None


class HandledRequests:
    """Where a desk records handled signatures: its database, with a memory of its own in front.

    On PostgreSQL the insert is the check (the primary key refuses a second one, whatever
    replica made the first); the signatures arriving while an insert is under way are
    inserted together by the next one (a burst of fifty clicks is a few statements, not
    fifty transactions ahead of the acknowledgements). SQLite
    serialises writers, and twenty simultaneous clicks each waiting for the write lock
    before their acknowledgement would miss Slack's 3 seconds; a SQLite desk is one
    process, so there the check is the memory alone (the records written before a restart
    are read into it once, on the first request), and the record is written right after,
    off the request's path: no database work at all before the acknowledgement.
    """

    def __init__(self, app: DeskApp) -> None:
        self._app = app
        self._seen: dict[str, float] = {}  # signature -> monotonic expiry
        self._last_sweep = 0.0
        self._writes: set[asyncio.Task[None]] = set()
        self._pending: set[str] = set()  # SQLite: handled, not yet recorded
        self._sweep_pending = False
        self._waiting: dict[str, asyncio.Future[bool]] = {}  # PostgreSQL: arrived, not yet inserted
        self._inserting: asyncio.Future[None] | None = None
        self._recalled: asyncio.Future[None] | None = None  # SQLite: earlier records read into memory

    async def first_time(self, signature: str) -> bool:
        """Record ``signature`` as handled; False if it already was (a replay)."""
        one_process = not self._app.database.is_postgres  # SQLite: one process, its memory is the record
        if one_process:
            await self._recall_once()
        now = time.monotonic()
        if self._seen.get(signature, 0.0) > now:
            return False
        self._seen[signature] = now + KEEP_SECONDS
        sweep = now - self._last_sweep > SWEEP_EVERY_SECONDS
        if sweep:
            self._last_sweep = now
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        if one_process:  # the memory holds every signature handled in the window: no read per request
            self._pending.add(signature)
            self._sweep_pending |= sweep
            if not self._writes:  # one writer at a time records everything pending
                write = asyncio.ensure_future(self._record_pending())
                self._writes.add(write)
                write.add_done_callback(self._writes.discard)
            return True
        answer = self._waiting[signature] = asyncio.get_running_loop().create_future()
        self._sweep_pending |= sweep
        if self._inserting is None:
            self._inserting = asyncio.ensure_future(self._insert_waiting())
        return await answer

    async def _recall_once(self) -> None:
        """SQLite: the signatures recorded before this process started (a restart inside
        Slack's window), read into the memory once; a failed read is tried again."""
        if self._recalled is None:
            self._recalled = asyncio.ensure_future(self._recall())
        try:
            await asyncio.shield(self._recalled)
        except Exception:
            self._recalled = None
            raise

    async def _recall(self) -> None:
        wall = self._app.clock()
        rows = await self._app.database.run_read(lambda c: c.execute(
            select(HandledSlackRequest.signature, HandledSlackRequest.expires_at)
            .where(HandledSlackRequest.expires_at > wall)).all())
        now = time.monotonic()
        for signature, expires_at in rows:
            if expires_at.tzinfo is None:  # SQLite hands back naive UTC
                expires_at = expires_at.replace(tzinfo=timezone.utc)
            self._seen.setdefault(signature, now + (expires_at - wall).total_seconds())

    async def _insert_waiting(self) -> None:
        """PostgreSQL: insert what arrived meanwhile, batch after batch; a signature the
        table already held (another replica acted on it) is answered as a replay."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                sweep, self._sweep_pending = self._sweep_pending, False
                try:
                    fresh = await self._insert_new(sorted(batch), sweep=sweep)
                except Exception as exc:  # each request fails as it would alone (Slack retries it)
                    for answer in batch.values():
                        if not answer.done():  # a request may have been cancelled meanwhile
                            answer.set_exception(exc)
                    continue
                for signature, answer in batch.items():
                    if not answer.done():
                        answer.set_result(signature in fresh)
        finally:
            self._inserting = None

    async def _insert_new(self, signatures: list[str], *, sweep: bool) -> set[str]:
        """Record ``signatures``; the ones the table did not hold yet (one statement, on
        either database: a signature recorded already is skipped, not an error)."""
        now = self._app.clock()
        rows = [{"signature": s, "handled_at": now, "expires_at": now + timedelta(seconds=KEEP_SECONDS)}
                for s in signatures]
        dialect = postgresql if self._app.database.is_postgres else sqlite
        async with self._app.database.transaction() as session:
            if sweep:
                await session.execute(delete(HandledSlackRequest).where(HandledSlackRequest.expires_at < now))
            inserted = await session.scalars(dialect.insert(HandledSlackRequest).values(rows)
                                             .on_conflict_do_nothing().returning(HandledSlackRequest.signature))
            return set(inserted.all())

    async def _record_pending(self) -> None:
        """SQLite: the signatures pending, in one write transaction per batch (a burst of
        clicks is one write, not one each queued behind the claims)."""
        while self._pending:
            batch, self._pending = self._pending, set()
            sweep, self._sweep_pending = self._sweep_pending, False
            try:
                await self._insert_new(sorted(batch), sweep=sweep)
            except Exception:  # the memory still refuses replays in this process
                log.exception("could not record handled Slack requests")


def ack_budget(context: dict[str, Any], seconds: float) -> float:
    """What is left of ``seconds`` since the request reached the desk (before the replay
    check's write, which waits its turn on a busy database)."""
    received = context.get(RECEIVED_AT)
    if received is None:
        return seconds
    return max(0.1, seconds - (asyncio.get_running_loop().time() - received))


def refuse_replays(app: DeskApp) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt ``before_authorize`` middleware: runs after the signature was verified. It
    also notes each request's arrival (both modes; Socket Mode requests are not signed,
    so there is nothing to check)."""

    handled = HandledRequests(app)

    async def middleware(req: AsyncBoltRequest, resp: BoltResponse,
                         next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:  # noqa: A002 (Bolt's name)
        # Slack's 3 seconds run from here: listeners that answer late spend what is left.
        req.context[RECEIVED_AT] = asyncio.get_running_loop().time()
        app.attention.request_arrived()
        signature = _signature(req) if req.mode == "http" else None
        if signature is not None and not await handled.first_time(signature):
            metrics_for(app).slack_replay_refused()
            log.warning("a replayed Slack request was answered without acting",
                        extra={"type": req.body.get("type") or req.body.get("command")})
            return BoltResponse(status=200, body="")
        return await next()

    return middleware
