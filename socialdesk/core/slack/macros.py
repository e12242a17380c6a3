"""Canned replies from ``[plugins.slack.macros]`` with their variables filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.core.slack.settings import MACRO_VARIABLES
from socialdesk.core.store.ticket_queries import AuthorSnapshot

_VARIABLE = re.compile(r"\{(" + "|".join(MACRO_VARIABLES) + r")\}")


@dataclass(frozen=True, slots=True)
class MacroContext:
    author: AuthorSnapshot | None
    agent_name: str
    ticket_ref: str
    platform: str

    def values(self) -> dict[str, str]:
        handle = self.author.handle if self.author else ""
        return {
            "author": (self.author.display_name or handle) if self.author else "there",
            "handle": f"@{handle}" if handle else "",
            "agent": self.agent_name,
            "ticket": self.ticket_ref,
            "platform": self.platform,
        }


def fill(text: str, context: MacroContext) -> str:
    """``text`` with every known ``{variable}`` replaced; anything else is left alone
    (the reply rules refuse a reply with a variable still in it)."""
    values = context.values()
    return _VARIABLE.sub(lambda m: values[m.group(1)], text)
