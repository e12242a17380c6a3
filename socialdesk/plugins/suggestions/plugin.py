"""Built-in plugin ``suggestions`` (on by default): similar past answers in the reply form.

* Indexing: the CLOSED observer (and REPLY_SENT, for an answer that lands after the close)
  writes the vectors of the ticket's sent answers at once; the leader's ``suggestions.catch_up``
  sweep repairs closes whose event was lost (events are not replayed after a crash) and
  deletes the vectors of tickets whose text retention removed.
* Lookup: ``socialdesk_past_answers`` answers the reply form through :mod:`.lookup`; every
  replica reads new vectors from the database first, so all replicas suggest the same.
* Warm-up: each replica reads the index once when its services start, so the first form
  opened does not pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.past_answers import PastAnswer
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.suggestions import store
from socialdesk.plugins.suggestions.index import index_for
from socialdesk.plugins.suggestions.lookup import similar_answers_for
from socialdesk.plugins.suggestions.settings import PLUGIN_NAME, SuggestionsSettings

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

CATCH_UP_EVERY_SECONDS = 300
CATCH_UP_LOOKBACK = timedelta(days=2)
SWEEP_BATCH = 200
_WARM_UPS: weakref.WeakKeyDictionary[DeskApp, asyncio.Task[None]] = weakref.WeakKeyDictionary()


@hookimpl
def socialdesk_settings_model() -> type[SuggestionsSettings]:
    return SuggestionsSettings


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    if event.kind in (EventKind.CLOSED, EventKind.REPLY_SENT):
        written = await store.index_ticket(app.database, event.ticket_id, app.clock())
        if written:
            log.info("past answers indexed", extra={"ticket": event.ticket_id, "answers": written})


async def catch_up(app: DeskApp) -> dict[str, int]:
    """The sweep: index closes the observer missed; forget what retention redacted."""
    report = {"indexed": 0, "forgotten": 0}
    for ticket_id in await store.closed_unindexed(app.database, app.clock() - CATCH_UP_LOOKBACK, SWEEP_BATCH):
        report["indexed"] += await store.index_ticket(app.database, ticket_id, app.clock())
    report["forgotten"] = await store.forget_redacted(app.database, SWEEP_BATCH)
    if any(report.values()):
        log.info("past answers catch-up", extra=report)
    return report


async def catch_up_job(app: DeskApp) -> None:
    await run_logged(log, "past answers catch-up", lambda: catch_up(app))


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    scheduler.add_job(catch_up_job, "interval", args=[app], seconds=CATCH_UP_EVERY_SECONDS,
                      id="suggestions.catch_up", name="Suggestions: index missed closes", replace_existing=True)


async def _warm_up(app: DeskApp) -> None:
    try:
        await index_for(app).catch_up(app.database, app.clock())
    except Exception:  # the first lookup reads it instead
        log.warning("past answers index warm-up failed", exc_info=True)


@hookimpl
def socialdesk_start_services(app: DeskApp) -> None:
    _WARM_UPS[app] = asyncio.get_running_loop().create_task(_warm_up(app), name="suggestions.warm_up")


@hookimpl
async def socialdesk_stop_services(app: DeskApp) -> None:
    task = _WARM_UPS.pop(app, None)
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _log_failure(task: asyncio.Task[list[PastAnswer]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("past answers lookup failed", exc_info=task.exception())


@hookimpl
async def socialdesk_past_answers(ticket: TicketSnapshot, limit: int, app: DeskApp) -> list[PastAnswer]:
    settings: SuggestionsSettings = app.settings(PLUGIN_NAME)
    lookup = asyncio.ensure_future(similar_answers_for(app, ticket, min(limit, settings.count)))
    try:
        # Shielded: past the budget the form opens without suggestions, and the lookup goes
        # on reading the index, so the next form opened finds it ready.
        return await asyncio.wait_for(asyncio.shield(lookup), settings.lookup_budget_seconds)
    except TimeoutError:
        lookup.add_done_callback(_log_failure)
        log.info("past answers took longer than the budget; the form opens without them",
                 extra={"ticket": ticket.id, "budget": settings.lookup_budget_seconds})
        return []
