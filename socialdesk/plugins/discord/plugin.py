"""The Discord platform plugin (built-in ``discord``, off until ``[plugins.discord] enabled = true``).

The module is registered once per process but may serve several desks (tests, benchmarks):
each desk gets its own :class:`~socialdesk.plugins.discord.runtime.DiscordRuntime`, kept
here for as long as the desk exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import CardField, OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.per_desk import PerDesk
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply, SurveyRequest
from socialdesk.core.reply_change import ReplyChanger
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.discord import card, limits, replies, reply_changes, survey
from socialdesk.plugins.discord.online_check import check_online
from socialdesk.plugins.discord.runtime import DiscordRuntime
from socialdesk.plugins.discord.settings import PLATFORM, PLUGIN_NAME, DiscordSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

runtime_for: PerDesk[DiscordRuntime] = PerDesk(DiscordRuntime)


@hookimpl
def socialdesk_settings_model() -> type[DiscordSettings]:
    return DiscordSettings


@hookimpl
def socialdesk_platform() -> str:
    return PLATFORM


@hookimpl
def socialdesk_startup_problems(app: DeskApp) -> list[str]:
    settings: DiscordSettings = app.settings(PLUGIN_NAME)
    try:
        app.config.secret(settings.token_env, f"plugins.{PLUGIN_NAME}.token_env")
    except DeskError as exc:
        return [str(exc)]
    return []


@hookimpl
async def socialdesk_start_listeners(app: DeskApp) -> None:
    await runtime_for(app).start()


@hookimpl
async def socialdesk_stop_listeners(app: DeskApp) -> None:
    runtime = runtime_for.existing(app)
    if runtime is not None:
        await runtime.stop()


@hookimpl
def socialdesk_reply_limits(platform: str) -> ReplyLimits | None:
    return limits.reply_limits(platform)


@hookimpl
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    return limits.reply_problems(ticket, text, app)


@hookimpl
async def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await replies.send_reply(runtime_for(app), request)


@hookimpl
async def socialdesk_send_survey(request: SurveyRequest, app: DeskApp) -> SentReply | None:
    if request.platform != PLATFORM:
        return None
    return await survey.send_survey(runtime_for(app), request)


@hookimpl
async def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    if request.platform != PLATFORM:
        return None
    return await replies.reconcile_reply(runtime_for(app), request)


@hookimpl
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    return reply_changes.changer(runtime_for(app)) if platform == PLATFORM else None


@hookimpl(optionalhook=True)  # the hook is new in the core; optional keeps older cores loading us
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    settings: DiscordSettings = app.settings(PLUGIN_NAME)
    try:
        token = runtime_for(app).token()
    except DeskError as exc:  # the variable is not set: the message names it
        return OnlineCheck(PLATFORM, problems=(str(exc),))
    report = await check_online(settings, token)
    return OnlineCheck(PLATFORM, seen=tuple(report.seen), problems=tuple(report.problems))


@hookimpl
def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    runtime = runtime_for.existing(app)
    return card.card_fields(ticket, runtime.client if runtime is not None else None)
