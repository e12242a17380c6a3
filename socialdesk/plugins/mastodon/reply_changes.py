"""Correcting a reply the brand posted on Mastodon: edit in place (``PUT /api/v1/statuses/:id``,
Mastodon 3.5+) or delete (``DELETE /api/v1/statuses/:id``).

An edit keeps the status addressed to the customer, as the reply was (the mention of the
account it answered is put back in front when the agent's text lacks it) and is checked
against the instance's limit before any request. A status already gone counts as deleted.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from mastodon import MastodonAPIError, MastodonNetworkError, MastodonRatelimitError

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS, describe, never_left, status_of
from socialdesk.plugins.mastodon.html_text import html_to_text
from socialdesk.plugins.mastodon.mentions import PLATFORM
from socialdesk.plugins.mastodon.reply_text import addressed, length_problems
from socialdesk.plugins.mastodon.runtime import MastodonRuntime

CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=True, can_delete=True)
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.@-]+\s+)+")


def _failed(exc: BaseException, doing: str) -> Exception:
    """What a failed call proves, as for sending: nothing done, refused, or unknown."""
    if isinstance(exc, MastodonRatelimitError):
        return TransientPlatformError(f"Mastodon's rate limit is reached while {doing}; tried again later", status=429)
    if isinstance(exc, DeskError):
        return PermanentPlatformError(str(exc))
    if isinstance(exc, MastodonNetworkError):
        if never_left(exc):
            return TransientPlatformError(f"could not connect to Mastodon ({describe(exc)}) while {doing}")
        return AmbiguousPlatformError(f"no answer from Mastodon while {doing}; the desk looks before trying again")
    if isinstance(exc, MastodonAPIError):
        status = status_of(exc) or 0
        if status >= 500:
            return TransientPlatformError(f"Mastodon answered {describe(exc)} while {doing}", status=status)
        return PermanentPlatformError(f"Mastodon refused {doing}: {describe(exc)}")
    return AmbiguousPlatformError(f"unexpected answer from Mastodon while {doing} ({type(exc).__name__})")


async def _current(runtime: MastodonRuntime, status_id: str) -> dict[str, Any] | None:
    connection = await runtime.connection()
    try:
        return dict(await connection.call(connection.client.status, status_id))
    except MastodonAPIError as exc:
        if status_of(exc) in (404, 410):
            return None
        raise


async def edit_reply(runtime: MastodonRuntime, request: ReplyChangeRequest) -> bool:
    doing = "editing the reply"
    try:
        connection = await runtime.connection()
        brand = await connection.brand()
        current = await _current(runtime, request.platform_id)
    except (DeskError, *CALL_ERRORS) as exc:
        raise _failed(exc, "reading the reply before editing it") from None
    if current is None:
        raise PermanentPlatformError("the reply is no longer on Mastodon (deleted), so it cannot be edited")
    answered = str(current.get("in_reply_to_account_id") or "")
    acct = next((str(m.get("acct")) for m in current.get("mentions") or () if str(m.get("id")) == answered), None)
    text = addressed(request.text or "", acct, brand.acct)
    problems = length_problems(text, await runtime.max_characters())
    if problems:
        raise PermanentPlatformError("; ".join(problems))
    try:
        await connection.call(connection.client.status_update, request.platform_id, text,
                              spoiler_text=current.get("spoiler_text") or None)
    except (DeskError, *CALL_ERRORS) as exc:
        raise _failed(exc, doing) from None
    return True


async def delete_reply(runtime: MastodonRuntime, request: ReplyChangeRequest) -> bool:
    try:
        connection = await runtime.connection()
        await connection.call(connection.client.status_delete, request.platform_id)
    except MastodonAPIError as exc:
        if status_of(exc) in (404, 410):
            return True  # already gone
        raise _failed(exc, "deleting the reply") from None
    except (DeskError, *CALL_ERRORS) as exc:
        raise _failed(exc, "deleting the reply") from None
    return True


async def post_state(runtime: MastodonRuntime, request: ReplyChangeRequest) -> PostState:
    current = await _current(runtime, request.platform_id)
    if current is None:
        return PostState(exists=False)
    text = _LEADING_MENTIONS.sub("", html_to_text(str(current.get("content") or "")).strip())
    return PostState(exists=True, text=text)


def changer(runtime: MastodonRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        edit=partial(edit_reply, runtime), delete=partial(delete_reply, runtime))
