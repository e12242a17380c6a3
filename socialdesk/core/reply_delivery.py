"""Default plugin: performs ``send_reply`` jobs through the owning platform's hook.

A reply is sent at most once. Before the request leaves, the reply moves from
``pending`` to ``sending`` in its own committed transaction; if the process dies after
that, the next attempt finds ``sending`` and marks the reply ``uncertain`` instead of
sending it again. Only errors that prove nothing was posted put it back to ``pending``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from socialdesk.core.errors import NoPlatformPlugin
from socialdesk.core.extensions import JobPerformer
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.outbox.jobs import JobFailed, JobKind, OutboxJobSnapshot, RetryJob
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change_delivery import change_reply_job
from socialdesk.core.ticket import ReplyStatus

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


async def send_reply_job(job: OutboxJobSnapshot, app: DeskApp) -> None:
    service = app.service
    reply_id = int(job.payload["reply_id"])
    request = await service.begin_sending(reply_id)
    if isinstance(request, str):
        if request == ReplyStatus.SENDING:
            # An earlier attempt started sending and never reported back (crash, lease
            # expiry). It may have been posted: an agent decides, we do not re-send.
            await service.record_uncertain(reply_id, "the desk stopped while this reply was being sent")
        return  # sent, failed, uncertain or discarded already: nothing to do
    try:
        sent = await app.hooks.send_reply(request)
    except TransientPlatformError as exc:
        if job.attempts >= job.max_attempts:
            await service.record_failed(reply_id, f"gave up after {job.attempts} attempts: {exc}")
            raise JobFailed(f"reply {reply_id} not sent after {job.attempts} attempts: {exc}") from None
        await service.release_for_retry(reply_id, str(exc))
        # A platform that names when to come back (a rate limit's reset) is deferring us, not
        # failing: the attempt is given back, so a long queue behind a limit never gives up.
        raise RetryJob(str(exc), exc.retry_after, counts=exc.retry_after is None) from None
    except PermanentPlatformError as exc:
        await service.record_failed(reply_id, str(exc))
        raise JobFailed(f"reply {reply_id} refused by {request.platform}: {exc}") from None
    except AmbiguousPlatformError as exc:
        await service.record_uncertain(reply_id, str(exc))
        raise JobFailed(f"reply {reply_id} may have been posted: {exc}") from None
    except Exception as exc:  # unknown: it may have left, so treat as ambiguous
        log.exception("send_reply raised", extra={"reply_id": reply_id, "platform": request.platform})
        await service.record_uncertain(reply_id, f"unexpected error while sending: {type(exc).__name__}")
        raise JobFailed(f"reply {reply_id} may have been posted: {type(exc).__name__}: {exc}") from None
    if sent is None:
        error = str(NoPlatformPlugin(request.platform))
        await service.record_failed(reply_id, error)
        raise JobFailed(error)
    await service.record_sent(reply_id, sent)


@hookimpl
def socialdesk_outbox_performers() -> Mapping[str, JobPerformer]:
    return {JobKind.SEND_REPLY.value: send_reply_job, JobKind.CHANGE_REPLY.value: change_reply_job}
