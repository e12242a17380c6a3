"""What stops ``socialdesk run`` from starting, asked the same way by ``socialdesk check``.

One list of start-up problems, so that ``check`` refuses exactly what ``run`` refuses and
with the same words: the database (reachable, an existing SQLite file, the schema at this
version's revision) and every plugin's ``socialdesk_startup_problems`` (settings that only
make sense together, environment variables, optional packages). Each problem is one line
naming what to fix; nothing here starts a listener or opens a platform connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from socialdesk.core.errors import DeskError
from socialdesk.core.secrets import redact

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.database import Database


class StartupRefused(DeskError):
    """``socialdesk run`` (or ``check``) found problems; one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def sqlite_file(database: Database) -> Path | None:
    """The file of a SQLite database (``None`` for PostgreSQL, in-memory and URI databases)."""
    if database.dialect != "sqlite":
        return None
    path = make_url(database.url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


async def require_connection(database: Database, *, create: bool = False) -> None:
    """An unreachable database is a setup mistake: one line naming it, not a traceback.

    A missing SQLite file is only created when ``create`` (``socialdesk db upgrade``);
    everywhere else it is reported, so a typo in the path never leaves an empty file behind.
    """
    path = sqlite_file(database)
    if path is not None and not create and not path.exists():
        raise DeskError(f"the database file {path} does not exist: run `socialdesk db upgrade` to create it, "
                        "or fix desk.database_url")
    try:
        if path is not None:
            # Plain sqlite3: after a failed connect, aiosqlite's worker thread can outlive the
            # event loop and print a traceback of its own.
            sqlite3.connect(path).close()
        elif database.dialect != "sqlite":
            async with database.engine.connect():
                pass
    except Exception as exc:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        why = redact(lines[0]) if lines else type(exc).__name__
        raise DeskError(
            f"cannot connect to the database {database.safe_url()}: {why}; check desk.database_url "
            "(or the variable desk.database_url_env names) and that the database is reachable"
        ) from None


async def schema_problem(database: Database) -> str | None:
    from socialdesk.core.store.migrate import current_revision, head_revision

    current, head = await current_revision(database), head_revision()
    if current == head:
        return None
    return (f"the database {database.safe_url()} is at schema revision {current or 'none'}, "
            f"this version needs {head}: run `socialdesk db upgrade`")


async def startup_problems(app: DeskApp) -> list[str]:
    """Everything ``socialdesk run`` would refuse, database first, one line each."""
    problems = list(await app.hooks.startup_problems())
    try:
        await require_connection(app.database)
    except DeskError as exc:
        return [str(exc), *problems]
    schema = await schema_problem(app.database)
    return [schema, *problems] if schema else problems
