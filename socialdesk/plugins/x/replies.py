"""Posting one reply with POST /2/tweets, and what X's answers mean for the desk.

The length is checked with X's weighted counting before any request. Then every
outcome is sorted by one question, "could it have been posted?":

* nothing was posted, a retry may work: 429 (waits for X's reset), 5xx, no connection
  -> ``TransientPlatformError``
* nothing was posted, a retry will not help: 400 (invalid, too long), 401, 403 (post
  deleted, not visible, duplicate text), 404 -> ``PermanentPlatformError``
* the request left and no answer came back (timeout, connection dropped) ->
  ``AmbiguousPlatformError``: the reply becomes uncertain and is never sent again
  automatically; ``reconcile`` looks for it on X.

X refuses a text the account posted recently ("duplicate content"). That refusal can
be the trace of this very reply, posted by an attempt whose answer was lost, so the
conversation is searched before it counts as a failure.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import aiohttp
import tweepy
import tweepy.asynchronous

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.plugins.x.api_response import describe, headers_of, read_answer, status_of
from socialdesk.plugins.x.brand import BrandAccount
from socialdesk.plugins.x.connection import XConnection
from socialdesk.plugins.x.http import NOT_SENT
from socialdesk.plugins.x.reconcile import find_posted_reply
from socialdesk.plugins.x.reply_text import reply_problems
from socialdesk.plugins.x.runtime import POSTING, XRuntime
from socialdesk.plugins.x.token_refresh import RefreshFailed

log = logging.getLogger(__name__)

LOST_ANSWER = ("the connection to X broke after the reply was sent, so it may have been posted; it will not be "
               "sent again automatically: the desk looks for it on X at start-up, or an agent can check the "
               "conversation and resend or discard it")


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%H:%M UTC")


async def _account(runtime: XRuntime) -> tuple[XConnection, BrandAccount]:
    """The connection and brand, before anything is posted: every failure here posted nothing."""
    try:
        connection = await runtime.connection()
        return connection, await connection.brand()
    except RefreshFailed as exc:
        raise TransientPlatformError(str(exc)) from None
    except DeskError as exc:  # refused credentials, a variable not set: an admin must act
        raise PermanentPlatformError(str(exc)) from None
    except tweepy.HTTPException as exc:  # 429, 5xx on GET /2/users/me (401/403 are CredentialsRefused)
        raise TransientPlatformError(f"X answered {describe(exc)} while identifying the brand account") from None
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        raise TransientPlatformError(f"X could not be reached ({type(exc).__name__}); nothing was sent") from None


async def _poster(connection: XConnection) -> tweepy.asynchronous.AsyncClient:
    """The posting client with a current token; a refused refresh shows on the card."""
    try:
        return await connection.fresh_poster()
    except RefreshFailed as exc:
        raise TransientPlatformError(str(exc)) from None
    except DeskError as exc:  # RefreshRefused: an admin must authorise again
        raise PermanentPlatformError(str(exc)) from None


async def send_reply(runtime: XRuntime, request: ReplyRequest) -> SentReply:
    problems = reply_problems(request.text)
    if problems:
        raise PermanentPlatformError("; ".join(problems))  # the same check refused it earlier, normally
    connection, brand = await _account(runtime)
    budget = runtime.budgets[POSTING]
    wait = budget.wait_seconds(runtime.epoch())
    if wait > 0:
        raise TransientPlatformError(
            f"X's posting limit is used up until {_clock_time(budget.not_before)}; the reply is sent then",
            retry_after=wait)
    # A reply goes under the customer's latest post; the conversation's first post otherwise.
    target = request.in_reply_to_id or request.conversation_id
    poster = await _poster(connection)
    try:
        response = await poster.create_tweet(text=request.text, in_reply_to_tweet_id=target,
                                                        user_auth=connection.posting_user_auth)
    except tweepy.TooManyRequests as exc:
        until = budget.rate_limited(headers_of(exc), runtime.epoch())
        raise TransientPlatformError(f"X's posting limit is reached; the reply is sent after {_clock_time(until)}",
                                     retry_after=max(0.0, until - runtime.epoch()), status=429) from None
    except tweepy.TwitterServerError as exc:
        raise TransientPlatformError(f"X answered {describe(exc)}; the reply will be tried again",
                                     status=status_of(exc)) from None
    except tweepy.Forbidden as exc:
        budget.observe(headers_of(exc), runtime.epoch())
        if any("duplicate content" in message.lower() for message in exc.api_messages):
            return await _after_duplicate_refusal(runtime, request, exc)
        raise PermanentPlatformError(f"X refused the reply: {describe(exc)}") from None
    except tweepy.Unauthorized as exc:
        if connection.posting_token is not None:
            # Refused before its time (revoked, clock skew): nothing was posted; renew and retry.
            await connection.posting_token.refused()
            raise TransientPlatformError(f"X refused the access token ({describe(exc)}); it is renewed and the "
                                         "reply tried again", status=401) from None
        raise PermanentPlatformError(
            f"X refused the posting credentials ({describe(exc)}); an admin should check "
            f"{connection.posting_credentials}") from None
    except tweepy.HTTPException as exc:
        budget.observe(headers_of(exc), runtime.epoch())
        raise PermanentPlatformError(f"X refused the reply: {describe(exc)}") from None
    except aiohttp.ClientResponseError as exc:
        # An error answer that is not X's JSON (a proxy's page): its status still says
        # whether X processed anything.
        if exc.status == 429 or exc.status >= 500:
            raise TransientPlatformError(f"the X API answered {exc.status} ({exc.message})", status=exc.status) from None
        raise PermanentPlatformError(f"the X API answered {exc.status} ({exc.message})") from None
    except NOT_SENT as exc:
        raise TransientPlatformError(f"could not connect to X ({type(exc).__name__}); nothing was sent") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("x reply answer lost", extra={"reply_id": request.reply_id, "error": type(exc).__name__})
        raise AmbiguousPlatformError(LOST_ANSWER) from None
    try:
        answer = await read_answer(response)
        post_id = str(answer.data["id"])
    except (ValueError, KeyError, TypeError) as exc:  # X said 2xx: it was posted, we cannot tell as what
        raise AmbiguousPlatformError(f"X accepted the reply but its answer could not be read ({exc})") from None
    budget.observe(answer.headers, runtime.epoch())
    return SentReply(platform_id=post_id, url=brand.post_url(post_id))


async def _after_duplicate_refusal(runtime: XRuntime, request: ReplyRequest,
                                   refusal: tweepy.Forbidden) -> SentReply:
    try:
        earlier = await find_posted_reply(runtime, request)
    except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise AmbiguousPlatformError(
            "X says this text was posted already, maybe by an earlier attempt of this reply, and the "
            f"conversation could not be checked ({type(exc).__name__}); it will not be sent again automatically"
        ) from None
    if earlier is not None:
        log.info("x reply found after a duplicate refusal", extra={"reply_id": request.reply_id,
                                                                   "post_id": earlier.platform_id})
        return earlier
    raise PermanentPlatformError(
        f"X refused the reply: {describe(refusal)} X does not accept the same text twice from one account "
        "within a while; change the wording")
