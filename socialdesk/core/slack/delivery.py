"""Outbox performers for everything the desk posts in Slack: cards, card updates, thread
messages and notices. They run in the outbox workers, never in a request handler.

Pacing: each post reserves a slot in the channel's bucket (:mod:`.pacing`); a short wait
is slept in place, a longer one (or a 429's Retry-After) sends the job back to the
outbox without using up an attempt. A more urgent job takes the slot a less urgent one
is sleeping for, and a job steps aside when a more urgent Slack job is due, so a P1 card
is never stuck behind a queue (or a worker's batch) of P4 cards; the outbox's urgent
workers take P1 jobs while the other workers are busy pacing.

A card is never posted twice: before posting, the ticket records the channel (no ts
yet); if the answer is lost, the next attempt looks in the channel's history for a
message carrying the card's metadata before posting again. Thread messages check the
thread the same way when they are retried.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from socialdesk.core.errors import DeskError, TicketNotFound
from socialdesk.core.incidents.links import INCIDENT_KINDS
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.outbox.jobs import JobFailed, JobKind, JobStatus, OutboxJobSnapshot, RetryJob
from socialdesk.core.outbox.runner import ensure_lease
from socialdesk.core.slack.attachment_blocks import (
    has_images,
    images_refused,
    media_blocks,
    remember_refused_images,
)
from socialdesk.core.slack.card import CARD_EVENT_TYPE, CardMessage, build_card, reveal_block
from socialdesk.core.slack.masking import masked_details, masked_message
from socialdesk.core.slack.pacing import retry_after
from socialdesk.core.slack.incident_thread import incident_thread
from socialdesk.core.slack.routing import channel_for, oncall_for
from socialdesk.core.slack.runtime import SlackRuntime, runtime_for
from socialdesk.core.store.media_queries import media_of
from socialdesk.core.slack.thread import THREAD_EVENT_TYPE, notice, thread_message
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.triage import HIGHEST_PRIORITY

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

NOTICE_KIND = "slack_notice"  # payload: ticket_id, text (mrkdwn built by the desk)
SLACK_KINDS = (JobKind.POST_CARD.value, JobKind.UPDATE_CARD.value, JobKind.POST_TO_CARD_THREAD.value, NOTICE_KIND,
               *INCIDENT_KINDS)
# Slack's answers that no retry will change: the job fails visibly with the reason.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "account_inactive",
    "token_revoked", "no_permission", "missing_scope", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
    "restricted_action", "message_not_found", "cant_update_message", "invalid_metadata_format",
})
# Answers meaning "this workspace cannot search history for us": post without looking.
CANNOT_SEARCH = frozenset({"unknown_method", "missing_scope", "not_allowed_token_type", "method_deprecated"})
HISTORY_SLACK_SECONDS = 120  # clock skew allowance when searching history from a ticket's creation
MAX_HISTORY_PAGES = 10


def post_key(channel: str) -> str:
    return f"chat.postMessage:{channel}"


# --- sending, paced -------------------------------------------------------------------------


async def _take_slot(rt: SlackRuntime, app: DeskApp, job: OutboxJobSnapshot, key: str, *, paced: bool) -> None:
    """Wait for a slot on ``key`` here, or send the job back to the outbox for later.

    A job first steps aside when a more urgent Slack job is due: the worker may hold a
    whole batch of low-priority jobs, and Slack's slots should go to the urgent one.
    """
    if job.priority > HIGHEST_PRIORITY and await app.service.more_urgent_due(SLACK_KINDS, job.priority):
        raise RetryJob("stepping aside for a more urgent Slack job", 0.0, counts=False)
    # Waits in place; a more urgent job arriving meanwhile takes this slot and this one queues again.
    slot = await rt.pacer.acquire(key, priority=job.priority, max_wait=rt.settings.rate.max_inline_wait_seconds,
                                  paced=paced)
    if not slot.granted:
        raise RetryJob(f"waiting {slot.wait:.1f}s for Slack's rate limit ({key})", slot.wait, counts=False)


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")


def unanswered(rt: SlackRuntime, what: str, exc: BaseException) -> RetryJob:
    """No answer (timeout, dropped connection): it may still be processed, so look again
    only after a slow request would surely have landed. Counted as an ambiguous failure."""
    metrics_for(rt.app).api_failure("slack", "ambiguous")
    wait = 2 * rt.settings.request_timeout_seconds
    return RetryJob(f"no answer from Slack to {what} ({type(exc).__name__}); checking again in {wait:.0f}s", wait)


def unreachable(rt: SlackRuntime, what: str) -> RetryJob:
    """Never connected: nothing reached Slack, so retry as usual. Counted as transient."""
    metrics_for(rt.app).api_failure("slack", "transient")
    return RetryJob(f"cannot reach Slack to {what}")


async def _call(rt: SlackRuntime, key: str, what: str, method: str, **kwargs: Any) -> dict[str, Any]:
    """One Web API call for a job; Slack's answers become RetryJob / JobFailed."""
    try:
        answer = await getattr(rt.delivery_client, method)(**kwargs)
    except aiohttp.ClientConnectorError:
        raise unreachable(rt, what) from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise unanswered(rt, what, exc) from None
    except SlackApiError as exc:
        raise answered_with_error(rt, key, what, exc) from None
    return dict(answer.data) if isinstance(answer.data, dict) else {}


def answered_with_error(rt: SlackRuntime, key: str, what: str, exc: SlackApiError) -> RetryJob | JobFailed:
    """Slack answered with an error, so nothing was posted: wait out a rate limit (without
    spending an attempt), fail on errors a retry cannot fix, retry the rest."""
    metrics = metrics_for(rt.app)
    wait = retry_after(exc)
    if wait is not None:
        metrics.api_failure("slack", "transient", rate_limited=True)
        rt.pacer.blocked(key, wait)
        return RetryJob(f"Slack rate limit on {key}: retry after {wait:.0f}s", wait, counts=False)
    error = _slack_error(exc)
    if error in PERMANENT_ERRORS:
        metrics.api_failure("slack", "permanent")
        return JobFailed(f"Slack refused to {what}: {error}")
    metrics.api_failure("slack", "transient")
    return RetryJob(f"Slack could not {what}: {error}")


# --- what the desk shows -------------------------------------------------------------------


async def render_card(app: DeskApp, rt: SlackRuntime, ticket_id: int) -> CardMessage:
    details = await app.service.ticket_details(ticket_id)
    shown, revealable = await masked_details(app, details)  # personal data never reaches the channel
    opening = details.opening
    media = (await media_of(app.database, [opening.id])).get(opening.id, []) if opening is not None else []
    return build_card(shown, fields=await app.hooks.card_fields(details.ticket), now=app.clock(),
                      preview_chars=rt.settings.message_preview_chars,
                      oncall_group=oncall_for(details.ticket, app.config.desk, rt.settings),
                      revealable=revealable, reply_capabilities=app.hooks.reply_capabilities(details.ticket.platform),
                      media_blocks=media_blocks(media, app.clock(),
                                                images=not images_refused(app, f"card:{ticket_id}")))


async def _ticket(app: DeskApp, job: OutboxJobSnapshot) -> TicketSnapshot:
    try:
        return await app.service.get_ticket(int(job.payload["ticket_id"]))
    except TicketNotFound as exc:
        raise JobFailed(str(exc)) from None


async def _wait_for_card(app: DeskApp, rt: SlackRuntime, ticket: TicketSnapshot, what: str) -> bool:
    """Whether the card this job needs can appear later: False when no card will ever be
    posted; raises RetryJob while its post is on the way; JobFailed if it failed."""
    state = await app.service.latest_job(ticket.id, JobKind.POST_CARD)
    if state is None:
        return False  # the ticket came before Slack was enabled: it has no card
    if state.status == JobStatus.FAILED:
        raise JobFailed(f"cannot {what}: the card of {ticket.ref} was never posted")
    delay = max(1.0, (state.not_before - app.clock()).total_seconds() + 0.5, rt.settings.rate.max_inline_wait_seconds)
    raise RetryJob(f"waiting for the card of {ticket.ref} to be posted", delay, counts=False)


# --- performers -------------------------------------------------------------------------------


async def post_card(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    ticket = await _ticket(app, job)
    if ticket.card_ts:
        return  # posted by an earlier attempt that did not get to finish the job
    if ticket.card_channel:
        # An earlier attempt may have posted it and lost the answer: look before posting.
        found = await _find_card(rt, ticket)
        if found:
            await app.service.set_card(ticket.id, ticket.card_channel, found)
            log.info("card found after an uncertain post", extra={"ticket": ticket.id})
            return
        # Not there: post it afresh (in the same channel), without looking again next time.
        channel = ticket.card_channel
        await app.service.abandon_card_post(ticket.id)
    else:
        try:
            channel = channel_for(ticket, app.config.desk)
        except DeskError as exc:
            raise JobFailed(str(exc)) from None
    key = post_key(channel)
    await _take_slot(rt, app, job, key, paced=True)
    card = await render_card(app, rt, ticket.id)  # rendered now: the latest state goes out
    ensure_lease(f"post the card of {ticket.ref}")  # fenced off if another worker took the job over
    await app.service.begin_card_post(ticket.id, channel)
    try:
        answer = await rt.delivery_client.chat_postMessage(
            channel=channel, text=card.text, blocks=card.blocks, metadata=card.metadata,
            unfurl_links=False, unfurl_media=False)
    except SlackApiError as exc:
        # Slack answered, so nothing was posted: no need to search for it next time.
        await app.service.abandon_card_post(ticket.id)
        if _slack_error(exc) == "invalid_blocks" and has_images(card.blocks):
            raise _without_images(app, f"card:{ticket.id}", f"the card of {ticket.ref}") from None
        raise answered_with_error(rt, key, f"post the card of {ticket.ref} in {channel}", exc) from None
    except aiohttp.ClientConnectorError:
        await app.service.abandon_card_post(ticket.id)  # never connected: nothing left
        raise unreachable(rt, f"post the card of {ticket.ref}") from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        # It may have been posted: the mark stays, and the next attempt looks first.
        raise unanswered(rt, f"post the card of {ticket.ref}", exc) from None
    await app.service.set_card(ticket.id, channel, str(answer["ts"]))


async def _find_card(rt: SlackRuntime, ticket: TicketSnapshot) -> str | None:
    """The ts of this ticket's card in its channel, if an earlier attempt posted it."""
    assert ticket.card_channel is not None
    oldest = (ticket.created_at - timedelta(seconds=HISTORY_SLACK_SECONDS)).timestamp()
    return await find_posted(rt, ticket.card_channel, oldest, CARD_EVENT_TYPE, "ticket_id", ticket.id,
                             f"the card of {ticket.ref}")


async def find_posted(rt: SlackRuntime, channel: str, oldest: float, event_type: str, key: str, value: int,
                      what: str) -> str | None:
    """The ts of the message in ``channel`` (since ``oldest``) whose metadata is
    ``event_type`` with ``key`` = ``value``: a card an earlier attempt posted without
    hearing back. None if there is none, or if the desk may not search the channel (then
    it posts, and the card may show twice); any other error retries the job."""
    cursor: str | None = None
    for _ in range(MAX_HISTORY_PAGES):
        try:
            answer = await rt.delivery_client.conversations_history(
                channel=channel, oldest=f"{oldest:.6f}", limit=200, include_all_metadata=True, cursor=cursor)
        except SlackApiError as exc:
            error = _slack_error(exc)
            if error in CANNOT_SEARCH:
                log.warning("cannot search the channel for an earlier post; posting it (it may show twice)",
                            extra={"what": what, "channel": channel, "error": error})
                return None
            wait = retry_after(exc)
            raise RetryJob(f"could not search {channel} for {what}: {error}", wait, counts=wait is None) from None
        for message in answer.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type and (metadata.get("event_payload") or {}).get(key) == value:
                return str(message["ts"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not answer.get("has_more") or not cursor:
            return None
    return None


async def update_card(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    await app.attention.quiet()  # agents waiting on answers first; the card shows the state after them
    # The post job is read before the ticket: a post taken after this read renders a
    # state at least as new as the change that queued this update.
    post_state = await app.service.latest_job(int(job.payload["ticket_id"]), JobKind.POST_CARD)
    ticket = await _ticket(app, job)
    if not ticket.card_ts:
        if post_state is None or post_state.status == JobStatus.PENDING:
            return  # no card at all, or its post has not rendered yet and will show the latest
        await _wait_for_card(app, rt, ticket, "update the card")
        return
    assert ticket.card_channel is not None
    await _take_slot(rt, app, job, "chat.update", paced=False)
    card = await render_card(app, rt, ticket.id)
    try:
        await _call(rt, "chat.update", f"update the card of {ticket.ref}", "chat_update",
                    channel=ticket.card_channel, ts=ticket.card_ts, text=card.text, blocks=card.blocks,
                    metadata=card.metadata)
    except JobFailed as failed:
        if "invalid_blocks" in str(failed) and has_images(card.blocks):
            raise _without_images(app, f"card:{ticket.id}", f"the card of {ticket.ref}") from None
        raise


async def _post_in_thread(app: DeskApp, rt: SlackRuntime, job: OutboxJobSnapshot, ticket: TicketSnapshot,
                          message: CardMessage, what: str, *, to_incident: bool = False) -> None:
    """``to_incident``: a ticket without a card of its own (a storm's) posts under its incident card."""
    if not ticket.card_ts:
        if not await _wait_for_card(app, rt, ticket, what):
            target = await incident_thread(app, rt, ticket, what) if to_incident else None
            if target is None:
                return
            ticket = dataclasses.replace(ticket, card_channel=target[0], card_ts=target[1])
    assert ticket.card_channel is not None and ticket.card_ts is not None
    key = post_key(ticket.card_channel)
    if job.attempts > 1 and await _already_in_thread(rt, key, ticket, message):
        return
    await _take_slot(rt, app, job, key, paced=True)
    ensure_lease(what)
    await _call(rt, key, what, "chat_postMessage", channel=ticket.card_channel, thread_ts=ticket.card_ts,
                text=message.text, blocks=message.blocks, metadata=message.metadata,
                unfurl_links=False, unfurl_media=False)


async def _already_in_thread(rt: SlackRuntime, key: str, ticket: TicketSnapshot, message: CardMessage) -> bool:
    """A retried thread post: did an earlier attempt post it? (matched by metadata, or text)"""
    answer = await _call(rt, "conversations.replies", f"read the thread of {ticket.ref}", "conversations_replies",
                         channel=ticket.card_channel, ts=ticket.card_ts, limit=1000, include_all_metadata=True)
    wanted = message.metadata.get("event_payload")
    for posted in (answer.get("messages") or [])[1:]:
        if not posted.get("bot_id"):
            continue
        metadata = posted.get("metadata") or {}
        if metadata.get("event_type") == THREAD_EVENT_TYPE and metadata.get("event_payload") == wanted:
            return True
        if posted.get("text") == message.text:
            return True
    return False


async def post_to_card_thread(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    ticket = await _ticket(app, job)
    stored = await app.service.get_message(int(job.payload["message_id"]))
    if stored is None:
        raise JobFailed(f"message {job.payload['message_id']} of {ticket.ref} does not exist")
    author = await app.service.get_author(stored.author_id) if stored.author_id else None
    shown, revealable = await masked_message(app, stored)  # personal data never reaches the thread
    message = thread_message(shown, author)
    attached = media_blocks((await media_of(app.database, [stored.id])).get(stored.id, []), app.clock(),
                            images=not images_refused(app, f"message:{stored.id}"))
    if attached:
        message = CardMessage(message.text, [*message.blocks, *attached], message.metadata)
    if revealable:
        message = CardMessage(message.text, [*message.blocks, reveal_block(stored.id)], message.metadata)
    # Replies sent to a storm's tickets are counted on the incident card, not posted one by one.
    try:
        await _post_in_thread(app, rt, job, ticket, message,
                              f"post a {stored.direction} message in the thread of {ticket.ref}",
                              to_incident=stored.direction != "outbound")
    except JobFailed as failed:
        if "invalid_blocks" in str(failed) and has_images(message.blocks):
            raise _without_images(app, f"message:{stored.id}", f"a message in the thread of {ticket.ref}") \
                from None
        raise


def _without_images(app: DeskApp, key: str, what: str) -> RetryJob:
    """Slack could not download an image: send it again at once, its attachments listed instead."""
    remember_refused_images(app, key)
    log.warning("slack could not download an image; sending with attachments listed", extra={"message": key})
    return RetryJob(f"Slack could not download an image of {what}; it is sent with the images listed", 0.0,
                    counts=False)


async def post_notice(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    ticket = await _ticket(app, job)
    await _post_in_thread(app, rt, job, ticket, notice(ticket.id, job.id, str(job.payload["text"])),
                          f"post a notice in the thread of {ticket.ref}")


PERFORMERS = {
    JobKind.POST_CARD.value: post_card,
    JobKind.UPDATE_CARD.value: update_card,
    JobKind.POST_TO_CARD_THREAD.value: post_to_card_thread,
    NOTICE_KIND: post_notice,
}
