"""One webhook source on the push server: Standard Webhooks signature, freshness, ingest.

Refused, with nothing written: no or malformed ``webhook-*`` headers (400), a signature
that does not match (401), a timestamp outside ``tolerance_seconds`` of the desk's clock
(401, as the reference libraries do). The ``webhook-id`` is the replay key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from socialdesk.core.push.signatures import SecretFormatError, standard_secret_key, standard_signature_valid
from socialdesk.core.push.source import Accepted, Delivery, PushRefused, PushSource
from socialdesk.core.ingest import IngestOutcome
from socialdesk.plugins.webhook.payload import parse_body, to_mention
from socialdesk.plugins.webhook.settings import PLATFORM, WebhookSourceSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

MAX_ID_HEADER = 200


class WebhookSource(PushSource):
    platform = PLATFORM

    def __init__(self, source: str, settings: WebhookSourceSettings) -> None:
        self.source = source
        self.name = f"webhook/{source}"
        self.settings = settings

    def _key(self) -> bytes | None:
        value = os.environ.get(self.settings.secret_env, "")
        if not value:
            return None
        try:
            return standard_secret_key(value)
        except SecretFormatError:
            return None

    def configuration_problem(self) -> str | None:
        env = self.settings.secret_env
        value = os.environ.get(env, "")
        if not value:
            return f"environment variable {env} (plugins.webhook.sources.{self.source}.secret_env) is not set"
        try:
            standard_secret_key(value)
        except SecretFormatError as exc:
            return f"environment variable {env} {exc}; it must look like whsec_<base64>"
        return None

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Delivery:
        key = self._key()
        if key is None:
            raise PushRefused(503, "the desk has no secret for this source")
        message_id = headers.get("webhook-id", "")
        timestamp_text = headers.get("webhook-timestamp", "")
        signature = headers.get("webhook-signature", "")
        if not message_id or not timestamp_text or not signature:
            raise PushRefused(400, "unsigned: webhook-id, webhook-timestamp and webhook-signature are required")
        if len(message_id) > MAX_ID_HEADER:
            raise PushRefused(400, f"webhook-id is longer than {MAX_ID_HEADER} characters")
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            raise PushRefused(400, "webhook-timestamp must be integer Unix seconds") from None
        if not standard_signature_valid(key, message_id, timestamp, body, signature):
            raise PushRefused(401, "the signature does not match")
        # Checked after the signature: only a genuine but old (or replayed) message is called stale.
        if abs(now.timestamp() - timestamp) > self.settings.tolerance_seconds:
            raise PushRefused(401, f"stale: webhook-timestamp is more than {self.settings.tolerance_seconds} "
                                   "seconds from the desk's clock")
        return Delivery(message_id, parse_body(body), headers)

    async def accept(self, delivery: Delivery, app: DeskApp) -> Accepted:
        mention = to_mention(delivery.payload, self.source)
        result = (await app.service.ingest_many([mention]))[0]
        stored = result.outcome is not IngestOutcome.DUPLICATE
        return Accepted(stored=int(stored), ignored=int(not stored))
