"""The Bluesky plugin's hooks: platform ``bluesky``, its settings, limits, replies and poller.

Registered as the built-in plugin ``bluesky`` (off until ``[plugins.bluesky] enabled = true``).
Every hook that concerns one platform answers only for ``bluesky`` and returns ``None``
for the others, as the hook contract asks.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING


from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply, SurveyRequest
from socialdesk.core.reply_change import ReplyChanger
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.bluesky.connection import CredentialsRefused
from socialdesk.plugins.bluesky.cost import poll_cost
from socialdesk.plugins.bluesky.errors import API_ERRORS, describe
from socialdesk.plugins.bluesky.mentions import PLATFORM
from socialdesk.plugins.bluesky.online_check import check_online
from socialdesk.plugins.bluesky.poller import JOB_ID, PollReport
from socialdesk.plugins.bluesky.post_length import grapheme_length
from socialdesk.plugins.bluesky.reconcile import find_posted_reply
from socialdesk.plugins.bluesky import reply_changes
from socialdesk.plugins.bluesky.replies import send_reply
from socialdesk.plugins.bluesky.reply_text import MAX_GRAPHEMES, UNIT, length_problems
from socialdesk.plugins.bluesky.runtime import close_runtime, runtime_for
from socialdesk.plugins.bluesky.settings import PLUGIN_NAME, BlueskySettings
from socialdesk.plugins.bluesky.survey import send_survey

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


@hookimpl
def socialdesk_settings_model() -> type[BlueskySettings]:
    return BlueskySettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_reply_limits(platform: str) -> ReplyLimits | None:
    return ReplyLimits(PLATFORM, MAX_GRAPHEMES, UNIT) if platform == PLATFORM else None


@hookimpl
def socialdesk_reply_length(platform: str, text: str) -> int | None:
    return grapheme_length(text) if platform == PLATFORM else None


@hookimpl
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str) -> list[str] | None:
    return length_problems(text) if ticket.platform == PLATFORM else None


@hookimpl
async def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await send_reply(runtime_for(app), request)


@hookimpl
async def socialdesk_send_survey(request: SurveyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await send_survey(runtime_for(app), request)


@hookimpl
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    return reply_changes.changer(runtime_for(app)) if platform == PLATFORM else None


@hookimpl
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    try:
        found = await find_posted_reply(runtime_for(app), request)
    except (DeskError, *API_ERRORS, LookupError, ValueError, KeyError, TypeError) as exc:
        # Not knowing is not "not posted": the reply stays uncertain for an agent either way,
        # and start-up must not fail because Bluesky is unreachable.
        error = describe(exc) if isinstance(exc, API_ERRORS) else f"{type(exc).__name__}: {exc}"
        log.warning("bluesky reconcile: could not read the thread", extra={"reply_id": request.reply_id,
                                                                           "error": error})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=found) if found else ReconciledReply(found=False)


async def poll_notifications(app: DeskApp) -> PollReport | None:
    """The scheduled job: one poll. Failures are logged; the next run resumes."""
    return await run_logged(log, "bluesky poll", lambda: runtime_for(app).poller.poll())


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    runtime = runtime_for(app)
    # The first poll runs at start-up: a desk that was down catches up at once.
    scheduler.add_job(functools.partial(poll_notifications, app), "interval", seconds=runtime.settings.poll_interval,
                      id=JOB_ID, name="Bluesky: poll notifications", replace_existing=True,
                      next_run_time=datetime.now(timezone.utc))


@hookimpl
async def socialdesk_start_listeners(app: DeskApp) -> None:
    runtime = runtime_for(app)
    connection = await runtime.connection()  # a missing environment variable stops start-up here
    try:
        brand = await connection.brand()
    except CredentialsRefused:
        raise
    except (DeskError, *API_ERRORS) as exc:
        # Bluesky unreachable is not a configuration error: the poller keeps trying.
        error = describe(exc) if isinstance(exc, API_ERRORS) else str(exc)
        log.warning("bluesky: not logged in yet", extra={"error": error})
        brand = None
    settings = runtime.settings
    log.info("bluesky listening", extra={"account": brand.handle if brand else None, "service": settings.service,
                                         "cost": poll_cost(settings.poll_interval).summary()})


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    return await check_online(app, app.settings(PLUGIN_NAME))


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    await close_runtime(app)
