"""Correcting a reply the brand posted on X: delete it (DELETE /2/tweets/:id).

X has no edit for API posts, so the platform's capability is "edit by deleting and
reposting": the desk deletes the reply here and sends the new text as a new reply through
the ordinary send path. Errors are sorted as for sending: nothing done (429, 5xx, no
connection), refused (401, 403), or unknown (the answer was lost) — after which the desk
looks the post up (GET /2/tweets/:id) before deleting again. A post already gone counts
as deleted.
"""

from __future__ import annotations

import logging
from functools import partial

import aiohttp
import tweepy

from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.x.api_response import describe, headers_of, read_answer, status_of
from socialdesk.plugins.x.http import NOT_SENT
from socialdesk.plugins.x.mentions import PLATFORM
from socialdesk.plugins.x.replies import _account, _poster
from socialdesk.plugins.x.runtime import POSTING, XRuntime

log = logging.getLogger(__name__)

CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=False, can_delete=True, edit_is_delete_and_repost=True)
LOST_ANSWER = ("the connection to X broke after the delete was sent, so the reply may be deleted already; "
               "the desk looks at X before trying again")


def _post_id(request: ReplyChangeRequest) -> str:
    if not request.platform_id.isdigit():
        raise PermanentPlatformError(f"not an X post id: {request.platform_id!r}")
    return request.platform_id


async def delete_reply(runtime: XRuntime, request: ReplyChangeRequest) -> bool:
    post_id = _post_id(request)
    connection, _ = await _account(runtime)
    budget = runtime.budgets[POSTING]
    poster = await _poster(connection)
    try:
        response = await poster.delete_tweet(post_id, user_auth=connection.posting_user_auth)
    except tweepy.NotFound:
        return True  # already gone
    except tweepy.TooManyRequests as exc:
        until = budget.rate_limited(headers_of(exc), runtime.epoch())
        raise TransientPlatformError("X's limit is reached; the delete is tried again after it resets",
                                     retry_after=max(0.0, until - runtime.epoch()), status=429) from None
    except tweepy.TwitterServerError as exc:
        raise TransientPlatformError(f"X answered {describe(exc)}; the delete will be tried again",
                                     status=status_of(exc)) from None
    except tweepy.Unauthorized as exc:
        if connection.posting_token is not None:
            await connection.posting_token.refused()
            raise TransientPlatformError(f"X refused the access token ({describe(exc)}); it is renewed and the "
                                         "delete tried again", status=401) from None
        raise PermanentPlatformError(f"X refused the posting credentials ({describe(exc)})") from None
    except tweepy.HTTPException as exc:
        raise PermanentPlatformError(f"X refused to delete the reply: {describe(exc)}") from None
    except aiohttp.ClientResponseError as exc:
        if exc.status == 429 or exc.status >= 500:
            raise TransientPlatformError(f"the X API answered {exc.status} ({exc.message})", status=exc.status) from None
        raise PermanentPlatformError(f"the X API answered {exc.status} ({exc.message})") from None
    except NOT_SENT as exc:
        raise TransientPlatformError(f"could not connect to X ({type(exc).__name__}); nothing was deleted") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("x delete answer lost", extra={"change_id": request.change_id, "error": type(exc).__name__})
        raise AmbiguousPlatformError(LOST_ANSWER) from None
    try:
        answer = await read_answer(response)
        budget.observe(answer.headers, runtime.epoch())
    except (ValueError, KeyError, TypeError):
        pass  # X said 2xx: the post is deleted
    return True


async def post_state(runtime: XRuntime, request: ReplyChangeRequest) -> PostState:
    """Raises on API and network errors (the desk then tries again later)."""
    post_id = _post_id(request)
    connection = await runtime.connection()
    response = await connection.reader.get_tweet(post_id, user_auth=False)
    answer = await read_answer(response)
    data = answer.data
    if not isinstance(data, dict):  # X answers 200 with an errors list for a post that is gone
        problems = answer.body.get("errors") or []
        if any("not found" in str(p.get("title", "")).lower() or p.get("resource_id") == post_id for p in problems):
            return PostState(exists=False)
        raise ValueError("X's answer about the post could not be read")
    return PostState(exists=True, text=str(data.get("text") or ""))


def changer(runtime: XRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        delete=partial(delete_reply, runtime))
