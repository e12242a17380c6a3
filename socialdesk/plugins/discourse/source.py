"""The Discourse webhook endpoint on the push server (``/push/discourse``).

Refused, with nothing written: no ``X-Discourse-Event-Signature`` (400, unsigned), a
signature that is not the HMAC-SHA256 of the raw body with the secret (401), a post or
topic older than ``stale_after_minutes`` (401, stale: Discourse signs no timestamp, so
the object's own time bounds a replay; the backfill owns anything older). The replay key
is ``X-Discourse-Event-Id``. Discourse's own retries carry a new event id; they find the
post stored and store nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.push.signatures import discourse_signature_valid
from socialdesk.core.push.source import Accepted, Delivery, PushRefused, PushSource
from socialdesk.plugins.discourse.posts import NotAPost, parse_post
from socialdesk.plugins.discourse.runtime import runtime_for
from socialdesk.plugins.discourse.selection import wanted
from socialdesk.plugins.discourse.settings import PLATFORM, PLUGIN_NAME, DiscourseSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

MAX_EVENT_ID = 100
EVENTS = ("post_created", "topic_created")


def _created_at(payload: dict[str, Any]) -> datetime | None:
    for kind in ("post", "topic"):
        obj = payload.get(kind)
        if isinstance(obj, dict) and isinstance(obj.get("created_at"), str):
            try:
                return datetime.fromisoformat(obj["created_at"].replace("Z", "+00:00"))
            except ValueError:
                raise PushRefused(400, f"{kind}.created_at must be an ISO 8601 time") from None
    return None


class DiscourseSource(PushSource):
    name = "discourse"
    platform = PLATFORM

    def __init__(self, settings: DiscourseSettings) -> None:
        self.settings = settings

    def _secret(self) -> str:
        return os.environ.get(self.settings.webhook_secret_env, "")

    def configuration_problem(self) -> str | None:
        if not self._secret():
            return (f"environment variable {self.settings.webhook_secret_env} "
                    f"(plugins.{PLUGIN_NAME}.webhook_secret_env) is not set")
        return None

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Delivery:
        secret = self._secret()
        if not secret:
            raise PushRefused(503, "the desk has no webhook secret for Discourse")
        signature = headers.get("X-Discourse-Event-Signature", "")
        if not signature:
            raise PushRefused(400, "unsigned: X-Discourse-Event-Signature is required; set a secret on the webhook")
        if not discourse_signature_valid(secret, body, signature):
            raise PushRefused(401, "the signature does not match")
        event_id = headers.get("X-Discourse-Event-Id", "")
        if not event_id or len(event_id) > MAX_EVENT_ID:
            raise PushRefused(400, "X-Discourse-Event-Id is missing or too long")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise PushRefused(400, "the body is not JSON; set the webhook's content type to application/json") from None
        if not isinstance(payload, dict):
            raise PushRefused(400, "the body must be a JSON object")
        created = _created_at(payload)
        if created is not None and now - created > timedelta(minutes=self.settings.stale_after_minutes):
            raise PushRefused(401, f"stale: the {headers.get('X-Discourse-Event-Type', 'object')} is older than "
                                   f"{self.settings.stale_after_minutes} minutes; the backfill takes it")
        return Delivery(event_id, payload, headers)

    async def accept(self, delivery: Delivery, app: DeskApp) -> Accepted:
        event = delivery.headers.get("X-Discourse-Event", "")
        if event not in EVENTS:
            return Accepted(ignored=1, note=f"event {event[:40] or 'ping'} is not one the desk takes")
        runtime = runtime_for(app)
        try:
            if event == "post_created":
                post = parse_post(delivery.payload.get("post"))
            else:  # topic_created carries no text: its first post does
                topic = delivery.payload.get("topic")
                if not isinstance(topic, dict) or not isinstance(topic.get("id"), int):
                    raise NotAPost("topic.id must be an integer")
                answer = await runtime.client().get(f"/t/{topic['id']}.json")
                first = (answer.get("post_stream") or {}).get("posts") or []
                if not first:
                    return Accepted(ignored=1, note="the topic has no visible first post")
                post = parse_post({**first[0], "topic_id": topic["id"], "category_id": answer.get("category_id"),
                                   "topic_slug": answer.get("slug"), "topic_archetype": answer.get("archetype")})
        except NotAPost as exc:
            raise PushRefused(400, str(exc)) from None
        mentions = await wanted(runtime, [post])
        if not mentions:
            return Accepted(ignored=1, note="the post matches no configured category, tag or group")
        (result,) = await app.service.ingest_many(mentions)
        stored = result.outcome is not IngestOutcome.DUPLICATE
        return Accepted(stored=int(stored), ignored=int(not stored))
