"""The Slack plugin (built-in, named ``slack``, off until enabled in plugins.toml).

It performs the card jobs of the outbox, runs the Bolt app (Socket Mode or HTTP mode)
as a service of every replica (a load balancer, or Slack's Socket Mode with its up to
10 connections, may hand any request to any replica), and tells an agent in the card's
thread when their reply could not be posted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from socialdesk.core.errors import DeskError
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import JobPerformer, OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.slack.app import build_bolt_app
from socialdesk.core.slack.channel_notice import CHANNEL_NOTICE_PERFORMERS
from socialdesk.core.slack.delivery import NOTICE_KIND, PERFORMERS
from socialdesk.core.slack.incident_delivery import INCIDENT_PERFORMERS
from socialdesk.core.slack.home_tab import close_homes, refresh_homes
from socialdesk.core.slack.escaping import escape_mrkdwn, fit, one_line
from socialdesk.core.slack.routing import unrouted_problem
from socialdesk.core.slack.runner import SlackListener
from socialdesk.core.slack.runtime import existing_runtime, runtime_for
from socialdesk.core.slack.settings import SlackSettings, slack_settings
from socialdesk.core.slack.online_check import check_online
from socialdesk.core.slack.startup_checks import startup_problems

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


@hookimpl
def socialdesk_settings_model() -> type[SlackSettings]:
    return SlackSettings


@hookimpl
def socialdesk_outbox_performers() -> Mapping[str, JobPerformer]:
    return {**PERFORMERS, **INCIDENT_PERFORMERS, **CHANNEL_NOTICE_PERFORMERS}


@hookimpl
def socialdesk_startup_problems(app: DeskApp) -> list[str]:
    return startup_problems(app)


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    return await check_online(app)


@hookimpl
async def socialdesk_start_services(app: DeskApp) -> None:
    desk = app.config.desk
    problem = unrouted_problem(desk)
    if problem:
        raise DeskError(problem)
    if not (desk.agents or desk.agent_groups or desk.admins or desk.admin_groups):
        log.warning("no desk agents are configured: everyone will be refused "
                    "(set desk.agents or desk.agent_groups in plugins.toml)")
    rt = runtime_for(app)
    app_token = rt.secret("app_token_env") if rt.settings.mode == "socket" else None
    await rt.check_token()
    listener = SlackListener(build_bolt_app(app, rt), rt.settings, app_token)
    await listener.start()
    rt.listener = listener


@hookimpl
async def socialdesk_stop_services(app: DeskApp) -> None:
    rt = existing_runtime(app)
    if rt is not None and rt.listener is not None:
        await rt.listener.stop()
        rt.listener = None
    await close_homes(app)


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    """Notices in the card's thread (best effort: the card shows the state in any case).

    * a reply that failed, or may not have been posted: to the agent who wrote it;
    * a follow-up that made the ticket urgent enough to page on-call: to the on-call group
      (the card's own mention only pages when the card is first posted).
    """
    await refresh_homes(app)  # App Homes opened recently show the change (debounced per agent)
    if event.kind in (EventKind.REPLY_FAILED, EventKind.REPLY_UNCERTAIN):
        text = await _reply_notice(event, app)
    elif event.kind == EventKind.MESSAGE_ADDED:
        text = await _escalation_notice(event, app)
    else:
        return
    if text is None:
        return
    ticket = await app.service.get_ticket(event.ticket_id)
    async with app.database.transaction() as session:
        app.outbox.enqueue(session, NOTICE_KIND, {"ticket_id": ticket.id, "text": text}, now=app.clock(),
                           priority=ticket.priority, ticket_id=ticket.id)


async def _reply_notice(event: TicketEvent, app: DeskApp) -> str | None:
    reply = await app.service.get_reply(int(event.details["reply_id"]))
    if reply is None:
        return None
    ticket = await app.service.get_ticket(event.ticket_id)
    error = fit(one_line(reply.error or "no details"), 600, mrkdwn=True)
    platform = escape_mrkdwn(ticket.platform)
    if event.kind == EventKind.REPLY_FAILED:
        return (f"⚠️ <@{reply.agent}> your reply to {ticket.ref} was *not posted* on {platform}: {error}\n"
                "The ticket stays open. Resend it from the card, or discard it and reply again.")
    return (f"❓ <@{reply.agent}> your reply to {ticket.ref} *may or may not* have been posted on "
            f"{platform} ({error}). Check there, then Resend or Discard it on the card.")


async def _escalation_notice(event: TicketEvent, app: DeskApp) -> str | None:
    group = app.config.desk.oncall_group
    paging = slack_settings(app.config).oncall_priorities
    priority = event.details.get("priority")
    if group is None or priority not in paging:
        return None
    # Paged already if the ticket was at a paging priority before this follow-up.
    earlier = [e.details.get("priority") for e in await app.service.audit_trail(event.ticket_id)
               if e.kind in (EventKind.CREATED, EventKind.MESSAGE_ADDED)
               and e.details.get("message_id") != event.details.get("message_id")]
    if any(p in paging for p in earlier):
        return None
    ticket = await app.service.get_ticket(event.ticket_id)
    why = fit("; ".join(ticket.priority_reasons) or "a follow-up", 500, mrkdwn=True)
    return f"<!subteam^{group}> {ticket.ref} is now P{priority} after a follow-up ({why}): please pick it up"
