"""Built-in plugin ``csat`` (off by default): a one-question survey after an agent closes a ticket.

* Creation: the CLOSED event (prompt) and the ``csat.follow_up`` sweep (robust: events are
  not replayed after a crash) both call :meth:`SurveyStore.create`, which writes the survey
  and its ``send_csat`` job (due ``delay`` after the close) in one transaction, at most
  once per ticket. Tickets closed by the desk itself (auto-close), spam, tickets nobody
  answered and platforms not enabled get no survey. A reopen cancels a survey not yet sent.
* Sending: the ``send_csat`` performer asks the owning platform plugin
  (``socialdesk_send_survey``); ``sending`` is committed first, so a survey is sent at
  most once; anything ambiguous ends ``failed``, visible in the outbox, never re-sent.
* Answers: a mention whose text is a score (see :mod:`.csat_answer`), from the surveyed
  customer, in a conversation with a sent survey, is filed closed by triage
  (``auto_close="survey answer"``, tag ``csat``: no new card) and recorded on the survey
  by the CREATED/MESSAGE_ADDED observer (prompt) and by the sweep, which reads every
  stored inbound message once (a cursor over message ids).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.core.errors import NoPlatformPlugin
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.extensions import CardField, JobPerformer
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.outbox.jobs import JobFailed, OutboxJobSnapshot, RetryJob
from socialdesk.core.platform import PermanentPlatformError, TransientPlatformError
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.triage import LOWEST_PRIORITY, TriageContribution
from socialdesk.plugins.csat.answer import parse_answer
from socialdesk.plugins.csat.settings import PLUGIN_NAME, CsatSettings
from socialdesk.plugins.csat.store import SEND_CSAT, SurveyStatus, SurveyStore

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.models import Author, Message, Ticket

log = logging.getLogger(__name__)

ANSWER_TAG = "csat"
AUTO_CLOSE_REASON = "survey answer"
FOLLOW_UP_EVERY_SECONDS = 60
SWEEP_BATCH = 500  # per step and run: a backlog is worked off over several runs
CREATE_LOOKBACK = timedelta(days=1)  # the sweep repairs missed closes this far back (at most expire_after)
ANSWER_CURSOR_KEY = "answers"
# Message ids are handed out before their transactions commit (PostgreSQL sequences): the
# answer cursor never passes a message younger than this, so a slow commit is not skipped.
ANSWER_CURSOR_LAG = timedelta(minutes=2)


def store_for(app: DeskApp) -> SurveyStore:
    return SurveyStore(app.database, app.outbox)


def _settings(app: DeskApp) -> CsatSettings:
    return app.settings(PLUGIN_NAME)


def surveyed_platforms(app: DeskApp) -> list[str]:
    """The configured platforms whose plugin is enabled on this desk."""
    return [p for p in _settings(app).platforms if p in app.platforms]


async def _publish(app: DeskApp, events: list[TicketEvent]) -> None:
    for event in events:
        await app.hooks.ticket_event(event)


@hookimpl
def socialdesk_settings_model() -> type[CsatSettings]:
    return CsatSettings


# --- answers -------------------------------------------------------------------------------


@hookimpl
async def socialdesk_triage(mention: Mention, app: DeskApp) -> TriageContribution | None:
    # Parsing first: most mentions are not a bare score and cost no query at all.
    if mention.platform not in _settings(app).platforms or parse_answer(mention.text) is None:
        return None
    survey_id = await store_for(app).awaiting_answer(mention.platform, mention.conversation_id,
                                                     mention.author.external_id, app.clock())
    if survey_id is None:
        return None
    return TriageContribution(auto_close=AUTO_CLOSE_REASON, tags=(ANSWER_TAG,), priority=LOWEST_PRIORITY,
                              reasons=("answer to a satisfaction survey",))


async def capture_answer(app: DeskApp, message: Message, ticket: Ticket, author: Author | None) -> bool:
    """Record ``message`` as the answer to the survey it answers, if it is one."""
    if message.platform not in _settings(app).platforms or author is None:
        return False
    answer = parse_answer(message.text)
    if answer is None:
        return False
    store = store_for(app)
    survey_id = await store.awaiting_answer(message.platform, ticket.conversation_id, author.external_id,
                                            message.received_at)
    if survey_id is None:
        return False
    events = await store.record_answer(survey_id, message.id, answer, app.clock())
    await _publish(app, events)
    return bool(events)


# --- lifecycle -----------------------------------------------------------------------------


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    store = store_for(app)
    if event.kind == EventKind.CLOSED:
        if event.actor != SYSTEM_ACTOR and not event.details.get("automatic"):
            settings = _settings(app)
            if await store.create(event.ticket_id, settings.model_copy(update={"platforms": surveyed_platforms(app)}),
                                  app.clock()):
                log.info("csat survey scheduled", extra={"ticket": event.ticket_id})
    elif event.kind in (EventKind.REOPENED, EventKind.MARKED_SPAM):
        await store.cancel_if_reopened(event.ticket_id)
    elif event.kind in (EventKind.CREATED, EventKind.MESSAGE_ADDED) and "message_id" in event.details:
        found = await store.inbound_message(int(event.details["message_id"]))
        if found is not None and ANSWER_TAG in (found[1].tags or ()):
            await capture_answer(app, *found)


async def follow_up(app: DeskApp) -> dict[str, int]:
    """The sweep: surveys for closes the observer missed, cancellations, answers, expiry."""
    settings, store, now = _settings(app), store_for(app), app.clock()
    report = {"created": 0, "cancelled": 0, "answered": 0, "expired": 0}
    platforms = surveyed_platforms(app)
    if platforms:
        scoped = settings.model_copy(update={"platforms": platforms})
        since = now - min(CREATE_LOOKBACK, settings.expire_after)
        for ticket_id in await store.closes_without_survey(since, platforms, SWEEP_BATCH):
            report["created"] += await store.create(ticket_id, scoped, now)
    for ticket_id in await store.reopened_pending(SWEEP_BATCH):
        report["cancelled"] += await store.cancel_if_reopened(ticket_id)
    report["answered"] = await _answers_since_cursor(app, store)
    report["expired"] = await store.expire_unanswered(now, settings.expire_after)
    if any(report.values()):
        log.info("csat follow-up", extra=report)
    return report


async def _answers_since_cursor(app: DeskApp, store: SurveyStore) -> int:
    now = app.clock()
    raw = await app.cursors.get(PLUGIN_NAME, ANSWER_CURSOR_KEY)
    after = int(raw) if raw else 0
    answered = 0
    settled, advancing = after, True
    for message, ticket, author in await store.inbound_after(after, SWEEP_BATCH):
        answered += await capture_answer(app, message, ticket, author)
        # The cursor stops before the first message too young to be sure of its neighbours.
        advancing = advancing and message.received_at <= now - ANSWER_CURSOR_LAG
        if advancing:
            settled = message.id
    if settled != after:
        await app.cursors.set(CursorAdvance(PLUGIN_NAME, ANSWER_CURSOR_KEY, str(settled)), now)
    return answered


async def follow_up_job(app: DeskApp) -> None:
    await run_logged(log, "csat follow-up", lambda: follow_up(app))


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    scheduler.add_job(follow_up_job, "interval", args=[app], seconds=FOLLOW_UP_EVERY_SECONDS,
                      id="csat.follow_up", name="CSAT: surveys, answers, expiry", replace_existing=True)


# --- sending -------------------------------------------------------------------------------


async def send_csat_job(job: OutboxJobSnapshot, app: DeskApp) -> None:
    store = store_for(app)
    survey_id = int(job.payload["survey_id"])
    request = await store.begin_sending(survey_id, _settings(app), app.clock())
    if isinstance(request, str):
        if request == "interrupted":
            raise JobFailed(f"the survey of #{job.ticket_id} may have been sent before the desk stopped; "
                            "it is not sent again")
        return  # cancelled, expired, already sent: nothing to do
    try:
        sent = await app.hooks.send_survey(request)
    except TransientPlatformError as exc:
        if job.attempts >= job.max_attempts:
            await store.record_failed(survey_id)
            raise JobFailed(f"survey of #{request.ticket_id} not sent after {job.attempts} attempts: {exc}") from None
        await store.release(survey_id)
        raise RetryJob(str(exc), exc.retry_after) from None
    except PermanentPlatformError as exc:
        await store.record_failed(survey_id)
        raise JobFailed(f"survey of #{request.ticket_id} refused by {request.platform}: {exc}") from None
    except Exception as exc:  # ambiguous, or unknown: it may have left; never sent twice
        await store.record_failed(survey_id)
        raise JobFailed(f"survey of #{request.ticket_id} may have been sent: {type(exc).__name__}: {exc}") from None
    if sent is None:
        await store.record_failed(survey_id)
        raise JobFailed(f"{NoPlatformPlugin(request.platform)} (or it sends no surveys)")
    await _publish(app, await store.record_sent(survey_id, sent, app.clock()))


@hookimpl
def socialdesk_outbox_performers() -> Mapping[str, JobPerformer]:
    return {SEND_CSAT: send_csat_job}


# --- the card --------------------------------------------------------------------------------


_SHOWN = {SurveyStatus.PENDING: "survey scheduled", SurveyStatus.SENDING: "survey being sent",
          SurveyStatus.SENT: "survey sent, no answer yet", SurveyStatus.EXPIRED: "survey not answered",
          SurveyStatus.FAILED: "survey could not be sent", SurveyStatus.CANCELLED: "survey cancelled (reopened)"}


@hookimpl
async def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    survey = await store_for(app).survey_of(ticket.id)
    if survey is None:
        return None
    if survey.status == SurveyStatus.ANSWERED and survey.score is not None:
        value = f"{survey.score}/5" + (f" — {survey.comment}" if survey.comment else "")
    else:
        value = _SHOWN.get(SurveyStatus(survey.status), survey.status)
    return [CardField("CSAT", value)]
