"""Correcting an answer the desk posted on Discourse: edit in place (``PUT /posts/{id}.json``)
or delete (``DELETE /posts/{id}.json``).

The edit is checked against the site's post length first and says why it was made (an
``edit_reason`` readers see in the post's history). A post already gone (404) counts as
deleted. After a lost answer the desk reads the post (``GET /posts/{id}.json``) before
acting again.
"""

from __future__ import annotations

from functools import partial

import aiohttp

from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.discourse.api import DiscourseRefusal
from socialdesk.plugins.discourse.replies import _client, length_problems
from socialdesk.plugins.discourse.runtime import DiscourseRuntime
from socialdesk.plugins.discourse.settings import PLATFORM

CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=True, can_delete=True)
EDIT_REASON = "corrected by the support team"


def _post_path(request: ReplyChangeRequest) -> str:
    if not request.platform_id.isdigit():
        raise PermanentPlatformError(f"not a Discourse post id: {request.platform_id!r}")
    return f"/posts/{request.platform_id}.json"


def _failed(exc: BaseException, doing: str) -> Exception:
    if isinstance(exc, DiscourseRefusal):
        if exc.transient:
            return TransientPlatformError(f"Discourse answered {exc.status} ({exc.message}) while {doing}",
                                          retry_after=exc.retry_after, status=exc.status)
        return PermanentPlatformError(f"Discourse refused {doing}: {exc.status} {exc.message}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransientPlatformError(f"could not connect to Discourse ({type(exc).__name__}) while {doing}")
    return AmbiguousPlatformError(f"no answer from Discourse while {doing} ({type(exc).__name__}); the desk looks "
                                  "before trying again")


async def edit_reply(runtime: DiscourseRuntime, request: ReplyChangeRequest) -> bool:
    problems = length_problems(request.text or "", runtime.settings)
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    path = _post_path(request)
    try:
        await _client(runtime).request("PUT", path, body={"post": {"raw": request.text, "edit_reason": EDIT_REASON}})
    except DiscourseRefusal as exc:
        if exc.status == 404:
            raise PermanentPlatformError("the answer is no longer on Discourse (deleted), so it cannot be edited") \
                from None
        raise _failed(exc, "editing the answer") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _failed(exc, "editing the answer") from None
    return True


async def delete_reply(runtime: DiscourseRuntime, request: ReplyChangeRequest) -> bool:
    path = _post_path(request)
    try:
        await _client(runtime).request("DELETE", path)
    except DiscourseRefusal as exc:
        if exc.status == 404:
            return True  # already gone
        raise _failed(exc, "deleting the answer") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _failed(exc, "deleting the answer") from None
    return True


async def post_state(runtime: DiscourseRuntime, request: ReplyChangeRequest) -> PostState:
    try:
        post = await _client(runtime).get(_post_path(request))
    except DiscourseRefusal as exc:
        if exc.status == 404:
            return PostState(exists=False)
        raise
    return PostState(exists=True, text=str(post.get("raw") or ""))


def changer(runtime: DiscourseRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        edit=partial(edit_reply, runtime), delete=partial(delete_reply, runtime))
