"""Default plugin: every ticket lifecycle event as one structured log line."""

from __future__ import annotations

import logging

from socialdesk.core.events import TicketEvent
from socialdesk.core.hookspecs import hookimpl

log = logging.getLogger("socialdesk.events")


@hookimpl
def socialdesk_ticket_event(event: TicketEvent) -> None:
    log.info(
        "ticket %s",
        event.kind.value,
        extra={"ticket": event.ticket_id, "event": event.kind.value, "actor": event.actor, **{
            f"detail_{k}": v for k, v in event.details.items()
        }},
    )
