"""Correcting a comment the brand posted on Reddit: delete it (``POST /api/del``).

Reddit answers ``{}`` to a delete whatever happened, and deleting twice is harmless. To
look before repeating a delete whose answer was lost, the desk reads the account's newest
comments (a deleted comment is no longer listed there).
"""

from __future__ import annotations

from functools import partial

import aiohttp
from asyncpraw.models import Comment, Redditor
from asyncprawcore.exceptions import Forbidden, NotFound, RequestException, ResponseException, ServerError, \
    TooManyRequests

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.reddit.replies import RECONCILE_COMMENTS
from socialdesk.plugins.reddit.runtime import RedditRuntime
from socialdesk.plugins.reddit.settings import PLATFORM
from socialdesk.plugins.reddit.things import fields

CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=False, can_delete=True)


def _comment_id(request: ReplyChangeRequest) -> str:
    kind, _, thing_id = request.platform_id.partition("_")
    if kind != "t1" or not thing_id.isalnum():
        raise PermanentPlatformError(f"not a Reddit comment: {request.platform_id!r}")
    return thing_id


async def delete_reply(runtime: RedditRuntime, request: ReplyChangeRequest) -> bool:
    thing_id = _comment_id(request)
    try:
        reddit = runtime.connection().reddit
    except DeskError as exc:
        raise PermanentPlatformError(str(exc)) from None
    wait = runtime.budget.wait_seconds()
    if wait > 0:
        raise TransientPlatformError("Reddit's request window is used up; the delete follows when it resets",
                                     retry_after=wait)
    try:
        await Comment(reddit, id=thing_id).delete()
    except TooManyRequests:
        raise TransientPlatformError("Reddit answered 429; the delete follows when the window resets",
                                     retry_after=runtime.budget.wait_seconds() or None, status=429) from None
    except ServerError as exc:
        raise AmbiguousPlatformError(f"Reddit answered {exc.response.status} to the delete; the desk looks "
                                     "before trying again") from None
    except (Forbidden, NotFound) as exc:
        raise PermanentPlatformError(f"Reddit refused to delete the comment ({exc.response.status})") from None
    except ResponseException as exc:
        raise PermanentPlatformError(f"Reddit refused to delete the comment ({exc.response.status})") from None
    except RequestException as exc:
        if isinstance(exc.original_exception, aiohttp.ClientConnectorError):
            raise TransientPlatformError("could not connect to Reddit; nothing was deleted") from None
        raise AmbiguousPlatformError("the connection to Reddit broke during the delete; the desk looks before "
                                     "trying again") from None
    return True


async def post_state(runtime: RedditRuntime, request: ReplyChangeRequest) -> PostState:
    connection = runtime.connection()
    me = Redditor(connection.reddit, name=connection.account)
    async for comment in me.comments.new(limit=RECONCILE_COMMENTS):
        data = fields(comment)
        if data.get("name") == request.platform_id:
            return PostState(exists=True, text=str(data.get("body") or ""))
    return PostState(exists=False)


def changer(runtime: RedditRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        delete=partial(delete_reply, runtime))
