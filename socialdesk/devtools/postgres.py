"""A throw-away PostgreSQL schema, so that tests and benchmarks can share one database.

Every engine opened with the yielded kwargs sets ``search_path`` to the schema, so the
desk's unqualified table names land there; the schema is dropped (with everything in it)
on exit, whatever happened inside.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url


def raw_dsn(url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy ``postgresql+asyncpg://`` URL (password kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class IsolatedSchema:
    name: str
    dsn: str  # for raw asyncpg connections: pass server_settings=self.server_settings

    @property
    def server_settings(self) -> dict[str, str]:
        return {"search_path": self.name}

    @property
    def engine_kwargs(self) -> dict[str, Any]:
        return {"connect_args": {"server_settings": self.server_settings}}


@asynccontextmanager
async def isolated_schema(url: str, prefix: str = "t") -> AsyncIterator[IsolatedSchema]:
    dsn = raw_dsn(url)
    schema = IsolatedSchema(f"{prefix}_{uuid.uuid4().hex[:12]}", dsn)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema.name}"')
        try:
            yield schema
        finally:
            await admin.execute(f'DROP SCHEMA "{schema.name}" CASCADE')
    finally:
        await admin.close()
