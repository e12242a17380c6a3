"""Polling cursors (since_id, timestamps) kept per plugin, advanced with the data they cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.database import Database
from socialdesk.core.store.models import Cursor


@dataclass(frozen=True, slots=True)
class CursorAdvance:
    """Move ``plugin``'s cursor ``key`` to ``value`` in the same transaction as the mentions."""

    plugin: str
    key: str
    value: str


def cursor_upsert(dialect: str, advance: CursorAdvance, now: datetime) -> Insert:
    """INSERT ... ON CONFLICT DO UPDATE for ``advance`` (the same on SQLite and PostgreSQL)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Cursor).values(plugin=advance.plugin, key=advance.key, value=advance.value, updated_at=now)
    return statement.on_conflict_do_update(
        index_elements=[Cursor.plugin, Cursor.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )


async def write_cursor(session: AsyncSession, advance: CursorAdvance, now: datetime) -> None:
    await session.execute(cursor_upsert(session.bind.dialect.name, advance, now))


class CursorStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, plugin: str, key: str) -> str | None:
        async with self._db.sessions() as session:
            return await session.scalar(select(Cursor.value).where(Cursor.plugin == plugin, Cursor.key == key))

    async def set(self, advance: CursorAdvance, now: datetime) -> None:
        async with self._db.transaction() as session:
            await write_cursor(session, advance, now)
