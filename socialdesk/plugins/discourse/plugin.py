"""The Discourse plugin's hooks: platform ``discourse``, its webhook source, backfill and replies.

Registered as the built-in plugin ``discourse`` (off until ``[plugins.discourse] enabled = true``).
The webhook endpoint runs on every replica (push server); the backfill only on the leader.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import aiohttp

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply
from socialdesk.core.reply_change import ReplyChanger
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.discourse.api import DiscourseClient, DiscourseRefusal
from socialdesk.plugins.discourse.backfill import BackfillReport, backfill
from socialdesk.plugins.discourse import reply_changes
from socialdesk.plugins.discourse.replies import find_posted_reply, length_problems, send_reply
from socialdesk.plugins.discourse.runtime import close_runtime, runtime_for
from socialdesk.plugins.discourse.settings import PLATFORM, PLUGIN_NAME, DiscourseSettings
from socialdesk.plugins.discourse.source import DiscourseSource

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
BACKFILL_JOB = "discourse.backfill"
NETWORK_ERRORS = (DiscourseRefusal, aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError)


@hookimpl
def socialdesk_settings_model() -> type[DiscourseSettings]:
    return DiscourseSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_push_sources(app: DeskApp) -> list[DiscourseSource]:
    return [DiscourseSource(app.settings(PLUGIN_NAME))]


@hookimpl
def socialdesk_reply_limits(platform: str, app: DeskApp) -> ReplyLimits | None:
    if platform != PLATFORM:
        return None
    return ReplyLimits(PLATFORM, app.settings(PLUGIN_NAME).max_post_length)


@hookimpl
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    return length_problems(text, app.settings(PLUGIN_NAME)) if ticket.platform == PLATFORM else None


@hookimpl
async def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await send_reply(runtime_for(app), request)


@hookimpl
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    return reply_changes.changer(runtime_for(app)) if platform == PLATFORM else None


@hookimpl
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    try:
        found = await find_posted_reply(runtime_for(app), request)
    except (DeskError, *NETWORK_ERRORS) as exc:
        log.warning("discourse reconcile: could not read the topic",
                    extra={"reply_id": request.reply_id, "error": f"{type(exc).__name__}: {exc}"})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=found) if found else ReconciledReply(found=False)


async def run_backfill(app: DeskApp) -> BackfillReport | None:
    """The scheduled job: one backfill. Failures are logged; the next run resumes from the cursor."""
    runtime = runtime_for(app)

    async def one_backfill() -> BackfillReport | None:
        try:
            return await backfill(runtime)
        except DiscourseRefusal as exc:
            if exc.status == 429:
                runtime.backfill_not_before = app.clock().timestamp() + (exc.retry_after or 60.0)
            refused = exc.status in (401, 403)
            metrics_for(app).api_failure(PLUGIN_NAME, "permanent" if refused else "transient",
                                         rate_limited=exc.status == 429)
            log.log(logging.ERROR if refused else logging.WARNING, "discourse backfill refused",
                    extra={"status": exc.status, "error": exc.message})
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics_for(app).api_failure(PLUGIN_NAME, "transient")
            log.warning("discourse backfill: no answer from the forum; the next run resumes from the cursor",
                        extra={"error": type(exc).__name__})
        return None

    return await run_logged(log, "discourse backfill", one_backfill)


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    settings: DiscourseSettings = app.settings(PLUGIN_NAME)
    # The first run is at start-up: a desk that was down catches up at once.
    scheduler.add_job(functools.partial(run_backfill, app), "interval", seconds=settings.backfill_interval,
                      id=BACKFILL_JOB, name="Discourse: backfill latest posts", replace_existing=True,
                      next_run_time=datetime.now(timezone.utc))


@hookimpl
def socialdesk_start_listeners(app: DeskApp) -> None:
    runtime_for(app).client()  # a missing environment variable stops start-up here, naming it


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    await close_runtime(app)


async def _length_mismatches(client: DiscourseClient, settings: DiscourseSettings, seen: list[str]) -> list[str]:
    """The site's post length settings against ours (readable with an admin's key only)."""
    try:
        answer = await client.get("/admin/site_settings.json", params={"filter": "post_length"})
    except DiscourseRefusal:
        seen.append("the site's max_post_length could not be read (not an admin key): make sure "
                    f"plugins.discourse.max_post_length ({settings.max_post_length}) matches it")
        return []
    site = {s.get("setting"): s.get("value") for s in answer.get("site_settings") or [] if isinstance(s, dict)}
    problems = []
    for key, ours in (("max_post_length", settings.max_post_length), ("min_post_length", settings.min_post_length)):
        theirs = site.get(key)
        if theirs is not None and str(theirs) != str(ours):
            problems.append(f"the forum's {key} is {theirs}, plugins.discourse.{key} is {ours}: set it to {theirs}")
    return problems


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    settings: DiscourseSettings = app.settings(PLUGIN_NAME)
    seen: list[str] = []
    problems: list[str] = []
    source_problem = DiscourseSource(settings).configuration_problem()
    if source_problem:
        problems.append(f"{source_problem}: webhooks would be refused; set it to the webhook's secret")
    try:
        client = runtime_for(app).client()
        site = await client.get("/site/basic-info.json")
        seen.append(f"forum {site.get('title', '?')!s} at {settings.base_url}")
        user = (await client.get(f"/u/{client.api_username}.json")).get("user") or {}
        seen.append(f"posting as @{user.get('username', client.api_username)}")
        problems.extend(await _length_mismatches(client, settings, seen))
    except DeskError as exc:
        problems.append(str(exc))
    except DiscourseRefusal as exc:
        problems.append(f"Discourse refused the API key or username ({exc.status} {exc.message}); create an API "
                        "key for that user (Admin > API) with write access to posts")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        problems.append(f"Discourse at {settings.base_url} could not be reached ({type(exc).__name__})")
    finally:
        await close_runtime(app)
    seen.append(f"webhook endpoint /push/discourse (events post_created, topic_created); "
                f"replies up to {settings.max_post_length} characters")
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
