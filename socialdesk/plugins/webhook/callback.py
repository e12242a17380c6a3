"""The agent's answer as a signed POST to the source's callback URL.

Standard Webhooks signing with the source's secret; ``webhook-id`` is ``reply_<reply id>``
on every attempt (also sent as ``Idempotency-Key``), so a receiver that keeps the ids it
has processed (as the spec asks) never applies one answer twice. What the answers mean:

* 2xx: delivered; ``{"id": ..., "url": ...}`` in the body become the reply's platform id and link
* 429 and 5xx, or no connection at all: nothing applied, retried (``Retry-After`` honoured)
* other 4xx: refused, shown on the card
* the request left and no answer came: ambiguous; the reply becomes uncertain and
  ``redeliver`` (reconcile) sends it again under the same id, which the receiver
  answers without applying it twice.
"""

from __future__ import annotations

import json
import logging
import os
import time

import aiohttp

from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.core.push.signatures import SecretFormatError, standard_secret_key, standard_signature
from socialdesk.plugins.webhook.payload import source_of
from socialdesk.plugins.webhook.settings import WebhookSettings, WebhookSourceSettings

log = logging.getLogger(__name__)
EVENT_TYPE = "reply.created"
MAX_ERROR_CHARS = 200


def message_id(request: ReplyRequest) -> str:
    return f"reply_{request.reply_id}"


def _source(settings: WebhookSettings, request: ReplyRequest) -> tuple[str, WebhookSourceSettings]:
    source, _ = source_of(request.conversation_id)
    configured = settings.sources.get(source)
    if configured is None:
        raise PermanentPlatformError(f"the webhook source {source!r} is no longer configured; "
                                     f"add [plugins.webhook.sources.{source}] back to answer it")
    if configured.callback_url is None:
        raise PermanentPlatformError(f"the webhook source {source!r} has no callback_url, so it cannot "
                                     "receive answers; set one or answer on the source itself")
    return source, configured


def _key(source: str, configured: WebhookSourceSettings) -> bytes:
    env = configured.callback_secret_env or configured.secret_env
    value = os.environ.get(env, "")
    if not value:
        raise PermanentPlatformError(f"environment variable {env} (the signing secret of webhook source "
                                     f"{source!r}) is not set; nothing was sent")
    try:
        return standard_secret_key(value)
    except SecretFormatError as exc:
        raise PermanentPlatformError(f"environment variable {env} {exc}; nothing was sent") from None


def reply_body(request: ReplyRequest, now: float) -> bytes:
    _, conversation = source_of(request.conversation_id)
    in_reply_to = source_of(request.in_reply_to_id)[1] if request.in_reply_to_id else None
    document = {"type": EVENT_TYPE,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "data": {"reply_id": message_id(request), "conversation_id": conversation,
                         "in_reply_to_id": in_reply_to, "text": request.text}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


async def deliver(settings: WebhookSettings, request: ReplyRequest, now: float) -> SentReply:
    source, configured = _source(settings, request)
    key = _key(source, configured)
    if len(request.text) > configured.max_reply_length:
        raise PermanentPlatformError(f"{configured.max_reply_length} characters at most for {source}, "
                                     f"this reply has {len(request.text)}")
    body = reply_body(request, now)
    timestamp = int(now)
    headers = {"Content-Type": "application/json", "webhook-id": message_id(request),
               "webhook-timestamp": str(timestamp), "Idempotency-Key": message_id(request),
               "webhook-signature": standard_signature(key, message_id(request), timestamp, body)}
    timeout = aiohttp.ClientTimeout(total=configured.request_timeout_seconds)
    assert configured.callback_url is not None
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.post(configured.callback_url, data=body, headers=headers) as response:
            text = await response.text(errors="replace")
            status = response.status
            retry_after = _retry_after(response)
    except aiohttp.ClientConnectorError as exc:
        raise TransientPlatformError(f"could not connect to {source}'s callback URL ({type(exc).__name__}); "
                                     "nothing was sent") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("webhook answer lost", extra={"reply_id": request.reply_id, "error": type(exc).__name__})
        raise AmbiguousPlatformError(
            f"the connection to {source}'s callback URL broke after the answer was sent; it is not sent again "
            "automatically: at start-up the desk re-delivers it under the same webhook-id, which the receiver "
            "applies once") from None
    if status == 429 or status >= 500:
        raise TransientPlatformError(f"{source}'s callback answered {status}; the answer will be sent again",
                                     retry_after=retry_after, status=status)
    if status >= 300:
        raise PermanentPlatformError(f"{source}'s callback refused the answer: {status} {text[:MAX_ERROR_CHARS]}")
    try:
        answer = json.loads(text) if text.strip() else {}
    except ValueError:
        answer = {}
    platform_id = str(answer.get("id") or message_id(request)) if isinstance(answer, dict) else message_id(request)
    url = answer.get("url") if isinstance(answer, dict) and isinstance(answer.get("url"), str) else None
    return SentReply(platform_id=platform_id[:200], url=url)
