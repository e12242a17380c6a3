"""Which channel a ticket's card goes to, and who is paged for it.

Routes from ``[desk] routes`` are tried in file order; the first whose ``platform``
and/or ``priorities`` match wins, else ``desk.channel``. A card stays in the channel
where it was first posted, even if the ticket's priority changes later.
"""

from __future__ import annotations

from socialdesk.core.config import DeskConfig
from socialdesk.core.errors import DeskError
from socialdesk.core.slack.settings import SlackSettings
from socialdesk.core.ticket import TicketSnapshot


class NoChannel(DeskError):
    pass


def channel_for(ticket: TicketSnapshot, desk: DeskConfig) -> str:
    for route in desk.routes:
        if route.platform is not None and route.platform != ticket.platform:
            continue
        if route.priorities is not None and ticket.priority not in route.priorities:
            continue
        return route.channel
    if desk.channel is None:
        raise NoChannel(f"no Slack channel for {ticket.ref} ({ticket.platform}, P{ticket.priority}): "
                        "set desk.channel in plugins.toml, or add a route that matches it")
    return desk.channel


def oncall_for(ticket: TicketSnapshot, desk: DeskConfig, settings: SlackSettings) -> str | None:
    """The user group to mention on this card (``S...``), or ``None``."""
    if desk.oncall_group and ticket.priority in settings.oncall_priorities:
        return desk.oncall_group
    return None


def unrouted_problem(desk: DeskConfig) -> str | None:
    """Why some cards would have nowhere to go, for a clear error at start-up."""
    if desk.channel is not None:
        return None
    catch_all = any(r.platform is None and (r.priorities is None or set(r.priorities) >= {1, 2, 3, 4})
                    for r in desk.routes)
    if catch_all:
        return None
    return ("desk.channel is not set, so cards that match no route have nowhere to go: "
            'set desk.channel = "C..." in plugins.toml')
