"""Posting one reply with ``POST /api/v1/statuses``, exactly once.

Before anything is sent: the text (with the customer's mention) is checked against
the instance's limit, and the status answered is read (``GET /api/v1/statuses/:id``)
for its visibility, which the reply keeps or narrows (``visibility``), and its author.

Every post carries an ``Idempotency-Key`` derived from the reply (its id, the status
answered and the text): Mastodon remembers the key for an hour and answers a repeated
request with the status the first one created. So when the answer is lost (timeout,
connection dropped) the same request is sent once more at once, and its answer says
what was posted. Only when that fails too is the reply ambiguous: it becomes
uncertain, is never sent again automatically, and ``reconcile`` looks for it in the
thread. The other outcomes: 429, 5xx, no connection -> ``TransientPlatformError``
(nothing was posted); 4xx -> ``PermanentPlatformError`` (the card shows Mastodon's words).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from typing import Any

from mastodon import MastodonAPIError, MastodonNetworkError, MastodonRatelimitError

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS, describe, never_left, status_of
from socialdesk.plugins.mastodon.connection import MastodonConnection
from socialdesk.plugins.mastodon.reply_text import addressed, length_problems
from socialdesk.plugins.mastodon.runtime import MastodonRuntime
from socialdesk.plugins.mastodon.stored import stored_author_acct
from socialdesk.plugins.mastodon.visibility import reply_visibility

log = logging.getLogger(__name__)

POST_ATTEMPTS = 2  # the second one, with the same key, only learns what the first did
LOST_ANSWER = ("the connection to Mastodon broke twice after the reply was sent, so it may have been posted; it "
               "will not be sent again automatically: the desk looks for it in the thread at start-up, or an agent "
               "can check the thread and resend or discard it")


def idempotency_key(request: ReplyRequest, target: str) -> str:
    digest = hashlib.sha256(f"{request.reply_id}\x00{target}\x00{request.text}".encode()).hexdigest()
    return f"socialdesk-{digest[:40]}"


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%H:%M UTC")


def _transient(exc: BaseException, doing: str) -> TransientPlatformError:
    return TransientPlatformError(f"Mastodon answered {describe(exc)} while {doing}; nothing was sent, the reply "
                                  "will be tried again", status=status_of(exc))


async def prepared_text(runtime: MastodonRuntime, request: ReplyRequest, acct: str | None) -> str:
    """The status to post, or PermanentPlatformError when the instance would refuse its length."""
    connection = await runtime.connection()
    brand = await connection.brand()
    text = addressed(request.text, acct, brand.acct)
    problems = length_problems(text, await runtime.max_characters())
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    return text


async def _connected(runtime: MastodonRuntime) -> MastodonConnection:
    try:
        connection = await runtime.connection()
        await connection.brand()
        await runtime.max_characters()
        return connection
    except DeskError as exc:  # refused token, unset variable: an admin must act
        raise PermanentPlatformError(str(exc)) from None
    except MastodonRatelimitError as exc:
        raise TransientPlatformError("Mastodon's rate limit is reached; the reply is sent after it resets",
                                     retry_after=runtime.budget.wait_seconds(runtime.epoch()), status=429) from exc
    except CALL_ERRORS as exc:
        raise _transient(exc, "identifying the brand account") from None


async def _answered_status(runtime: MastodonRuntime, connection: MastodonConnection, target: str) -> Any:
    try:
        return await connection.call(connection.client.status, target)
    except MastodonRatelimitError:
        raise TransientPlatformError("Mastodon's rate limit is reached; the reply is sent after it resets",
                                     retry_after=runtime.budget.wait_seconds(runtime.epoch()), status=429) from None
    except MastodonAPIError as exc:
        if status_of(exc) in (404, 410):
            raise PermanentPlatformError("the customer's status was deleted or the brand account can no longer "
                                         f"see it (Mastodon answered {describe(exc)}); nothing was sent") from None
        if (status_of(exc) or 0) >= 500:
            raise _transient(exc, "reading the status answered") from None
        raise PermanentPlatformError(f"Mastodon refused to show the status answered: {describe(exc)}") from None
    except CALL_ERRORS as exc:
        raise _transient(exc, "reading the status answered") from None


async def send_reply(runtime: MastodonRuntime, request: ReplyRequest) -> SentReply:
    connection = await _connected(runtime)
    target = request.in_reply_to_id or request.conversation_id
    # Refused before any request when the stored author already makes it too long.
    await prepared_text(runtime, request, await stored_author_acct(runtime.app, target))
    wait = runtime.budget.wait_seconds(runtime.epoch())
    if wait > 0:
        raise TransientPlatformError(f"Mastodon's rate limit is used up until {_clock_time(runtime.budget.not_before)}; "
                                     "the reply is sent then", retry_after=wait)
    answered = await _answered_status(runtime, connection, target)
    acct = str((answered.get("account") or {}).get("acct") or "") or None
    text = await prepared_text(runtime, request, acct)
    visibility = reply_visibility(answered.get("visibility"), runtime.settings.max_visibility)
    key = idempotency_key(request, target)
    for attempt in range(1, POST_ATTEMPTS + 1):
        try:
            posted = await connection.call(connection.client.status_post, text, in_reply_to_id=target,
                                           visibility=visibility, idempotency_key=key)
        except MastodonRatelimitError:
            wait = runtime.budget.wait_seconds(runtime.epoch())
            raise TransientPlatformError(f"Mastodon's rate limit is reached; the reply is sent after "
                                         f"{_clock_time(runtime.epoch() + wait)}", retry_after=wait,
                                         status=429) from None
        except MastodonNetworkError as exc:
            if never_left(exc) and attempt == 1:
                raise TransientPlatformError(f"could not connect to Mastodon ({describe(exc)}); nothing was sent"
                                             ) from None
            log.warning("mastodon reply answer lost", extra={"reply_id": request.reply_id, "attempt": attempt})
            continue  # the same key again: Mastodon answers with what the lost attempt posted, or posts it now
        except MastodonAPIError as exc:
            if (status_of(exc) or 0) >= 500 and attempt == 1:
                raise _transient(exc, "posting the reply") from None
            if (status_of(exc) or 0) >= 500:
                break  # the first attempt may have posted: do not guess
            raise PermanentPlatformError(f"Mastodon refused the reply: {describe(exc)}") from None
        except CALL_ERRORS as exc:  # 2xx with an answer that cannot be read: it was posted
            raise AmbiguousPlatformError(f"Mastodon accepted the reply but its answer could not be read "
                                         f"({type(exc).__name__})") from None
        try:
            return SentReply(platform_id=str(posted["id"]), url=posted.get("url") or posted.get("uri"))
        except (KeyError, TypeError) as exc:
            raise AmbiguousPlatformError(f"Mastodon accepted the reply but its answer could not be read ({exc})"
                                         ) from None
    raise AmbiguousPlatformError(LOST_ANSWER)
