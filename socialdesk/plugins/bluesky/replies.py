"""Posting one reply as an ``app.bsky.feed.post`` record, and what the answers mean for the desk.

The length is checked as Bluesky counts it (graphemes and bytes) before any request.
The reply is placed in the customer's thread with two strong refs (URI + CID): ``parent``
the post answered (the customer's latest), ``root`` that thread's root, read from the
parent's own record. Links and @handles in the text become facets over UTF-8 byte
ranges (atproto's ``detect_facets``; handles are resolved to DIDs, unknown ones stay
plain text), so they are links and mentions on Bluesky, not just text.

Every outcome is sorted by one question, "could it have been posted?":

* nothing was posted, a retry may work: 429 (waits for the reset), 502/503/504 from the
  gateway, no connection, the session or write budget not ready -> ``TransientPlatformError``
* nothing was posted, a retry will not help: 400 (invalid record), 401/403, the post
  answered was deleted -> ``PermanentPlatformError``
* the request left and no answer came back (timeout, dropped connection), or the PDS
  failed while handling it (500) -> ``AmbiguousPlatformError``: the reply becomes
  uncertain and is never sent again automatically; ``reconcile`` looks for it in the thread.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from atproto import models
from atproto_client.exceptions import (
    BadRequestError,
    RateLimitExceededError,
    UnauthorizedError,
)

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.plugins.bluesky.brand import BrandAccount
from socialdesk.plugins.bluesky.connection import BlueskyConnection, LoginDeferred
from socialdesk.plugins.bluesky.errors import API_ERRORS, describe, headers_of, never_sent, status_of
from socialdesk.plugins.bluesky.reply_text import reply_problems
from socialdesk.plugins.bluesky.runtime import BlueskyRuntime

log = logging.getLogger(__name__)

GET_POSTS = "app.bsky.feed.getPosts"
CREATE_RECORD = "com.atproto.repo.createRecord"
POST_COLLECTION = "app.bsky.feed.post"
GATEWAY_STATUSES = {502, 503, 504}  # answered by a proxy in front of the PDS: nothing was written
LOST_ANSWER = ("the connection to Bluesky broke after the reply was sent, so it may have been posted; it will not "
               "be sent again automatically: the desk looks for it in the thread at start-up, or an agent can "
               "check the thread and resend or discard it")


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%H:%M UTC")


async def _account(runtime: BlueskyRuntime) -> tuple[BlueskyConnection, BrandAccount]:
    """The connection and brand, before anything is posted: every failure here posted nothing."""
    try:
        connection = await runtime.connection()
        return connection, await connection.brand()
    except LoginDeferred as exc:
        raise TransientPlatformError(f"not logged in to Bluesky yet; the reply is sent after "
                                     f"{_clock_time(exc.retry_at)}",
                                     retry_after=max(0.0, exc.retry_at - runtime.epoch())) from None
    except DeskError as exc:  # refused credentials, a variable not set: an admin must act
        raise PermanentPlatformError(str(exc)) from None
    except RateLimitExceededError:
        raise TransientPlatformError("Bluesky's login limit is reached; the reply will be sent later",
                                     status=429) from None
    except API_ERRORS as exc:
        raise TransientPlatformError(f"could not log in to Bluesky ({describe(exc)}); nothing was sent") from None


async def _reply_refs(runtime: BlueskyRuntime, connection: BlueskyConnection,
                      target: str) -> models.AppBskyFeedPost.ReplyRef:
    """Strong refs of the post answered and of its thread's root (read from its record)."""
    try:
        answer = await connection.query(GET_POSTS, models.AppBskyFeedGetPosts.Params(uris=[target]))
    except RateLimitExceededError as exc:
        until = runtime.reading.rate_limited(headers_of(exc), runtime.epoch())
        raise TransientPlatformError("Bluesky's rate limit is reached; the reply is sent later",
                                     retry_after=max(0.0, until - runtime.epoch()), status=429) from None
    except LoginDeferred as exc:
        raise TransientPlatformError(f"not logged in to Bluesky; the reply is sent after {_clock_time(exc.retry_at)}",
                                     retry_after=max(0.0, exc.retry_at - runtime.epoch())) from None
    except DeskError as exc:  # the session was rejected and Bluesky refused a new login
        raise PermanentPlatformError(str(exc)) from None
    except API_ERRORS as exc:
        raise TransientPlatformError(f"could not read the post answered ({describe(exc)}); nothing was sent",
                                     status=status_of(exc)) from None
    runtime.reading.observe(answer.headers, runtime.epoch())
    posts = answer.content.get("posts") if isinstance(answer.content, dict) else None
    found = [p for p in posts or () if isinstance(p, dict) and p.get("uri") == target]
    if not found:
        raise PermanentPlatformError("the Bluesky post this reply answers was deleted or is not visible any more; "
                                     "nothing was sent")
    parent = models.ComAtprotoRepoStrongRef.Main(uri=found[0]["uri"], cid=found[0]["cid"])
    root_ref: Any = ((found[0].get("record") or {}).get("reply") or {}).get("root")
    if isinstance(root_ref, dict) and isinstance(root_ref.get("uri"), str) and isinstance(root_ref.get("cid"), str):
        root = models.ComAtprotoRepoStrongRef.Main(uri=root_ref["uri"], cid=root_ref["cid"])
    else:
        root = parent  # the post answered starts its thread
    return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)


async def send_reply(runtime: BlueskyRuntime, request: ReplyRequest) -> SentReply:
    problems = reply_problems(request.text)
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    connection, brand = await _account(runtime)
    budget = runtime.writing
    wait = budget.wait_seconds(runtime.epoch())
    if wait > 0:
        raise TransientPlatformError(
            f"Bluesky's posting budget is used up until {_clock_time(budget.not_before)}; the reply is sent then",
            retry_after=wait)
    # A reply goes under the customer's latest post; the thread's first post otherwise.
    reply_ref = await _reply_refs(runtime, connection, request.in_reply_to_id or request.conversation_id)
    try:
        facets = await connection.client.detect_facets(request.text)
    except API_ERRORS as exc:
        raise TransientPlatformError(f"could not resolve the handles in the reply ({describe(exc)}); "
                                     "nothing was sent") from None
    record = models.AppBskyFeedPost.Record(text=request.text, created_at=connection.client.get_current_time_iso(),
                                           reply=reply_ref, facets=facets or None)
    data = models.ComAtprotoRepoCreateRecord.Data(repo=brand.did, collection=POST_COLLECTION, record=record)
    try:
        answer = await connection.procedure(CREATE_RECORD, data)
    except RateLimitExceededError as exc:
        until = budget.rate_limited(headers_of(exc), runtime.epoch())
        raise TransientPlatformError(f"Bluesky's posting limit is reached; the reply is sent after "
                                     f"{_clock_time(until)}", retry_after=max(0.0, until - runtime.epoch()),
                                     status=429) from None
    except BadRequestError as exc:
        raise PermanentPlatformError(f"Bluesky refused the reply: {describe(exc)}") from None
    except UnauthorizedError as exc:
        raise PermanentPlatformError(f"Bluesky refused the brand's session ({describe(exc)}); an admin should "
                                     f"check {connection.credentials}") from None
    except LoginDeferred as exc:  # the session was rejected and a new login must wait: nothing was written
        raise TransientPlatformError(f"not logged in to Bluesky; the reply is sent after {_clock_time(exc.retry_at)}",
                                     retry_after=max(0.0, exc.retry_at - runtime.epoch())) from None
    except DeskError as exc:  # the session was rejected and Bluesky refused a new login: nothing was written
        raise PermanentPlatformError(str(exc)) from None
    except API_ERRORS as exc:
        status = status_of(exc)
        if status in GATEWAY_STATUSES:
            budget.failed(runtime.epoch())
            raise TransientPlatformError(f"Bluesky answered {describe(exc)}; the reply will be tried again",
                                         status=status) from None
        if status is not None and status < 500:
            raise PermanentPlatformError(f"Bluesky refused the reply: {describe(exc)}") from None
        if status is None and never_sent(exc):
            raise TransientPlatformError(f"could not connect to Bluesky ({describe(exc)}); nothing was sent") from None
        log.warning("bluesky reply answer lost", extra={"reply_id": request.reply_id, "error": describe(exc)})
        raise AmbiguousPlatformError(LOST_ANSWER if status is None else
                                     f"Bluesky failed while handling the reply ({describe(exc)}), so it may have "
                                     "been posted; it will not be sent again automatically") from None
    budget.observe(answer.headers, runtime.epoch())
    try:
        uri = str(answer.content["uri"])
    except (KeyError, TypeError) as exc:  # a 2xx: posted, but we cannot tell as what
        raise AmbiguousPlatformError(f"Bluesky accepted the reply but its answer could not be read ({exc!r})") from None
    return SentReply(platform_id=uri, url=brand.post_url(uri))
