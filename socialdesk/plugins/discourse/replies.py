"""Posting an answer with ``POST /posts.json``, and finding it after a lost answer.

The length is checked against the site's ``max_post_length``/``min_post_length`` before
any request. Outcomes, sorted by "could it have been posted?":

* nothing posted, a retry may work: 429 (after Discourse's wait), 5xx, no connection
  -> ``TransientPlatformError``
* nothing posted, a retry will not help: 403, 404, 422 (too long, too short, topic
  closed) -> ``PermanentPlatformError`` with Discourse's own message
* the request left and no answer came -> ``AmbiguousPlatformError``; ``find_posted_reply``
  looks in the topic for a post by our user with this text before anything is sent again.
"""

from __future__ import annotations

import logging

import aiohttp

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.plugins.discourse.api import DiscourseClient, DiscourseRefusal
from socialdesk.plugins.discourse.runtime import DiscourseRuntime
from socialdesk.plugins.discourse.settings import DiscourseSettings

log = logging.getLogger(__name__)
RECONCILE_POSTS = 50  # the newest posts of the topic looked at

LOST_ANSWER = ("the connection to Discourse broke after the answer was sent, so it may have been posted; it will not "
               "be sent again automatically: the desk looks for it in the topic at start-up, or an agent can check "
               "and resend or discard it")


def length_problems(text: str, settings: DiscourseSettings) -> list[str]:
    length = len(text.strip())
    if length > settings.max_post_length:
        return [f"{settings.max_post_length} characters at most on Discourse, this reply has {length}"]
    if length < settings.min_post_length:
        return [f"{settings.min_post_length} characters at least on Discourse, this reply has {length}"]
    return []


def _client(runtime: DiscourseRuntime) -> DiscourseClient:
    try:
        return runtime.client()
    except DeskError as exc:  # a variable not set: an admin must act
        raise PermanentPlatformError(str(exc)) from None


def _refused(exc: DiscourseRefusal, what: str) -> Exception:
    if exc.transient:
        return TransientPlatformError(f"Discourse answered {exc.status} ({exc.message}) {what}; it is tried again",
                                      retry_after=exc.retry_after, status=exc.status)
    return PermanentPlatformError(f"Discourse refused the answer: {exc.status} {exc.message}")


def _sent(post: dict, settings: DiscourseSettings) -> SentReply:
    slug = post.get("topic_slug") or "-"
    return SentReply(platform_id=str(post["id"]),
                     url=f"{settings.base_url}/t/{slug}/{post['topic_id']}/{post['post_number']}")


async def send_reply(runtime: DiscourseRuntime, request: ReplyRequest) -> SentReply:
    problems = length_problems(request.text, runtime.settings)
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    client = _client(runtime)
    body: dict[str, object] = {"topic_id": int(request.conversation_id), "raw": request.text}
    try:
        if request.in_reply_to_id:  # answer under the customer's latest post, not just in the topic
            answered = await client.get(f"/posts/{request.in_reply_to_id}.json")
            body["reply_to_post_number"] = int(answered["post_number"])
    except DiscourseRefusal as exc:
        if not exc.transient and exc.status == 404:
            pass  # the customer's post is gone: answer in the topic
        else:
            raise _refused(exc, "while reading the customer's post") from None
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError, TypeError) as exc:
        raise TransientPlatformError(f"Discourse could not be reached ({type(exc).__name__}); nothing was sent") from None
    try:
        post = await client.post("/posts.json", body)
    except DiscourseRefusal as exc:
        raise _refused(exc, "while posting") from None
    except aiohttp.ClientConnectorError as exc:
        raise TransientPlatformError(f"could not connect to Discourse ({type(exc).__name__}); nothing was sent") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("discourse reply answer lost", extra={"reply_id": request.reply_id, "error": type(exc).__name__})
        raise AmbiguousPlatformError(LOST_ANSWER) from None
    try:
        return _sent(post, runtime.settings)
    except (KeyError, TypeError) as exc:
        raise AmbiguousPlatformError(f"Discourse accepted the answer but its answer could not be read ({exc})") from None


async def find_posted_reply(runtime: DiscourseRuntime, request: ReplyRequest) -> SentReply | None:
    """Our post with this text in the topic, after the customer's post, if there is one."""
    client = runtime.client()
    topic = await client.get(f"/t/{request.conversation_id}.json")
    stream = [i for i in (topic.get("post_stream") or {}).get("stream") or [] if isinstance(i, int)]
    floor = int(request.in_reply_to_id) if request.in_reply_to_id and request.in_reply_to_id.isdigit() else 0
    ours = client.api_username.lower()
    for post_id in reversed([i for i in stream if i > floor][-RECONCILE_POSTS:]):
        post = await client.get(f"/posts/{post_id}.json")
        if str(post.get("username", "")).lower() == ours and str(post.get("raw", "")).strip() == request.text.strip():
            return _sent({**post, "topic_slug": post.get("topic_slug") or topic.get("slug")}, runtime.settings)
    return None
