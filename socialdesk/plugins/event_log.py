"""Default plugin: every ticket lifecycle event as one structured log line.

Text in the details (triage reasons quoting what a rule matched, close reasons, platform
errors) goes through the masking plugins first: personal data stays out of the logs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from socialdesk.core.events import TicketEvent
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.slack.masking import masked

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger("socialdesk.events")


async def _masked_value(app: DeskApp, value: Any) -> Any:
    if isinstance(value, str):
        return await masked(app, value)
    if isinstance(value, list | tuple):
        return [await _masked_value(app, v) for v in value]
    return value


# Details whose values the desk itself wrote from its own vocabulary (a platform plugin's
# name, a ticket status, a timer's kind): no stranger's text can be in them, nothing to mask.
_DESK_VOCABULARY = frozenset({"platform", "status", "was_status", "timer"})


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    if not log.isEnabledFor(logging.INFO):
        return  # masking costs more than the rest of the line: not for a line nobody keeps
    details = {f"detail_{k}": v if k in _DESK_VOCABULARY else await _masked_value(app, v)
               for k, v in event.details.items()}
    log.info(
        "ticket %s",
        event.kind.value,
        extra={"ticket": event.ticket_id, "event": event.kind.value, "actor": event.actor, **details},
    )
