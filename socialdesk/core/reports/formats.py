"""A :class:`~socialdesk.core.reports.report.Report` as text (terminal), CSV, JSON and Slack mrkdwn.

CSV is one ``section,name,value`` row per number (durations in seconds, shares 0..1, empty
when there is nothing to measure), so a spreadsheet can pivot it. JSON carries the same
numbers, nested (see ``JSON_SCHEMA``). Platform and category names come from plugins and
triage rules; on Slack they are escaped like any other text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from socialdesk.core.reports.report import Durations, Report
from socialdesk.core.slack.escaping import escape_mrkdwn, fit
from socialdesk.core.slack.timefmt import duration

CSV_HEADER = ("section", "name", "value")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
MAX_AGENTS_ON_SLACK = 10

_DURATIONS_SCHEMA = {
    "type": "object", "required": ["count", "median_seconds", "p90_seconds"], "additionalProperties": False,
    "properties": {"count": {"type": "integer", "minimum": 0},
                   "median_seconds": {"type": ["number", "null"]}, "p90_seconds": {"type": ["number", "null"]}},
}
_COUNTS_SCHEMA = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["since", "until", "generated_at", "timezone", "volume", "first_response", "resolution", "sla",
                 "agents", "csat", "queue_now"],
    "properties": {
        "since": {"type": "string", "format": "date-time"},
        "until": {"type": "string", "format": "date-time"},
        "generated_at": {"type": "string", "format": "date-time"},
        "timezone": {"type": "string"},
        "volume": {
            "type": "object", "additionalProperties": False,
            "required": ["created", "tickets", "auto_closed", "spam", "by_platform", "by_category", "by_priority"],
            "properties": {
                "created": {"type": "integer", "minimum": 0}, "tickets": {"type": "integer", "minimum": 0},
                "auto_closed": {"type": "integer", "minimum": 0}, "spam": {"type": "integer", "minimum": 0},
                "by_platform": _COUNTS_SCHEMA, "by_category": _COUNTS_SCHEMA,
                "by_priority": {"type": "object", "propertyNames": {"pattern": "^P[1-4]$"},
                                "additionalProperties": {"type": "integer", "minimum": 0}},
            },
        },
        "first_response": {**_DURATIONS_SCHEMA, "required": [*_DURATIONS_SCHEMA["required"], "unanswered"],
                           "properties": {**_DURATIONS_SCHEMA["properties"],
                                          "unanswered": {"type": "integer", "minimum": 0}}},
        "resolution": _DURATIONS_SCHEMA,
        "sla": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["met", "missed", "attainment"],
            "properties": {"met": {"type": "integer", "minimum": 0}, "missed": {"type": "integer", "minimum": 0},
                           "attainment": {"type": ["number", "null"], "minimum": 0, "maximum": 1}}}},
        "agents": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["agent", "claimed", "replies", "closed"],
            "properties": {"agent": {"type": "string"}, "name": {"type": "string"},
                           "claimed": {"type": "integer", "minimum": 0},
                           "replies": {"type": "integer", "minimum": 0}, "closed": {"type": "integer", "minimum": 0}}}},
        "csat": {"type": "object", "additionalProperties": False,
                 "required": ["sent", "responses", "average", "satisfied"],
                 "properties": {"sent": {"type": "integer", "minimum": 0},
                                "responses": {"type": "integer", "minimum": 0},
                                "average": {"type": ["number", "null"], "minimum": 1, "maximum": 5},
                                "satisfied": {"type": ["number", "null"], "minimum": 0, "maximum": 1}}},
        "queue_now": {"type": "object", "additionalProperties": False, "required": ["open", "unclaimed"],
                      "properties": {"open": {"type": "integer", "minimum": 0},
                                     "unclaimed": {"type": "integer", "minimum": 0}}},
    },
}


# --- JSON ------------------------------------------------------------------------------------


def _durations(d: Durations) -> dict[str, Any]:
    return {"count": d.count, "median_seconds": d.median, "p90_seconds": d.p90}


def as_dict(r: Report, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``names``: agents' display names by id (``users.info``); each agent known gets ``name``."""
    names = names or {}
    return {
        "since": r.since.isoformat(), "until": r.until.isoformat(), "generated_at": r.generated_at.isoformat(),
        "timezone": r.timezone,
        "volume": {"created": r.created, "tickets": r.tickets, "auto_closed": r.auto_closed, "spam": r.spam,
                   "by_platform": r.by_platform, "by_category": r.by_category,
                   "by_priority": {f"P{p}": n for p, n in r.by_priority.items()}},
        "first_response": {**_durations(r.first_response), "unanswered": r.unanswered},
        "resolution": _durations(r.resolution),
        "sla": {s.kind: {"met": s.met, "missed": s.missed, "attainment": s.attainment} for s in r.sla},
        "agents": [{"agent": a.agent, **({"name": names[a.agent]} if a.agent in names else {}),
                    "claimed": a.claimed, "replies": a.replies, "closed": a.closed}
                   for a in r.agents],
        "csat": {"sent": r.csat.sent, "responses": r.csat.responses, "average": r.csat.average,
                 "satisfied": r.csat.satisfied},
        "queue_now": {"open": r.open_now, "unclaimed": r.unclaimed_now},
    }


def as_json(r: Report, names: Mapping[str, str] | None = None) -> str:
    return json.dumps(as_dict(r, names), indent=2, ensure_ascii=False) + "\n"


# --- CSV --------------------------------------------------------------------------------------


def _rows(r: Report, names: Mapping[str, str]) -> Iterator[tuple[str, str, object]]:
    yield "period", "since", r.since.isoformat()
    yield "period", "until", r.until.isoformat()
    yield "period", "timezone", r.timezone
    for name in ("created", "tickets", "auto_closed", "spam"):
        yield "volume", name, getattr(r, name)
    for platform, n in r.by_platform.items():
        yield "platform", platform, n
    for category, n in r.by_category.items():
        yield "category", category, n
    for priority, n in r.by_priority.items():
        yield "priority", f"P{priority}", n
    for section, d in (("first_response", r.first_response), ("resolution", r.resolution)):
        yield section, "count", d.count
        yield section, "median_seconds", d.median
        yield section, "p90_seconds", d.p90
    yield "first_response", "unanswered", r.unanswered
    for s in r.sla:
        yield f"sla_{s.kind}", "met", s.met
        yield f"sla_{s.kind}", "missed", s.missed
        yield f"sla_{s.kind}", "attainment", s.attainment
    for a in r.agents:
        if a.agent in names:
            yield f"agent_{a.agent}", "name", names[a.agent]
        yield f"agent_{a.agent}", "claimed", a.claimed
        yield f"agent_{a.agent}", "replies", a.replies
        yield f"agent_{a.agent}", "closed", a.closed
    for name in ("sent", "responses", "average", "satisfied"):
        yield "csat", name, getattr(r.csat, name)
    yield "queue_now", "open", r.open_now
    yield "queue_now", "unclaimed", r.unclaimed_now


def as_csv(r: Report, names: Mapping[str, str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section, name, value in _rows(r, names or {}):
        writer.writerow((section, name, "" if value is None else value))
    return out.getvalue()


# --- people -----------------------------------------------------------------------------------


def _duration(seconds: float | None) -> str:
    return "n/a" if seconds is None else duration(seconds)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _local(moment: datetime, tz_name: str) -> str:
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


def _breakdown(counts: dict[Any, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counts.items()) or "none"


def _beside(agent: str, names: Mapping[str, str] | None) -> str:
    """``Alice (U0123)``: the display name beside the id, when it is known."""
    name = (names or {}).get(agent)
    return f"{name} ({agent})" if name and name != agent else agent


def as_text(r: Report, names: Mapping[str, str] | None = None) -> str:
    """A plain table for the terminal (agents by display name and id when ``names`` are known)."""
    lines = [
        f"socialdesk report {_local(r.since, r.timezone)} .. {_local(r.until, r.timezone)} ({r.timezone})",
        "",
        f"{'tickets':<24}{r.tickets}  (created {r.created}; auto-closed {r.auto_closed}, spam {r.spam} apart)",
        f"{'  by platform':<24}{_breakdown(r.by_platform)}",
        f"{'  by category':<24}{_breakdown(r.by_category)}",
        f"{'  by priority':<24}{_breakdown({f'P{p}': n for p, n in r.by_priority.items()})}",
        "",
        f"{'':<24}{'count':>7}{'median':>14}{'p90':>14}",
        f"{'first response':<24}{r.first_response.count:>7}{_duration(r.first_response.median):>14}"
        f"{_duration(r.first_response.p90):>14}   ({r.unanswered} unanswered)",
        f"{'resolution':<24}{r.resolution.count:>7}{_duration(r.resolution.median):>14}"
        f"{_duration(r.resolution.p90):>14}",
        "",
    ]
    if r.sla:
        lines.append(f"{'SLA':<24}{'met':>7}{'missed':>14}{'attainment':>14}")
        lines += [f"{'  ' + s.kind:<24}{s.met:>7}{s.missed:>14}{_share(s.attainment):>14}" for s in r.sla]
    else:
        lines.append(f"{'SLA':<24}no timer met or missed in the period")
    lines.append("")
    if r.agents:
        width = max(24, *(len(_beside(a.agent, names)) + 4 for a in r.agents))
        lines.append(f"{'agent':<{width}}{'claimed':>7}{'replies':>14}{'closed':>14}")
        lines += [f"{'  ' + _beside(a.agent, names):<{width}}{a.claimed:>7}{a.replies:>14}{a.closed:>14}"
                  for a in r.agents]
    else:
        lines.append(f"{'agents':<24}no claims, replies or closes in the period")
    average = "n/a" if r.csat.average is None else f"{r.csat.average:.2f}/5"
    lines += [
        "",
        f"{'CSAT':<24}{r.csat.responses} responses to {r.csat.sent} surveys sent; average {average}, "
        f"satisfied (4-5) {_share(r.csat.satisfied)}",
        f"{'queue now':<24}{r.open_now} open, {r.unclaimed_now} unclaimed",
    ]
    return "\n".join(lines) + "\n"


def _who(agent: str, names: Mapping[str, str] | None, with_ids: bool = False) -> str:
    """A Slack user id as a mention, or by name when ``names`` are given (no notification),
    followed by the raw id with ``with_ids``; anything else (an actor a plugin named) as escaped text."""
    if names is not None:
        shown = fit(names.get(agent, agent), 64, mrkdwn=True)
        return f"{shown} (`{agent}`)" if with_ids and names.get(agent, agent) != agent else shown
    return f"<@{agent}>" if _SLACK_USER.match(agent) else fit(agent, 64, mrkdwn=True)


def as_slack(r: Report, label: str, *, names: Mapping[str, str] | None = None, with_ids: bool = False) -> str:
    """mrkdwn for ``/desk stats`` and the digest; ``label`` says which period ("the last 7 days").

    Agents are ``<@mentions>`` (fine in an ephemeral answer) unless ``names`` maps their
    ids to display names (a channel message must not notify everyone it lists)."""
    def listed(counts: dict[Any, int]) -> str:
        return fit(_breakdown(counts), 600, mrkdwn=True)

    fr, res = r.first_response, r.resolution
    lines = [
        f"*Desk stats for {label}*",
        f"• New tickets: {r.created} ({r.auto_closed} auto-closed and {r.spam} spam among them)",
        f"• By platform: {listed(r.by_platform)}",
        f"• By category: {listed(r.by_category)}",
        f"• By priority: {listed({f'P{p}': n for p, n in r.by_priority.items()})}",
        f"• Replies sent: {sum(a.replies for a in r.agents)}",
        f"• Closed: {res.count} (and {r.spam} spam)",
        f"• First response: median {_duration(fr.median)}, p90 {_duration(fr.p90)} "
        f"({fr.count} answered, {r.unanswered} unanswered)",
        f"• Resolution: median {_duration(res.median)}, p90 {_duration(res.p90)}",
    ]
    for s in r.sla:
        lines.append(f"• SLA {escape_mrkdwn(s.kind.replace('_', ' '))}: {_share(s.attainment)} "
                     f"({s.met} met, {s.missed} missed)")
    if r.agents:
        shown = ", ".join(f"{_who(a.agent, names, with_ids)} {a.replies} replies/{a.closed} closed/{a.claimed} claimed"
                          for a in r.agents[:MAX_AGENTS_ON_SLACK])
        more = f" and {len(r.agents) - MAX_AGENTS_ON_SLACK} more" if len(r.agents) > MAX_AGENTS_ON_SLACK else ""
        lines.append(f"• Agents: {shown}{more}")
    if r.csat.responses or r.csat.sent:
        average = "n/a" if r.csat.average is None else f"{r.csat.average:.1f}/5"
        lines.append(f"• CSAT: {average}, {_share(r.csat.satisfied)} satisfied "
                     f"({r.csat.responses} of {r.csat.sent} answered)")
    lines.append(f"• In the queue now: {r.open_now} ({r.unclaimed_now} unclaimed)")
    return "\n".join(lines)
