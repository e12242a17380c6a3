"""The X plugin's hooks: platform ``x``, its settings, limits, replies and pollers.

Registered as the built-in plugin ``x`` (off until ``[plugins.x] enabled = true``).
Every hook that concerns one platform answers only for ``x`` and returns ``None``
for the others, as the hook contract asks.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import aiohttp
import tweepy

from socialdesk.core.errors import DeskError
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply, SurveyRequest
from socialdesk.core.reply_change import ReplyChanger
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.store.credentials import RefreshRefused
from socialdesk.plugins.x.connection import CredentialsRefused
from socialdesk.plugins.x.token_refresh import RefreshFailed
from socialdesk.plugins.x.cost import poll_cost
from socialdesk.plugins.x.mentions import PLATFORM
from socialdesk.plugins.x.poller import PollReport
from socialdesk.plugins.x.reconcile import find_posted_reply
from socialdesk.plugins.x import reply_changes
from socialdesk.plugins.x.replies import send_reply
from socialdesk.plugins.x.survey import send_survey
from socialdesk.plugins.x.reply_text import UNIT, length_problems
from socialdesk.plugins.x.online_check import check_online
from socialdesk.plugins.x.runtime import close_runtime, runtime_for
from socialdesk.plugins.x.settings import PLUGIN_NAME, XSettings
from socialdesk.plugins.x.weighted_length import MAX_WEIGHTED_LENGTH, weighted_length

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


@hookimpl
def socialdesk_settings_model() -> type[XSettings]:
    return XSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_reply_limits(platform: str) -> ReplyLimits | None:
    return ReplyLimits(PLATFORM, MAX_WEIGHTED_LENGTH, UNIT) if platform == PLATFORM else None


@hookimpl
def socialdesk_reply_length(platform: str, text: str) -> int | None:
    return weighted_length(text) if platform == PLATFORM else None


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
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    try:
        found = await find_posted_reply(runtime_for(app), request)
    except (DeskError, tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        # Not knowing is not "not posted": the reply stays uncertain for an agent either way,
        # and start-up must not fail because X is unreachable.
        log.warning("x reconcile: could not search the conversation",
                    extra={"reply_id": request.reply_id, "error": f"{type(exc).__name__}: {exc}"})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=found) if found else ReconciledReply(found=False)


@hookimpl
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    return reply_changes.changer(runtime_for(app)) if platform == PLATFORM else None


async def poll_timeline(app: DeskApp, job_id: str) -> PollReport | None:
    """The scheduled job: one poll of one timeline. Failures are logged; the next run resumes."""
    return await run_logged(log, "x poll", lambda: runtime_for(app).poller(job_id).poll(), job=job_id)


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    runtime = runtime_for(app)
    for poller in runtime.pollers:
        # The first poll runs at start-up: a desk that was down catches up at once.
        scheduler.add_job(functools.partial(poll_timeline, app, poller.timeline.job_id), "interval",
                          seconds=runtime.settings.poll_interval, id=poller.timeline.job_id,
                          name=f"X: poll {poller.timeline.name}", replace_existing=True,
                          next_run_time=datetime.now(timezone.utc))


@hookimpl
def socialdesk_startup_problems(app: DeskApp) -> list[str]:
    settings: XSettings = app.settings(PLUGIN_NAME)
    problems: list[str] = []
    for key in settings.secret_keys():
        try:
            app.config.secret(getattr(settings, key), f"plugins.{PLUGIN_NAME}.{key}")
        except DeskError as exc:
            problems.append(str(exc))
    return problems


@hookimpl
async def socialdesk_start_listeners(app: DeskApp) -> None:
    runtime = runtime_for(app)
    connection = await runtime.connection()  # a missing environment variable stops start-up here
    try:
        brand = await connection.brand()
    except CredentialsRefused:
        raise
    except (RefreshRefused, RefreshFailed) as exc:
        # Expired OAuth 2.0 credentials stop posting, not the desk: /healthz and the cards say so.
        log.warning("x: posting credentials not usable", extra={"error": str(exc)})
        brand = None
    except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        # X unreachable is not a configuration error: the pollers keep trying.
        log.warning("x: brand account not known yet", extra={"error": f"{type(exc).__name__}: {exc}"})
        brand = None
    settings = runtime.settings
    log.info("x listening", extra={"account": brand.username if brand else None, "api_base": settings.api_base,
                                   "cost": poll_cost(settings.poll_interval, len(runtime.pollers)).summary()})


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    return await check_online(app, app.settings(PLUGIN_NAME))


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    await close_runtime(app)
