"""Where the thread messages of a ticket without a card of its own go: its incident card's thread.

A storm's tickets (except the few opened before the storm was recognised) have no card:
the incident card stands for them. A customer's follow-up or an agent's note on such a
ticket is posted under the incident card; nothing is dropped, and nothing waits forever
for a card that will never exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.core.outbox.jobs import JobFailed, JobStatus, RetryJob
from socialdesk.core.slack.runtime import SlackRuntime
from socialdesk.core.ticket import TicketSnapshot

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


async def wait_for_incident_card(app: DeskApp, rt: SlackRuntime, incident_id: int, what: str) -> bool:
    """False when the incident card will never be posted; RetryJob while it is on its way."""
    state = await app.incidents.post_state(incident_id)
    if state is None:
        return False
    if state.status == JobStatus.FAILED:
        raise JobFailed(f"cannot {what}: the card of incident #{incident_id} was never posted")
    delay = max(1.0, (state.not_before - app.clock()).total_seconds() + 0.5, rt.settings.rate.max_inline_wait_seconds)
    raise RetryJob(f"waiting for the card of incident #{incident_id} to be posted", delay, counts=False)


async def incident_thread(app: DeskApp, rt: SlackRuntime, ticket: TicketSnapshot,
                          what: str) -> tuple[str, str] | None:
    """(channel, thread ts) where a message of ``ticket`` goes when the ticket has no card of
    its own but belongs to an incident: the incident card's thread. None: nowhere."""
    incident = await app.incidents.of_ticket(ticket.id)
    if incident is None:
        return None
    if incident.card_ts and incident.card_channel:
        return incident.card_channel, incident.card_ts
    await wait_for_incident_card(app, rt, incident.id, what)
    return None
