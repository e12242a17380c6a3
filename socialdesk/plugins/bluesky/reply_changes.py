"""Correcting a reply the brand posted on Bluesky: delete it (``com.atproto.repo.deleteRecord``).

A Bluesky post cannot be edited: its record is content-addressed and others' replies and
quotes point at its CID. So the desk offers Delete only. Deleting a record that is already
gone succeeds on the PDS, so a repeated delete is harmless; the desk still looks
(``app.bsky.feed.getPosts``) before repeating one whose answer was lost.
"""

from __future__ import annotations

from functools import partial

from atproto import models
from atproto_client.exceptions import BadRequestError, RateLimitExceededError, UnauthorizedError

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.bluesky.connection import LoginDeferred
from socialdesk.plugins.bluesky.errors import API_ERRORS, describe, headers_of, never_sent, status_of
from socialdesk.plugins.bluesky.mentions import PLATFORM
from socialdesk.plugins.bluesky.replies import GET_POSTS, POST_COLLECTION, _account
from socialdesk.plugins.bluesky.runtime import BlueskyRuntime

DELETE_RECORD = "com.atproto.repo.deleteRecord"
CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=False, can_delete=True)


def _rkey(request: ReplyChangeRequest, did: str) -> str:
    prefix = f"at://{did}/{POST_COLLECTION}/"
    if not request.platform_id.startswith(prefix):
        raise PermanentPlatformError(f"not a post of the brand account: {request.platform_id!r}")
    return request.platform_id[len(prefix):]


async def delete_reply(runtime: BlueskyRuntime, request: ReplyChangeRequest) -> bool:
    connection, brand = await _account(runtime)
    data = models.ComAtprotoRepoDeleteRecord.Data(repo=brand.did, collection=POST_COLLECTION,
                                                  rkey=_rkey(request, brand.did))
    try:
        answer = await connection.procedure(DELETE_RECORD, data)
    except RateLimitExceededError as exc:
        until = runtime.writing.rate_limited(headers_of(exc), runtime.epoch())
        raise TransientPlatformError("Bluesky's write limit is reached; the delete is tried again later",
                                     retry_after=max(0.0, until - runtime.epoch()), status=429) from None
    except (BadRequestError, UnauthorizedError) as exc:
        raise PermanentPlatformError(f"Bluesky refused to delete the reply: {describe(exc)}") from None
    except LoginDeferred as exc:
        raise TransientPlatformError("not logged in to Bluesky yet; the delete is tried again later",
                                     retry_after=max(0.0, exc.retry_at - runtime.epoch())) from None
    except DeskError as exc:
        raise PermanentPlatformError(str(exc)) from None
    except API_ERRORS as exc:
        status = status_of(exc)
        if status is not None and status < 500:
            raise PermanentPlatformError(f"Bluesky refused to delete the reply: {describe(exc)}") from None
        if status is None and never_sent(exc):
            raise TransientPlatformError(f"could not connect to Bluesky ({describe(exc)}); nothing was deleted") \
                from None
        raise AmbiguousPlatformError(f"no clear answer from Bluesky to the delete ({describe(exc)}); the desk "
                                     "looks at the post before trying again") from None
    runtime.writing.observe(answer.headers, runtime.epoch())
    return True


async def post_state(runtime: BlueskyRuntime, request: ReplyChangeRequest) -> PostState:
    connection = await runtime.connection()
    answer = await connection.query(GET_POSTS, models.AppBskyFeedGetPosts.Params(uris=[request.platform_id]))
    posts = answer.content.get("posts") if isinstance(answer.content, dict) else None
    found = [p for p in posts or () if isinstance(p, dict) and p.get("uri") == request.platform_id]
    if not found:
        return PostState(exists=False)
    return PostState(exists=True, text=str((found[0].get("record") or {}).get("text") or ""))


def changer(runtime: BlueskyRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        delete=partial(delete_reply, runtime))
