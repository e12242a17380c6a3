"""Posting an answer as a comment (``POST /api/comment``), and finding it after a lost answer.

Markdown, 10,000 characters at most, checked before any request. Outcomes:

* nothing posted, a retry may work: the rate window is spent (waited out), 429, a
  ``RATELIMIT`` answer ("try again in 3 minutes"), no connection -> ``TransientPlatformError``
* nothing posted, a retry will not help: ``TOO_LONG``, ``DELETED_COMMENT``,
  ``THREAD_LOCKED``, 403, 404 ... -> ``PermanentPlatformError`` with Reddit's message
* a 5xx: Reddit sometimes posts and then fails; our comments are searched first, and
  only if it is not there is the reply retried
* the request left and no answer came -> ``AmbiguousPlatformError``: never re-sent
  automatically; ``find_posted_reply`` looks for our comment under the parent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from asyncpraw.exceptions import RedditAPIException
from asyncpraw.models import Comment, Redditor, Submission
from asyncprawcore.exceptions import (
    Forbidden,
    NotFound,
    RequestException,
    ResponseException,
    ServerError,
    TooManyRequests,
)

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.plugins.reddit.runtime import RedditRuntime
from socialdesk.plugins.reddit.settings import MAX_COMMENT_LENGTH
from socialdesk.plugins.reddit.things import fields

log = logging.getLogger(__name__)
RECONCILE_COMMENTS = 100
_WAIT = re.compile(r"(\d+) (millisecond|second|minute)")

LOST_ANSWER = ("the connection to Reddit broke after the comment was sent, so it may have been posted; it will not be "
               "sent again automatically: the desk looks for it under the parent at start-up, or an agent can check "
               "and resend or discard it")


def length_problems(text: str) -> list[str]:
    if len(text) > MAX_COMMENT_LENGTH:
        return [f"{MAX_COMMENT_LENGTH} characters at most on Reddit, this reply has {len(text)}"]
    if not text.strip():
        return ["Reddit does not accept an empty comment"]
    return []


def _wait_of(message: str | None) -> float | None:
    match = _WAIT.search((message or "").lower())
    if not match:
        return None
    amount = int(match.group(1))
    return {"millisecond": 0.0, "second": float(amount), "minute": amount * 60.0}[match.group(2)]


def _sent(runtime: RedditRuntime, data: dict[str, Any]) -> SentReply:
    name = data.get("name") or f"t1_{data['id']}"
    permalink = data.get("permalink")
    url = f"{runtime.settings.reddit_url}{permalink}" if isinstance(permalink, str) else None
    return SentReply(platform_id=str(name), url=url)


def _parent(runtime: RedditRuntime, target: str) -> Comment | Submission:
    reddit = runtime.connection().reddit
    kind, _, thing_id = target.partition("_")
    return Comment(reddit, id=thing_id) if kind == "t1" else Submission(reddit, id=thing_id)


async def send_reply(runtime: RedditRuntime, request: ReplyRequest) -> SentReply:
    problems = length_problems(request.text)
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    try:
        runtime.connection()
    except DeskError as exc:
        raise PermanentPlatformError(str(exc)) from None
    wait = runtime.budget.wait_seconds()
    if wait > 0:
        raise TransientPlatformError("Reddit's request window is used up; the reply is sent after it resets",
                                     retry_after=wait)
    # Under the customer's latest comment; under the submission itself otherwise.
    target = request.in_reply_to_id or request.conversation_id
    try:
        comment = await _parent(runtime, target).reply(request.text)
    except RedditAPIException as exc:
        for item in exc.items:
            if item.error_type == "RATELIMIT":
                raise TransientPlatformError(f"Reddit: {item.message}", retry_after=_wait_of(item.message),
                                             status=429) from None
        raise PermanentPlatformError("Reddit refused the comment: " + "; ".join(
            f"{item.error_type}: {item.message}" for item in exc.items)) from None
    except TooManyRequests:
        raise TransientPlatformError("Reddit answered 429; the reply is sent after the window resets",
                                     retry_after=runtime.budget.wait_seconds() or None, status=429) from None
    except ServerError as exc:
        return await _after_server_error(runtime, request, exc.response.status)
    except (Forbidden, NotFound) as exc:
        raise PermanentPlatformError(f"Reddit refused the comment ({exc.response.status}): the thread may be "
                                     "deleted, locked or the account banned there") from None
    except ResponseException as exc:
        raise PermanentPlatformError(f"Reddit refused the comment ({exc.response.status})") from None
    except RequestException as exc:
        if isinstance(exc.original_exception, aiohttp.ClientConnectorError):
            raise TransientPlatformError("could not connect to Reddit; nothing was sent") from None
        log.warning("reddit reply answer lost", extra={"reply_id": request.reply_id,
                                                       "error": type(exc.original_exception).__name__})
        raise AmbiguousPlatformError(LOST_ANSWER) from None
    if comment is None:
        raise AmbiguousPlatformError("Reddit accepted the comment but did not say which it is")
    return _sent(runtime, fields(comment))


async def _after_server_error(runtime: RedditRuntime, request: ReplyRequest, status: int) -> SentReply:
    try:
        found = await find_posted_reply(runtime, request)
    except Exception as exc:  # not knowing is not "not posted"
        raise AmbiguousPlatformError(f"Reddit answered {status} and our comments could not be checked "
                                     f"({type(exc).__name__}); it will not be sent again automatically") from None
    if found is not None:
        return found
    raise TransientPlatformError(f"Reddit answered {status}; the comment is not there and will be tried again",
                                 status=status)


async def find_posted_reply(runtime: RedditRuntime, request: ReplyRequest) -> SentReply | None:
    """Our newest comments, looked through for this text under this parent."""
    connection = runtime.connection()
    parent = request.in_reply_to_id or request.conversation_id
    me = Redditor(connection.reddit, name=connection.account)
    async for comment in me.comments.new(limit=RECONCILE_COMMENTS):
        data = fields(comment)
        if data.get("parent_id") == parent and str(data.get("body", "")).strip() == request.text.strip():
            return _sent(runtime, data)
    return None
