"""``/desk triage N p1|p2|p3|p4|<category>``: an agent corrects a ticket's priority and/or
category. The correction is an audited ``triage_corrected`` event, updates the card, and
is a label the desk's own model learns from (``socialdesk triage train --from-desk``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import DeskSubcommand, SubcommandCall
from socialdesk.core.triage import CATEGORIES

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

USAGE = "triage N p1|p2|p3|p4|<category>"
_TICKET = re.compile(r"^#?(\d{1,12})$")
_PRIORITY = re.compile(r"^p([1-4])$", re.IGNORECASE)


class CorrectionUsage(DeskError):
    """Input the command cannot read: the answer is its usage (ephemeral, nothing changes)."""


def usage_text() -> str:
    return (f"Usage: `/desk {USAGE}` — correct a ticket's priority and/or category, e.g. `/desk triage 42 p2` "
            f"or `/desk triage 42 p1 account_security`. Categories: {', '.join(CATEGORIES)}.")


def parse(args: str) -> tuple[int, int | None, str | None]:
    """``"#42 p2 billing"`` -> (42, 2, "billing"); raises :class:`CorrectionUsage`."""
    words = args.split()
    if len(words) < 2 or len(words) > 3 or not (m := _TICKET.match(words[0])):
        raise CorrectionUsage(usage_text())
    priority: int | None = None
    category: str | None = None
    for word in words[1:]:
        if (p := _PRIORITY.match(word)) and priority is None:
            priority = int(p.group(1))
        elif word.lower() in CATEGORIES and category is None:
            category = word.lower()
        else:
            raise CorrectionUsage(f"`{word[:40]}` is neither a priority nor a category. " + usage_text())
    return int(m.group(1)), priority, category


async def correct(call: SubcommandCall, app: DeskApp) -> str:
    try:
        number, priority, category = parse(call.args)
    except CorrectionUsage as exc:
        return str(exc)
    ticket = await app.service.correct_triage(number, call.actor, priority=priority, category=category)
    return f"#{ticket.id} is now P{ticket.priority} · {ticket.category}. Thanks: the desk learns from this."


def triage_subcommand() -> DeskSubcommand:
    return DeskSubcommand(name="triage", usage=USAGE, summary="correct a ticket's priority and/or category",
                          handler=correct)
