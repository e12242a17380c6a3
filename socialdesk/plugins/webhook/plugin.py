"""The webhook platform's hooks: platform ``webhook``, its sources, limits and answers.

Registered as the built-in plugin ``webhook`` (off until ``[plugins.webhook] enabled = true``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from socialdesk.core.extensions import CardField, OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import PlatformError, ReconciledReply, ReplyLimits, ReplyRequest, SentReply
from socialdesk.core.reply_change import ReplyCapabilities, ReplyChanger
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.webhook.callback import deliver
from socialdesk.plugins.webhook.payload import source_of
from socialdesk.plugins.webhook.settings import DEFAULT_REPLY_LENGTH, PLATFORM, PLUGIN_NAME, WebhookSettings
from socialdesk.plugins.webhook.source import WebhookSource

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


def _settings(app: DeskApp) -> WebhookSettings:
    return app.settings(PLUGIN_NAME)


@hookimpl
def socialdesk_settings_model() -> type[WebhookSettings]:
    return WebhookSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_push_sources(app: DeskApp) -> list[WebhookSource]:
    return [WebhookSource(name, source) for name, source in sorted(_settings(app).sources.items())]


@hookimpl
def socialdesk_reply_limits(platform: str, app: DeskApp) -> ReplyLimits | None:
    if platform != PLATFORM:
        return None
    # One platform, several sources: the modal shows the largest; validate_reply checks the ticket's own.
    lengths = [source.max_reply_length for source in _settings(app).sources.values()]
    return ReplyLimits(PLATFORM, max(lengths, default=DEFAULT_REPLY_LENGTH))


@hookimpl
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    if ticket.platform != PLATFORM:
        return None
    source, _ = source_of(ticket.conversation_id)
    configured = _settings(app).sources.get(source)
    if configured is None:
        return [f"the webhook source {source!r} is no longer configured"]
    if configured.callback_url is None:
        return [f"the webhook source {source!r} has no callback_url, so it cannot receive answers"]
    if len(text) > configured.max_reply_length:
        return [f"{configured.max_reply_length} characters at most for {source}, this reply has {len(text)}"]
    return None


@hookimpl
async def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await deliver(_settings(app), request, app.clock().timestamp())


@hookimpl
def socialdesk_reply_changer(platform: str) -> ReplyChanger | None:
    # An answer handed to the sender's callback is theirs: the webhook protocol has no way to
    # take it back or change it, so the card says so on the button.
    return ReplyChanger(ReplyCapabilities(PLATFORM)) if platform == PLATFORM else None


@hookimpl
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    # The receiver keeps the webhook-ids it applied: delivering again under the same id is
    # how to ask "did you get it?" without risking a second answer.
    try:
        sent = await deliver(_settings(app), request, app.clock().timestamp())
    except PlatformError as exc:
        log.warning("webhook reconcile: re-delivery failed", extra={"reply_id": request.reply_id,
                                                                    "error": str(exc)})
        return ReconciledReply(found=False)
    return ReconciledReply(found=True, sent=sent)


@hookimpl
def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    if ticket.platform != PLATFORM:
        return None
    source, _ = source_of(ticket.conversation_id)
    configured = _settings(app).sources.get(source)
    label = (configured.label if configured else None) or source
    return [CardField("Source", label)]


@hookimpl
def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    seen: list[str] = []
    problems: list[str] = []
    sources = socialdesk_push_sources(app)
    if not sources:
        problems.append("no source is configured: add [plugins.webhook.sources.<name>] with secret_env")
    for source in sources:
        problem = source.configuration_problem()
        if problem:
            problems.append(problem)
        callback = source.settings.callback_url or "none (answers cannot be sent)"
        seen.append(f"source {source.source}: receives at {source.path}, answers to {callback}")
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
