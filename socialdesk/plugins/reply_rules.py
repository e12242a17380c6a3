"""Default plugin: checks every reply before anything is written or sent.

Refuses empty replies, replies longer than the platform allows (for platforms that
count plain characters; platforms with their own counting, such as X's weighted
characters, check themselves), macro variables left unfilled, and phrases the team
has forbidden.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field

from socialdesk.core.config import StrictModel
from socialdesk.core.errors import NoPlatformPlugin
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.ticket import TicketSnapshot

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

PLUGIN_NAME = "reply_rules"
_UNFILLED_VARIABLE = re.compile(r"\{[a-z_]+\}")


class ReplyRulesSettings(StrictModel):
    forbidden_phrases: list[str] = Field(default_factory=list, description="case-insensitive")
    refuse_unfilled_variables: bool = True


@hookimpl
def socialdesk_settings_model() -> type[ReplyRulesSettings]:
    return ReplyRulesSettings


@hookimpl
async def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str]:
    settings: ReplyRulesSettings = app.settings(PLUGIN_NAME)
    problems: list[str] = []
    if not text.strip():
        problems.append("the reply is empty")
    limits = await app.hooks.reply_limits(ticket.platform)
    if limits is None:
        problems.append(str(NoPlatformPlugin(ticket.platform)))
    elif limits.unit == "characters" and len(text) > limits.max_length:
        problems.append(f"{limits.max_length} characters at most on {ticket.platform}, this reply has {len(text)}")
    if settings.refuse_unfilled_variables:
        unfilled = sorted(set(_UNFILLED_VARIABLE.findall(text)))
        if unfilled:
            problems.append(f"fill in or remove the macro variable(s) {', '.join(unfilled)}")
    lowered = text.casefold()
    for phrase in settings.forbidden_phrases:
        if phrase.casefold() in lowered:
            problems.append(f"the phrase {phrase!r} is not allowed in public replies")
    return problems
