"""The Reddit plugin's hooks: platform ``reddit``, its streams, limits and replies.

Registered as the built-in plugin ``reddit`` (off until ``[plugins.reddit] enabled = true``).
Polling runs on the leader only.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from asyncprawcore.exceptions import AsyncPrawcoreException, OAuthException, ResponseException, TooManyRequests

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply
from socialdesk.core.reply_change import ReplyChanger
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.reddit import reply_changes
from socialdesk.plugins.reddit.replies import find_posted_reply, length_problems, send_reply
from socialdesk.plugins.reddit.runtime import close_runtime, runtime_for
from socialdesk.plugins.reddit.settings import MAX_COMMENT_LENGTH, PLATFORM, PLUGIN_NAME, RedditSettings
from socialdesk.plugins.reddit.streams import PollReport, poll, streams_for

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


@hookimpl
def socialdesk_settings_model() -> type[RedditSettings]:
    return RedditSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_reply_limits(platform: str) -> ReplyLimits | None:
    return ReplyLimits(PLATFORM, MAX_COMMENT_LENGTH) if platform == PLATFORM else None


@hookimpl
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str) -> list[str] | None:
    return length_problems(text) if ticket.platform == PLATFORM else None


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
    except (DeskError, AsyncPrawcoreException, ValueError, KeyError) as exc:
        log.warning("reddit reconcile: could not read our comments",
                    extra={"reply_id": request.reply_id, "error": f"{type(exc).__name__}: {exc}"})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=found) if found else ReconciledReply(found=False)


async def poll_stream(app: DeskApp, name: str) -> PollReport | None:
    """The scheduled job: one poll of one stream. Failures are logged and Reddit's are
    counted on /metrics; the next run resumes from the stream's cursor."""
    runtime = runtime_for(app)
    stream = next(s for s in streams_for(runtime.settings) if s.name == name)

    async def one_poll() -> PollReport | None:
        try:
            return await poll(runtime, stream)
        except AsyncPrawcoreException as exc:
            refused = isinstance(exc, OAuthException) or (
                isinstance(exc, ResponseException) and exc.response.status in (401, 403))
            metrics_for(app).api_failure(PLUGIN_NAME, "permanent" if refused else "transient",
                                         rate_limited=isinstance(exc, TooManyRequests))
            log.log(logging.ERROR if refused else logging.WARNING,
                    "reddit poll failed; the next poll resumes from the cursor",
                    extra={"stream": name, "error": type(exc).__name__})
            return None

    return await run_logged(log, "reddit poll", one_poll, stream=name)


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    settings: RedditSettings = app.settings(PLUGIN_NAME)
    for stream in streams_for(settings):
        scheduler.add_job(functools.partial(poll_stream, app, stream.name), "interval", seconds=settings.poll_interval,
                          id=stream.job_id, name=f"Reddit: poll {stream.name}", replace_existing=True,
                          next_run_time=datetime.now(timezone.utc))


@hookimpl
def socialdesk_start_listeners(app: DeskApp) -> None:
    runtime_for(app).connection()  # a missing environment variable stops start-up here, naming it


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    await close_runtime(app)


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    settings: RedditSettings = app.settings(PLUGIN_NAME)
    seen: list[str] = []
    problems: list[str] = []
    try:
        connection = runtime_for(app).connection()
        me = await connection.reddit.user.me()
        seen.append(f"account u/{me.name if me else connection.account} via {settings.oauth_url}")
        seen.append(f"User-Agent: {settings.user_agent(connection.account)}")
        seen.extend(f"streams: {', '.join(s.name for s in streams_for(settings))}".splitlines())
        if settings.subreddits:
            seen.append(f"subreddits r/{', r/'.join(settings.subreddits)} for {', '.join(settings.keywords)}")
    except DeskError as exc:
        problems.append(str(exc))
    except OAuthException as exc:
        problems.append(f"Reddit refused the app's credentials ({exc}); check the client id and secret of a "
                        "'script' app at https://www.reddit.com/prefs/apps and the account's password")
    except ResponseException as exc:
        problems.append(f"Reddit answered {exc.response.status}; check the credentials and scopes (identity, read, "
                        "submit, privatemessages)")
    except AsyncPrawcoreException as exc:
        problems.append(f"Reddit could not be reached at {settings.oauth_url} ({type(exc).__name__})")
    finally:
        await close_runtime(app)
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
