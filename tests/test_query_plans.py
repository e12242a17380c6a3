"""The queue, `mine`, history and the active counts are read through indexes, on both
databases: the query plans (EXPLAIN) name the index, and listings cut at their limit
sort nothing.

The table is filled the way a desk that has run for a while looks (most tickets closed,
a tenth active) and ANALYZEd, so PostgreSQL's planner chooses by cost, as in production.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from socialdesk.core.app import DeskApp
from socialdesk.core.store import ticket_queries
from socialdesk.core.store.models import Author, Ticket, is_active

TICKETS = 3000
AUTHORS = 1500


class Explain(Executable, ClauseElement):
    """EXPLAIN of a statement, with its parameters bound as the desk binds them."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(Explain, "postgresql")
def _explain_postgresql(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


async def fill(app: DeskApp, clock: Any) -> None:
    start = clock() - timedelta(days=30)
    authors = [{"id": n + 1, "platform": "x", "external_id": f"a{n}", "handle": f"Fan_{n}", "verified": False,
                "first_seen": start, "last_seen": start} for n in range(AUTHORS)]
    tickets = []
    for n in range(TICKETS):
        active = n % 10 == 0
        at = start + timedelta(minutes=n)
        tickets.append({
            "id": n + 1, "platform": "x" if n % 3 else "discord", "conversation_id": f"c{n}",
            "status": ("open", "waiting", "snoozed")[n % 3] if active else "closed",
            "priority": 1 + n % 4, "category": "general", "tags": [], "priority_reasons": [],
            "spam_suspected": False, "assignee": f"U{n // 10 % 3}" if n // 10 % 2 else None, "author_id": n % AUTHORS + 1,
            "created_at": at, "updated_at": at, "last_message_at": at, "version": 1,
            "closed_at": None if active else at + timedelta(hours=1),
        })
    async with app.database.transaction() as session:
        await session.execute(insert(Author), authors)
        await session.execute(insert(Ticket), tickets)
    async with app.database.transaction() as session:
        await session.execute(text("ANALYZE"))


async def plan(app: DeskApp, statement: Any) -> str:
    async with app.database.sessions() as session:
        rows = (await session.execute(Explain(statement))).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def assert_reads_through(found: str, index: str) -> None:
    assert index in found, found
    # SQLite says "USE TEMP B-TREE FOR ORDER BY" and PostgreSQL shows a Sort node when rows are sorted.
    assert "TEMP B-TREE" not in found and "Sort" not in found, found
    assert "SCAN tickets\n" not in found + "\n" and "Seq Scan on tickets" not in found, found


async def test_the_queue_and_mine_read_the_active_indexes_in_order(app, clock) -> None:
    await fill(app, clock)
    queue = ticket_queries.queue_query(limit=20)
    assert_reads_through(await plan(app, queue), "ix_tickets_active_queue")
    assert_reads_through(await plan(app, ticket_queries.queue_query(priority=1, limit=20)), "ix_tickets_active_queue")
    assert_reads_through(await plan(app, ticket_queries.queue_query(platform="x", limit=20)),
                         "ix_tickets_active_queue")
    assert_reads_through(await plan(app, ticket_queries.queue_query(assignee="U1", limit=20)),
                         "ix_tickets_active_assignee")
    # and the plan answers correctly: most urgent, oldest first, active only
    listed = await app.service.queue(limit=5)
    assert [t.id for t in listed] == [1, 21, 41, 61, 81]
    assert [t.id for t in await app.service.queue(assignee="U1", limit=3)] == [11, 71, 131]


async def test_history_reads_the_handle_and_author_indexes(app, clock) -> None:
    await fill(app, clock)
    found = await plan(app, ticket_queries.history_query("@FAN_7"))
    assert "ix_authors_handle_lower" in found and "ix_tickets_author_created" in found, found
    # Only the handle's own tickets are sorted (one handle may be several authors, one per platform).
    assert "Seq Scan" not in found and "SCAN tickets\n" not in found + "\n", found
    history = await app.service.history_of("@FAN_7")
    assert [s.ticket.id for s in history] == [1508, 8]


async def test_counting_active_tickets_reads_the_partial_index(app, clock) -> None:
    await fill(app, clock)
    active = select(func.count()).select_from(Ticket).where(is_active(Ticket.status))
    found = await plan(app, active)
    assert "Seq Scan" not in found and "SCAN tickets\n" not in found + "\n", found  # never every row
    assert (await app.service.stats(clock())).active == TICKETS // 10
