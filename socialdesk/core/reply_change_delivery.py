"""Performs ``change_reply`` jobs: an agent's edit or delete of a sent reply, exactly once.

The change is marked ``performing`` before the platform request leaves. What the platform
answers decides what follows:

* done -> recorded (the reply is ``edited``/``deleted``; an X "edit" queues the new reply);
* nothing happened and a retry may work (429, 5xx before processing) -> back to pending,
  retried with backoff;
* refused (forbidden, invalid) -> failed, shown on the card, the reply as it was;
* no answer (timeout, broken connection), or the desk stopped meanwhile -> the next attempt
  first asks the platform how the post is now (the platform's ``ReplyChanger.post_state``): a post
  already gone, or already holding the new text, is recorded as done without acting again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from socialdesk.core.errors import NoPlatformPlugin
from socialdesk.core.outbox.jobs import JobFailed, OutboxJobSnapshot, RetryJob
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import ChangeKind, PostState, ReplyChangeRequest
from socialdesk.core.reply_corrections import ReplyCorrections

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


def _already_done(request: ReplyChangeRequest, state: PostState, repost: bool) -> bool:
    """Does the post already show the outcome an earlier attempt was after?"""
    if request.kind == ChangeKind.DELETE or repost:
        return not state.exists
    return state.exists and (state.text or "").strip() == (request.text or "").strip()


async def change_reply_job(job: OutboxJobSnapshot, app: DeskApp) -> None:
    corrections = ReplyCorrections(app)
    change_id = int(job.payload["change_id"])
    begun = await corrections.begin(change_id)
    if begun is None:
        return  # done or failed already
    request, first_attempt = begun
    capabilities = app.hooks.reply_capabilities(request.platform)
    repost = request.kind == ChangeKind.EDIT and not capabilities.can_edit
    if not first_attempt:
        # An earlier attempt may have reached the platform: look before acting again.
        try:
            state = await app.hooks.reply_post_state(request)
        except Exception as exc:
            raise RetryJob(f"could not look at the reply on {request.platform} ({type(exc).__name__}) before "
                           "changing it again") from None
        if state is not None and _already_done(request, state, repost):
            log.info("reply change found done by an earlier attempt", extra={"change_id": change_id})
            await corrections.finish(change_id, repost=repost)
            return
    try:
        if request.kind == ChangeKind.EDIT and not repost:
            done = await app.hooks.edit_reply(request)
        else:
            done = await app.hooks.delete_reply(request)
    except TransientPlatformError as exc:
        if job.attempts >= job.max_attempts:
            await corrections.fail(change_id, f"gave up after {job.attempts} attempts: {exc}")
            raise JobFailed(f"reply change {change_id} not done after {job.attempts} attempts: {exc}") from None
        await corrections.release(change_id, str(exc))
        raise RetryJob(str(exc), exc.retry_after, counts=exc.retry_after is None) from None
    except PermanentPlatformError as exc:
        await corrections.fail(change_id, str(exc))
        raise JobFailed(f"reply change {change_id} refused by {request.platform}: {exc}") from None
    except Exception as exc:  # ambiguous or unknown: it may have happened; the next attempt looks first
        message = str(exc) if isinstance(exc, AmbiguousPlatformError) else f"unexpected error: {type(exc).__name__}"
        if not isinstance(exc, AmbiguousPlatformError):
            log.exception("reply change raised", extra={"change_id": change_id, "platform": request.platform})
        if job.attempts >= job.max_attempts:
            await corrections.fail(change_id, f"could not be confirmed after {job.attempts} attempts: {message}")
            raise JobFailed(f"reply change {change_id} not confirmed: {message}") from None
        raise RetryJob(message) from None
    if done is None:
        error = str(NoPlatformPlugin(request.platform))
        await corrections.fail(change_id, error)
        raise JobFailed(error)
    await corrections.finish(change_id, repost=repost)
