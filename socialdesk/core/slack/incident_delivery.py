"""Outbox performers for incident cards, and where an incident ticket's thread messages go.

Posted once, like a ticket's card: the incident records the channel before the post (no
ts yet); an attempt that finds that mark looks for the card in the channel's history
(by its metadata) before posting again. Paced and rate-limited through the same helpers
as the ticket cards (:mod:`.delivery`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from socialdesk.core.errors import DeskError
from socialdesk.core.incidents.links import POST_INCIDENT_CARD, UPDATE_INCIDENT_CARD
from socialdesk.core.incidents.service import IncidentNotFound, IncidentSnapshot, IncidentView
from socialdesk.core.outbox.jobs import JobFailed, JobStatus, OutboxJobSnapshot
from socialdesk.core.slack import delivery
from socialdesk.core.slack.card import CardMessage
from socialdesk.core.slack.incident_card import INCIDENT_EVENT_TYPE, build_incident_card
from socialdesk.core.slack.incident_thread import wait_for_incident_card
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.routing import channel_for
from socialdesk.core.slack.runtime import SlackRuntime, runtime_for

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


async def render_incident_card(app: DeskApp, incident_id: int) -> tuple[CardMessage, IncidentView]:
    view = await app.incidents.view(incident_id)
    title = await masked(app, view.incident.title)  # personal data never reaches the channel
    return build_incident_card(view, masked_title=title, now=app.clock()), view


async def _incident(app: DeskApp, job: OutboxJobSnapshot) -> IncidentSnapshot:
    try:
        return await app.incidents.get(int(job.payload["incident_id"]))
    except IncidentNotFound as exc:
        raise JobFailed(str(exc)) from None


async def _channel(app: DeskApp, incident_id: int, priority: int) -> str:
    """The channel of the incident's first ticket, at the incident's most urgent priority."""
    first = await app.incidents.ticket_ids(incident_id)
    if not first:
        raise JobFailed(f"incident #{incident_id} has no tickets")
    ticket = dataclasses.replace(await app.service.get_ticket(first[0]), priority=priority)
    try:
        return channel_for(ticket, app.config.desk)
    except DeskError as exc:
        raise JobFailed(str(exc)) from None


async def post_incident_card(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    incident = await _incident(app, job)
    if incident.card_ts:
        return  # posted by an earlier attempt that did not get to finish the job
    if incident.card_channel:
        found = await _find_incident_card(rt, incident)
        if found:
            await app.incidents.set_card(incident.id, incident.card_channel, found)
            log.info("incident card found after an uncertain post", extra={"incident": incident.id})
            return
        channel = incident.card_channel
        await app.incidents.abandon_card_post(incident.id)
    else:
        channel = await _channel(app, incident.id, (await app.incidents.view(incident.id, shown=0)).priority)
    key = delivery.post_key(channel)
    await delivery._take_slot(rt, app, job, key, paced=True)
    card, _ = await render_incident_card(app, incident.id)  # rendered now: the latest state goes out
    await app.incidents.begin_card_post(incident.id, channel)
    try:
        answer = await rt.delivery_client.chat_postMessage(
            channel=channel, text=card.text, blocks=card.blocks, metadata=card.metadata,
            unfurl_links=False, unfurl_media=False)
    except SlackApiError as exc:
        await app.incidents.abandon_card_post(incident.id)  # Slack answered: nothing was posted
        raise delivery.answered_with_error(rt, key, f"post the card of incident #{incident.id}", exc) from None
    except aiohttp.ClientConnectorError:
        await app.incidents.abandon_card_post(incident.id)
        raise delivery.unreachable(rt, f"post the card of incident #{incident.id}") from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        # It may have been posted: the mark stays, and the next attempt looks first.
        raise delivery.unanswered(rt, f"post the card of incident #{incident.id}", exc) from None
    await app.incidents.set_card(incident.id, channel, str(answer["ts"]))


async def _find_incident_card(rt: SlackRuntime, incident: IncidentSnapshot) -> str | None:
    """The ts of this incident's card in its channel, if an earlier attempt posted it."""
    assert incident.card_channel is not None
    oldest = incident.created_at.timestamp() - delivery.HISTORY_SLACK_SECONDS
    return await delivery.find_posted(rt, incident.card_channel, oldest, INCIDENT_EVENT_TYPE, "incident_id",
                                      incident.id, f"the card of incident #{incident.id}")


async def update_incident_card(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    incident_id = int(job.payload["incident_id"])
    # Read before the incident: a post taken after this read renders a state at least this new.
    post_state = await app.incidents.post_state(incident_id)
    incident = await _incident(app, job)
    if not incident.card_ts:
        if post_state is None or post_state.status == JobStatus.PENDING:
            return  # no card, or its post has not rendered yet and will show the latest
        await wait_for_incident_card(app, rt, incident_id, "update the incident card")
        return
    assert incident.card_channel is not None
    await delivery._take_slot(rt, app, job, "chat.update", paced=False)
    card, _ = await render_incident_card(app, incident_id)
    await delivery._call(rt, "chat.update", f"update the card of incident #{incident_id}", "chat_update",
                         channel=incident.card_channel, ts=incident.card_ts, text=card.text, blocks=card.blocks,
                         metadata=card.metadata)


INCIDENT_PERFORMERS = {
    POST_INCIDENT_CARD: post_incident_card,
    UPDATE_INCIDENT_CARD: update_incident_card,
}
