"""Which replica leads: a PostgreSQL session-level advisory lock, held on its own connection.

Any number of ``socialdesk run`` processes may share one PostgreSQL database. All of them
serve Slack and drain the outbox; only the leader runs the listeners (pollers, the
Discord gateway) and the scheduler. The leader is whoever holds
``pg_try_advisory_lock(key)`` on a connection kept open for that purpose:

* ``key`` is the signed 64-bit integer made of the first 8 bytes of the SHA-256 of
  ``"socialdesk.leader:<schema>"``, ``<schema>`` being ``current_schema()`` of the desk's
  connection (``public`` unless the search path says otherwise): desks in different
  databases, or in different schemas of one database, elect their leaders separately.
* A follower tries to take the lock every ``RETRY_SECONDS``.
* The leader checks its lock connection every ``CHECK_SECONDS`` (a check that takes
  longer than ``CHECK_TIMEOUT_SECONDS`` fails). When the connection is gone, so is the
  lock: it steps down at once (scheduler, then listeners) and becomes a follower.
* A replica that lost the lock waits ``REJOIN_SECONDS`` before competing again.
* A leader that dies closes its connection and PostgreSQL frees the lock at once (the
  kernel closes the socket); a follower takes it within ``RETRY_SECONDS``. A leader whose
  host vanishes without closing anything is dropped by PostgreSQL's keepalives on the
  lock session after about ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT`` =
  11 s, later than that leader's own checks give up (``CHECK_SECONDS +
  CHECK_TIMEOUT_SECONDS`` = 5 s), so it has stepped down before anyone else can lead.
  Either way another replica leads well within 30 s.

The lock connection must reach PostgreSQL directly (or through a session-pooling
proxy): a transaction-pooling proxy such as PgBouncer in transaction mode breaks
session-level advisory locks.

SQLite is one file on one machine, so one process: it is always its own leader
(run one replica on SQLite).

Leadership keeps work from being done twice; correctness never depends on it. Ingest is
idempotent, cursors only move forward with the mentions they cover, and outbox jobs are
leased with ``SKIP LOCKED``, so the seconds around a change of leader cannot lose or
double anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from socialdesk.core.store.database import Database

log = logging.getLogger(__name__)

LOCK_NAME = "socialdesk.leader"
RETRY_SECONDS = 2.0
CHECK_SECONDS = 2.0
# A replica that lost the lock sits out this long before competing again: its connection
# just failed, so a healthy follower should take over.
REJOIN_SECONDS = 6.0
CHECK_TIMEOUT_SECONDS = 3.0
KEEPALIVE_IDLE = 5
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3


def lock_key(name: str) -> int:
    """The advisory lock key of ``name``: the first 8 bytes of its SHA-256, as a signed bigint."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class Elector(Protocol):
    """Takes, checks and gives back the right to lead."""

    async def try_acquire(self) -> bool: ...

    async def still_held(self) -> bool: ...

    async def release(self) -> None: ...


class SoleProcess:
    """SQLite: the only process is the leader."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """The PostgreSQL advisory lock, on one connection of the desk's engine kept for it.

    The connection is never handed back to the pool: giving up the lock closes it
    (``invalidate``), so no pooled session can carry the lock or its settings away.
    """

    def __init__(self, database: Database, name: str = LOCK_NAME,
                 check_timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
        self._db = database
        self._name = name
        self._check_timeout = check_timeout
        self._conn: AsyncConnection | None = None
        self._held = False
        self.key: int | None = None
        self.backend_pid: int | None = None  # the lock session's server process (for tests and logs)

    async def _connect(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self._db.engine.connect()
            try:
                await conn.execution_options(isolation_level="AUTOCOMMIT")  # no transaction left idle
                # A vanished host's session is dropped after ~11 s (ignored on Unix sockets).
                for setting, value in (("tcp_keepalives_idle", KEEPALIVE_IDLE),
                                       ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
                                       ("tcp_keepalives_count", KEEPALIVE_COUNT)):
                    await conn.execute(text(f"SET {setting} = {int(value)}"))
                schema = await conn.scalar(text("SELECT current_schema()"))
                self.key = lock_key(f"{self._name}:{schema}")
                self.backend_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
            except BaseException:
                await _discard(conn)
                raise
            self._conn = conn
        return self._conn

    async def try_acquire(self) -> bool:
        try:
            conn = await self._connect()
            got = bool(await asyncio.wait_for(
                conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}), self._check_timeout))
        except Exception as exc:  # the database is away: stay a follower and try again later
            log.warning("leader election: cannot reach the database", extra={"error": type(exc).__name__})
            await self._drop()
            return False
        self._held = got
        return got

    async def still_held(self) -> bool:
        """Is the lock session alive? Session-level locks last exactly as long as it does."""
        if self._conn is None or not self._held:
            return False
        try:
            await asyncio.wait_for(self._conn.scalar(text("SELECT 1")), self._check_timeout)
        except Exception as exc:
            log.error("leader election: the lock connection is gone", extra={"error": type(exc).__name__})
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Give the lock back (closing its connection frees it in any case)."""
        if self._conn is not None and self._held:
            try:
                await asyncio.wait_for(
                    self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}),
                    self._check_timeout)
            except Exception:
                pass  # the connection closes below, which frees the lock just the same
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Close the connection for good (not back to the pool); never raises."""
    try:
        await asyncio.wait_for(conn.invalidate(), CHECK_TIMEOUT_SECONDS)
        await asyncio.wait_for(conn.close(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        log.debug("leader election: closing the lock connection failed", exc_info=True)


def elector_for(database: Database) -> Elector:
    return AdvisoryLock(database) if database.is_postgres else SoleProcess()


Duty = Callable[[], Awaitable[None]]


class Leadership:
    """Keeps trying to lead; runs ``on_elected`` on gaining the lock and ``on_demoted`` on losing it.

    ``on_elected`` raising ends :meth:`run` with that error (the desk stops: a listener
    that cannot start is a configuration problem); the lock is then given back by
    :meth:`resign`, which the caller runs in any case when it shuts down.
    """

    def __init__(self, elector: Elector, on_elected: Duty, on_demoted: Duty, *,
                 retry_seconds: float = RETRY_SECONDS, check_seconds: float = CHECK_SECONDS,
                 rejoin_seconds: float = REJOIN_SECONDS) -> None:
        self._elector = elector
        self._on_elected = on_elected
        self._on_demoted = on_demoted
        self._retry = retry_seconds
        self._check = check_seconds
        self._rejoin = rejoin_seconds
        self.is_leader = False
        self.terms = 0  # how many times this process gained leadership

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set. Returns still holding the lock if it leads: shutting down
        in order (workers first, then the listeners) is the caller's :meth:`resign`."""
        while not stop.is_set():
            if not self.is_leader:
                if await self._elector.try_acquire():
                    self.is_leader, self.terms = True, self.terms + 1
                    log.info("this replica leads now", extra={"term": self.terms})
                    await self._on_elected()
                    continue
                await _sleep(stop, self._retry)
                continue
            await _sleep(stop, self._check)
            if not stop.is_set() and not await self._elector.still_held():
                log.error("leadership lost; stopping the scheduler and listeners")
                await self.step_down()
                await _sleep(stop, self._rejoin)

    async def step_down(self) -> None:
        """Stop the leader's duties (the lock is gone or about to be)."""
        if self.is_leader:
            self.is_leader = False
            await self._on_demoted()

    async def resign(self) -> None:
        """Stop the duties, then give the lock back: nobody else leads before ours stopped."""
        await self.step_down()
        await self._elector.release()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
