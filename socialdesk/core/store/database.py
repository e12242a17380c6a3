"""Engines and transactions for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# Execution option: on SQLite, statements on such a connection run without ``BEGIN
# IMMEDIATE``, each in its own snapshot, so a read neither takes nor waits for the write lock.
_READ_ONLY = "socialdesk_read_only"


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers; ``BEGIN IMMEDIATE`` so writers queue on the busy timeout.

    With SQLite's default deferred transactions two writers that both read first can
    deadlock on the upgrade to a write lock and fail at once with "database is locked";
    taking the write lock at BEGIN makes them wait their turn instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine_for(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **kwargs)
        _configure_sqlite(engine.sync_engine)
        return engine
    # 30 connections kept open, none opened beyond: a burst of clicks waits for a
    # connection instead of opening and closing twenty more (each replica holds 30 at most).
    return create_async_engine(url, pool_size=30, max_overflow=0, pool_pre_ping=True, **kwargs)


class _SQLiteThreads:
    """A synchronous engine on the same SQLite file, driven from worker threads.

    aiosqlite hands every statement to its connection's thread and back (several times:
    cursor, execute, fetch, close), each hand-off a thread switch and an event-loop
    wake-up; for a transaction of many small statements that costs more than SQLite's
    own work. Here a whole function of statements runs in one hand-off. Writes go
    through one thread (SQLite takes one writer at a time anyway; the thread queues this
    desk's in order); reads through the loop's default executor.
    """

    def __init__(self, url: URL) -> None:
        self.engine = create_engine(url.set(drivername="sqlite+pysqlite"),
                                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        _configure_sqlite(self.engine)
        self._reads = self.engine.execution_options(**{_READ_ONLY: True})
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialdesk-sqlite-writer")
        self._writer_connection: Connection | None = None  # used by the writer thread only
        self._writer_closed = False

    @staticmethod
    def serves(url: URL) -> bool:
        """Only files: a second engine on ``:memory:`` would open a second, empty database."""
        database = url.database or ""
        return (url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
                and "mode=memory" not in database and url.query.get("mode") != "memory")

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        # The writer keeps its connection between transactions: a pool checkout and
        # return per transaction cost as much as the BEGIN and COMMIT themselves.
        connection = self._writer_connection
        if connection is None:  # the first transaction, or the last one lost the file (below)
            connection = self._writer_connection = self.engine.connect()
        try:
            with connection.begin():
                return work(connection)
        finally:
            if connection.invalidated:  # the driver lost the file: the next transaction opens it afresh
                connection.close()
                self._writer_connection = None

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._reads.connect() as connection:
            return work(connection)

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._transaction, work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, self._read, work)

    def _close_writer_connection(self) -> None:
        if self._writer_connection is not None:
            self._writer_connection.close()
            self._writer_connection = None

    def dispose(self) -> None:
        """Close the writer's connection in its thread, then everything (twice is harmless)."""
        if not self._writer_closed:
            self._writer_closed = True
            self._writer.submit(self._close_writer_connection)
            self._writer.shutdown(wait=True)
        self.engine.dispose()


class Database:
    """One engine and session factory per desk."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine_for(url, **engine_kwargs)
        # Sessions for reads: on SQLite they start no BEGIN IMMEDIATE, so a read neither
        # takes nor waits for the write lock (WAL gives each statement a consistent
        # snapshot). Writes go through ``transaction()``, which does take it.
        self.sessions = async_sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}),
                                           expire_on_commit=False, autoflush=False)
        self._write_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        parsed = make_url(url)
        self._sqlite_threads = _SQLiteThreads(parsed) if _SQLiteThreads.serves(parsed) else None
        # asyncio.Lock wakes waiters in arrival order and binds to the loop on first use.
        self._writers = asyncio.Lock() if parsed.get_backend_name() == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """On SQLite, this process's write transactions take turns here, first come first
        served, before ``BEGIN IMMEDIATE``: SQLite's busy handler makes a waiting writer
        poll with sleeps of up to 100 ms, so fifty simultaneous clicks each contending for
        the lock waited seconds for a lock held a few milliseconds at a time. (Other
        processes on the same file still meet the busy timeout.)"""
        if self._writers is None:
            yield
            return
        async with self._writers:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._writer_turn(), self._write_sessions() as session, session.begin():
            yield session

    async def run_in_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work``, synchronous SQLAlchemy Core on the connection it is given, in one
        transaction: committed if it returns, rolled back if it raises.

        For hot write paths of many small statements (ingest). On a SQLite file ``work``
        runs in a writer thread (see ``_SQLiteThreads``); on PostgreSQL through
        ``run_sync``. Either way it must not touch the event loop or anything bound to it.
        """
        if self._sqlite_threads is not None:
            async with self._writer_turn():
                return await self._sqlite_threads.transaction(work)
        async with self._writer_turn(), self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous reads) without waiting for, or holding up, writers.

        Each statement is its own snapshot (no transaction is opened, on either database):
        use it for single-statement reads and never write through it.
        """
        if self._sqlite_threads is not None:
            return await self._sqlite_threads.read(work)
        async with self.engine.connect() as connection:
            # No BEGIN and ROLLBACK around it on PostgreSQL either: two round trips fewer.
            await connection.execution_options(isolation_level="AUTOCOMMIT", **{_READ_ONLY: True})
            return await connection.run_sync(work)

    async def dispose(self) -> None:
        if self._sqlite_threads is not None:
            self._sqlite_threads.dispose()
        await self.engine.dispose()

    def safe_url(self) -> str:
        """The URL without its password, for logs and errors."""
        return make_url(self.url).render_as_string(hide_password=True)
