"""A desk's own triage models in the database (table ``triage_models``): which one is
live, installing a better one, rolling back. Every replica reads the same rows, so a model
installed by one is picked up by all (:mod:`socialdesk.plugins.triage.learned` looks for a
new live id every ``refresh_seconds``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from socialdesk.core.store.database import Database
from socialdesk.core.store.models import TriageModelRow

LIVE, RETIRED, REJECTED = "live", "retired", "rejected"


@dataclass(frozen=True, slots=True)
class DeskModelInfo:
    id: int
    name: str
    status: str
    created_at: datetime
    corrections: int
    figures: dict[str, Any]


def _info(row: TriageModelRow) -> DeskModelInfo:
    return DeskModelInfo(row.id, row.name, row.status, row.created_at, row.corrections, dict(row.figures or {}))


async def live_id(database: Database) -> int | None:
    async with database.sessions() as session:
        return await session.scalar(select(TriageModelRow.id).where(TriageModelRow.status == LIVE)
                                    .order_by(TriageModelRow.id.desc()).limit(1))


async def model_bytes(database: Database, model_id: int) -> bytes | None:
    async with database.sessions() as session:
        return await session.scalar(select(TriageModelRow.data).where(TriageModelRow.id == model_id))


async def history(database: Database, limit: int = 10) -> list[DeskModelInfo]:
    async with database.sessions() as session:
        rows = (await session.scalars(select(TriageModelRow).order_by(TriageModelRow.id.desc()).limit(limit))).all()
        return [_info(r) for r in rows]


async def count(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TriageModelRow)) or 0)


async def store(database: Database, *, name: str, data: bytes, corrections: int, figures: dict[str, Any],
                install: bool, now: datetime) -> int:
    """Write a candidate; when ``install``, it becomes live and the live one is retired, in
    one transaction (there is never a moment with two live models or none)."""
    async with database.transaction() as session:
        if install:
            await session.execute(update(TriageModelRow).where(TriageModelRow.status == LIVE)
                                  .values(status=RETIRED))
        row = TriageModelRow(name=name, status=LIVE if install else REJECTED, created_at=now,
                             corrections=corrections, figures=figures, data=data)
        session.add(row)
        await session.flush()
        return row.id


async def rollback(database: Database) -> tuple[int | None, int | None]:
    """Retire the live model and bring back the newest retired one (``None``: the shipped
    base model). Returns (retired id, now-live id)."""
    async with database.transaction() as session:
        live = await session.scalar(select(TriageModelRow).where(TriageModelRow.status == LIVE)
                                    .order_by(TriageModelRow.id.desc()).limit(1).with_for_update())
        if live is None:
            return None, None
        previous = await session.scalar(select(TriageModelRow).where(TriageModelRow.status == RETIRED,
                                                                     TriageModelRow.id < live.id)
                                        .order_by(TriageModelRow.id.desc()).limit(1))
        live.status = REJECTED
        if previous is not None:
            previous.status = LIVE
        return live.id, previous.id if previous else None
