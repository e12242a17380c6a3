"""Polling cursors (since_id, timestamps) kept per plugin, advanced with the data they cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.database import Database
from socialdesk.core.models import Cursor


@dataclass(frozen=True, slots=True)
class CursorAdvance:
    """Move ``plugin``'s cursor ``key`` to ``value`` in the same transaction as the mentions."""

    plugin: str
    key: str
    value: str


async def write_cursor(session: AsyncSession, advance: CursorAdvance, now: datetime) -> None:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Cursor).values(plugin=advance.plugin, key=advance.key, value=advance.value, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[Cursor.plugin, Cursor.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )
    await session.execute(statement)


class CursorStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, plugin: str, key: str) -> str | None:
        async with self._db.sessions() as session:
            return await session.scalar(select(Cursor.value).where(Cursor.plugin == plugin, Cursor.key == key))

    async def set(self, advance: CursorAdvance, now: datetime) -> None:
        async with self._db.transaction() as session:
            await write_cursor(session, advance, now)
