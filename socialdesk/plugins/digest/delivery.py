"""The ``post_digest`` performer: render the day's report and chart, upload the PNG to Slack.

slack_sdk's ``files_upload_v2`` does Slack's external upload: files.getUploadURLExternal,
a POST of the bytes to the URL it returns, then files.completeUploadExternal, which shares
the file into the channel with the summary as its message.

Never posted twice: a retried job first looks in the channel's history for a message
carrying our file of that day (``socialdesk-digest-<date>.png``) — an earlier attempt may
have shared it and lost the answer — and stops if it is there. A crash after the upload
but before the share leaves an unshared file that nobody sees; the retry uploads anew.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from socialdesk.core.outbox.jobs import JobFailed, OutboxJobSnapshot, RetryJob
from socialdesk.core.reports.formats import as_slack
from socialdesk.core.reports.report import build_report, daily_series
from socialdesk.core.slack.delivery import CANNOT_SEARCH, answered_with_error, unanswered, unreachable
from socialdesk.core.slack.runtime import SlackRuntime, runtime_for
from socialdesk.core.slack.settings import PLUGIN_NAME as SLACK_PLUGIN
from socialdesk.plugins.digest.chart import render_chart
from socialdesk.plugins.digest.schedule import DigestJob, digest_settings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
HISTORY_SLACK_SECONDS = 120  # clock skew allowance when searching from the job's creation
MAX_HISTORY_PAGES = 10


def file_name(job: DigestJob) -> str:
    return f"socialdesk-digest-{job.day.isoformat()}.png"


async def _already_shared(rt: SlackRuntime, job: DigestJob, since_ts: float) -> bool:
    """Did an earlier attempt share this day's digest in the channel?"""
    cursor: str | None = None
    wanted = file_name(job)
    for _ in range(MAX_HISTORY_PAGES):
        try:
            answer = await rt.delivery_client.conversations_history(
                channel=job.channel, oldest=f"{since_ts:.6f}", limit=200, cursor=cursor)
        except SlackApiError as exc:
            if exc.response.get("error") in CANNOT_SEARCH:
                log.warning("cannot search the channel for an earlier digest; posting it (it may show twice)",
                            extra={"channel": job.channel, "date": job.day.isoformat()})
                return False
            raise answered_with_error(rt, "conversations.history", f"search {job.channel} for the digest",
                                      exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryJob(f"could not search {job.channel} for the digest ({type(exc).__name__})") from None
        for message in answer.get("messages") or []:
            if any(f.get("name") == wanted for f in message.get("files") or []):
                return True
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not answer.get("has_more") or not cursor:
            return False
    return False


async def _agent_names(rt: SlackRuntime, agents: list[str]) -> dict[str, str]:
    # Names, not <@mentions>: a daily message must not notify every agent it lists.
    return {agent: await rt.agent_name(agent) for agent in agents}


async def post_digest(job: OutboxJobSnapshot, app: DeskApp) -> None:
    if SLACK_PLUGIN not in app.config.enabled:
        raise JobFailed(f"the digest is posted in Slack, but the {SLACK_PLUGIN} plugin is not enabled")
    digest = DigestJob.from_payload(job.payload)
    rt = runtime_for(app)
    if job.attempts > 1:
        oldest = (job.created_at - timedelta(seconds=HISTORY_SLACK_SECONDS)).timestamp()
        if await _already_shared(rt, digest, oldest):
            log.info("digest found after an uncertain upload", extra={"date": digest.day.isoformat()})
            return
    tz_name = app.config.desk.timezone
    report = await build_report(app.database, digest.since, digest.until, now=digest.until, tz_name=tz_name)
    days = digest_settings(app).chart_days
    series = await daily_series(app.database, digest.day - timedelta(days=1), days, tz_name)
    title = f"Mentions per day, {series[0].day:%d %b} – {series[-1].day:%d %b} ({tz_name})"
    png = await asyncio.to_thread(render_chart, series, title)
    names = await _agent_names(rt, [a.agent for a in report.agents])
    summary = as_slack(report, f"the digest of {digest.day.isoformat()}", names=names)
    await _upload(rt, digest, png, summary)
    log.info("digest posted", extra={"date": digest.day.isoformat(), "channel": digest.channel, "bytes": len(png)})


async def _upload(rt: SlackRuntime, digest: DigestJob, png: bytes, summary: str) -> None:
    what = f"share the digest of {digest.day.isoformat()} in {digest.channel}"
    try:
        answer: Any = await rt.delivery_client.files_upload_v2(
            channel=digest.channel, file=png, filename=file_name(digest),
            title=f"Desk digest {digest.day.isoformat()}", alt_txt="Mentions per day by platform, and "
            "first-response median and p90 per day", initial_comment=summary)
    except SlackApiError as exc:
        raise answered_with_error(rt, "files.upload", what, exc) from None
    except SlackRequestError as exc:  # the upload URL refused the bytes: nothing was shared
        raise RetryJob(f"could not {what}: {exc}") from None
    except aiohttp.ClientConnectorError:
        raise unreachable(rt, what) from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        # It may have been shared: the next attempt looks in the channel first.
        raise unanswered(rt, what, exc) from None
    if not answer.get("ok", True):
        raise RetryJob(f"Slack could not {what}: {answer.get('error')}")
