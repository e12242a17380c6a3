"""The Mastodon plugin's hooks: platform ``mastodon``, its settings, limits, replies, stream and catch-up.

Registered as the built-in plugin ``mastodon`` (off until ``[plugins.mastodon] enabled =
true``). Every hook that concerns one platform answers only for ``mastodon`` and
returns ``None`` for the others, as the hook contract asks.
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
from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS
from socialdesk.plugins.mastodon.catch_up import PollReport
from socialdesk.plugins.mastodon.connection import CredentialsRefused
from socialdesk.plugins.mastodon.cost import catch_up_cost
from socialdesk.plugins.mastodon.mentions import PLATFORM
from socialdesk.plugins.mastodon.online_check import check_online
from socialdesk.plugins.mastodon.reconcile import find_posted_reply
from socialdesk.plugins.mastodon import reply_changes
from socialdesk.plugins.mastodon.replies import send_reply
from socialdesk.plugins.mastodon.reply_text import HINT_UNIT, addressed, length_problems
from socialdesk.plugins.mastodon.runtime import close_runtime, runtime_for
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME, MastodonSettings
from socialdesk.plugins.mastodon.status_length import DEFAULT_MAX_CHARACTERS
from socialdesk.plugins.mastodon.stored import latest_customer_acct, stored_author_acct
from socialdesk.plugins.mastodon.survey import as_reply

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
CATCH_UP_JOB = "mastodon.catch_up"


@hookimpl
def socialdesk_settings_model() -> type[MastodonSettings]:
    return MastodonSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


async def _limit(app: DeskApp) -> int:
    """The instance's limit; the last one known when the instance cannot be asked (send checks again)."""
    runtime = runtime_for(app)
    try:
        return await runtime.max_characters()
    except (DeskError, *CALL_ERRORS) as exc:
        log.warning("mastodon: instance limit not readable", extra={"error": type(exc).__name__})
        return runtime.known_max_characters()


@hookimpl
def socialdesk_reply_limits(platform: str) -> ReplyLimits | None:
    # The hook knows no desk, so the modal's hint is Mastodon's default limit; the
    # instance's own limit (read from /api/v2/instance) is what validate_reply enforces.
    return ReplyLimits(PLATFORM, DEFAULT_MAX_CHARACTERS, HINT_UNIT) if platform == PLATFORM else None


@hookimpl
async def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    if ticket.platform != PLATFORM:
        return None
    # Counted as it will be posted: with the mention of the customer in front.
    brand_acct = None
    connection = runtime_for(app)
    try:
        brand_acct = (await (await connection.connection()).brand()).acct
    except (DeskError, *CALL_ERRORS):
        pass
    return length_problems(addressed(text, await latest_customer_acct(app, ticket.id), brand_acct), await _limit(app))


@hookimpl
async def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await send_reply(runtime_for(app), request)


@hookimpl
async def socialdesk_send_survey(request: SurveyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await send_reply(runtime_for(app), as_reply(request))


@hookimpl
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    return reply_changes.changer(runtime_for(app)) if platform == PLATFORM else None


@hookimpl
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    runtime = runtime_for(app)
    try:
        brand = await (await runtime.connection()).brand()
        target = request.in_reply_to_id or request.conversation_id
        posted_text = addressed(request.text, await stored_author_acct(app, target), brand.acct)
        found = await find_posted_reply(runtime, request, posted_text)
    except (DeskError, *CALL_ERRORS) as exc:
        # Not knowing is not "not posted": the reply stays uncertain for an agent either way,
        # and start-up must not fail because Mastodon is unreachable.
        log.warning("mastodon reconcile: could not read the thread",
                    extra={"reply_id": request.reply_id, "error": type(exc).__name__})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=found) if found else ReconciledReply(found=False)


async def catch_up(app: DeskApp) -> PollReport | None:
    """The scheduled job: one catch-up. Failures are logged; the next run resumes from the cursor."""
    return await run_logged(log, "mastodon catch-up", lambda: runtime_for(app).catch_up.poll())


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    runtime = runtime_for(app)
    # With the stream, its connection runs the first catch-up; without, the job runs at once.
    first = None if runtime.settings.streaming else datetime.now(timezone.utc)
    scheduler.add_job(functools.partial(catch_up, app), "interval", seconds=runtime.settings.catch_up_interval,
                      id=CATCH_UP_JOB, name="Mastodon: catch up with mentions", replace_existing=True,
                      **({"next_run_time": first} if first else {}))


@hookimpl
async def socialdesk_start_listeners(app: DeskApp) -> None:
    runtime = runtime_for(app)
    connection = await runtime.connection()  # an unset api_base or variable stops start-up here
    try:
        brand = await connection.brand()
        limit = await runtime.max_characters()
    except CredentialsRefused:
        raise
    except CALL_ERRORS as exc:
        # Mastodon unreachable is not a configuration error: the stream and catch-up keep trying.
        log.warning("mastodon: brand account not known yet", extra={"error": type(exc).__name__})
        brand, limit = None, runtime.known_max_characters()
    settings = runtime.settings
    if settings.streaming:
        runtime.stream.start()
    log.info("mastodon listening", extra={"account": brand.acct if brand else None, "api_base": settings.api_base,
                                          "streaming": settings.streaming, "max_characters": limit,
                                          "cost": catch_up_cost(settings.catch_up_interval).summary()})


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    return await check_online(app, app.settings(PLUGIN_NAME))


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    await close_runtime(app)
