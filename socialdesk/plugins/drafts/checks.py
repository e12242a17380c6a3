"""What is wrong with a draft, shown in the form before the agent can send it.

A draft passes the checks of a sent reply (every plugin's ``socialdesk_validate_reply``:
the platform's length in its own counting, forbidden phrases, unfilled variables) and
two more that only a generated text needs: personal data that is not in this
conversation (a model can repeat another customer's e-mail or phone from its examples)
and links to sites outside ``allowed_link_hosts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins import pii

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

_COMMON_TLDS = "com|net|org|io|co|ly|gl|me|app|dev|info|biz|xyz|ai|gg|to|link|page|shop|store|online|site"
_LINK = re.compile(
    r"\bhttps?://[^\s<>\"']+"
    r"|\bwww\.[^\s<>\"']+"
    rf"|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_COMMON_TLDS})\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE)
_HOST = re.compile(r"^(?:https?://)?([^/:?#\s]+)", re.IGNORECASE)
KIND_WORDS = {pii.EMAIL: "an e-mail address", pii.PHONE: "a phone number", pii.CARD: "a payment card number"}


def _normal(kind: str, value: str) -> str:
    return value.casefold() if kind == pii.EMAIL else re.sub(r"\D", "", value)


def foreign_personal_data(text: str, conversation: Iterable[str], settings: pii.PiiSettings) -> list[str]:
    """Personal data in ``text`` that none of the ``conversation``'s messages contain."""
    known = {(s.label, _normal(s.label, m[s.start:s.end])) for m in conversation for s in pii.find_spans(m, settings)}
    problems: list[str] = []
    for span in pii.find_spans(text, settings):
        if (span.label, _normal(span.label, text[span.start:span.end])) in known:
            continue
        what = KIND_WORDS.get(span.label, f"a {span.label}")
        line = f"the draft contains {what} that is not in this conversation (another customer's?): remove it"
        if line not in problems:
            problems.append(line)
    return problems


def host_of(link: str) -> str:
    found = _HOST.match(link)
    return (found.group(1) if found else link).lower().removeprefix("www.").rstrip(".")


def foreign_links(text: str, allowed_hosts: Iterable[str]) -> list[str]:
    allowed = tuple(allowed_hosts)
    bad = []
    for match in _LINK.finditer(text):
        host = host_of(match.group(0).rstrip(".,;:!?)"))
        if not any(host == a or host.endswith("." + a) for a in allowed) and host not in bad:
            bad.append(host)
    if not bad:
        return []
    where = f"only {', '.join(allowed)} may be linked" if allowed else "no link site is allowed"
    return [f"the draft links to {', '.join(bad)}; {where} (plugins.drafts.allowed_link_hosts)"]


async def draft_problems(app: DeskApp, ticket: TicketSnapshot, text: str, conversation: list[str],
                         allowed_hosts: Iterable[str]) -> list[str]:
    problems = list(await app.hooks.validate_reply(ticket, text.strip()))
    pii_settings = app.settings(pii.PLUGIN_NAME) or pii.PiiSettings()
    problems += foreign_personal_data(text, conversation, pii_settings)
    problems += foreign_links(text, allowed_hosts)
    return problems
