"""``/desk``: the agents' command line. Every answer is ephemeral (only the agent sees it).

Each subcommand has a usage line; input it cannot read is answered with that usage,
unknown subcommands with the list of them. Errors from the desk are its own messages
("#42 is claimed by <@U123>"). Plugins add subcommands through
``socialdesk_desk_subcommands``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from socialdesk.core.errors import ClaimedByOther, DeskError
from socialdesk.core.extensions import Actor, DeskSubcommand, SubcommandCall
from socialdesk.core.hooks import await_me_maybe
from socialdesk.core.slack import admin_commands, ticket_actions
from socialdesk.core.slack.command_usage import Usage
from socialdesk.core.slack.card import PRIORITY_MARKS
from socialdesk.core.slack.ticket_actions import TAKEOVER
from socialdesk.core.slack.durations import snooze_until
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, one_line
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.permissions import ADMIN_REFUSAL
from socialdesk.core.slack.timefmt import duration, slack_date
from socialdesk.core.reports.formats import as_slack as report_as_slack
from socialdesk.core.reports.period import amount as period_amount
from socialdesk.core.reports.period import local_day_start
from socialdesk.core.reports.report import build_report
from socialdesk.core.ticket import ENDED_STATUSES
from socialdesk.core.store.ticket_queries import TicketSummary

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

TICKET = re.compile(r"^#?(\d{1,12})$")
USER = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
NAMED = re.compile(r"^@[^\s<>&@][^<>&@]{0,79}$")  # "@alice", "@Alice Agent": a name as typed
LIST_LIMIT = 15
MAX_ANSWER_CHARS = 3500


@dataclass(frozen=True)
class Context:
    app: DeskApp
    rt: SlackRuntime
    actor: Actor
    channel_id: str | None
    commands: CommandSet

    @property
    def command(self) -> str:
        return self.commands.command  # "/desk", as configured

    def ref(self, text: str) -> str:
        return f"`{self.command} {text}`"


Handler = Callable[[Context, str], Awaitable[str]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # without the command: "claim N [--takeover]"
    summary: str
    run: Handler
    admin_only: bool = False


def ticket_id(word: str) -> int:
    match = TICKET.match(word)
    if not match:
        raise Usage()
    return int(match.group(1))


def split_ticket(args: str) -> tuple[int, str]:
    """``"#42 rest of it"`` -> (42, "rest of it")."""
    parts = args.strip().split(None, 1)
    if not parts:
        raise Usage()
    return ticket_id(parts[0]), (parts[1].strip() if len(parts) > 1 else "")


def take_flag(text: str, flag: str) -> tuple[bool, str]:
    """Remove one standalone ``flag`` from ``text``; whether it was there."""
    pattern = re.compile(r"(?<!\S)" + re.escape(flag) + r"(?!\S)")
    if not pattern.search(text):
        return False, text
    return True, pattern.sub("", text, count=1).strip()


def only_ticket(args: str) -> int:
    number, rest = split_ticket(args)
    if rest:
        raise Usage()
    return number


# --- listings ---------------------------------------------------------------------------------


async def _listing(ctx: Context, items: list[TicketSummary], now: datetime) -> list[str]:
    lines = []
    for s in items:
        t = s.ticket
        url = await ctx.rt.permalink(t.card_channel, t.card_ts)
        ref = f"<{url}|{t.ref}>" if url else t.ref
        who = escape_mrkdwn(cut(one_line("@" + s.author.handle), 40)) if s.author else "someone"
        said = fit(cut(one_line(await masked(ctx.app, s.opening.text)), 70), 600, mrkdwn=True) if s.opening else ""
        holder = f"<@{t.assignee}>" if t.assignee else "unclaimed"
        state = t.status if t.status in ENDED_STATUSES else f"{t.status}, {holder}"
        lines.append(f"{PRIORITY_MARKS.get(t.priority, '')} *P{t.priority}* {ref} {escape_mrkdwn(t.platform)} "
                     f"{who}: “{said}” · {state} · {duration((now - t.created_at).total_seconds())} old")
    return lines


async def queue(ctx: Context, args: str) -> str:
    platform: str | None = None
    priority: int | None = None
    word = args.strip().lower()
    if word:
        if re.fullmatch(r"p?[1-4]", word):
            priority = int(word[-1])
        elif word in ctx.app.platforms:
            platform = word
        else:
            raise Usage()
    tickets = await ctx.app.service.queue(platform=platform, priority=priority, limit=LIST_LIMIT)
    scope = f" ({platform})" if platform else f" (P{priority})" if priority else ""
    if not tickets:
        return f"The queue{scope} is empty. :tada:"
    lines = await _listing(ctx, await ctx.app.service.summaries(tickets), ctx.app.clock())
    more = "\n_(the first {} shown)_".format(LIST_LIMIT) if len(tickets) == LIST_LIMIT else ""
    return f"*Queue{scope}*, most urgent first:\n" + "\n".join(lines) + more


async def mine(ctx: Context, args: str) -> str:
    if args.strip():
        raise Usage()
    tickets = await ctx.app.service.queue(assignee=ctx.actor.user_id, limit=LIST_LIMIT)
    if not tickets:
        return "You hold no open tickets."
    lines = await _listing(ctx, await ctx.app.service.summaries(tickets), ctx.app.clock())
    return "*Your tickets*, most urgent first:\n" + "\n".join(lines)


async def history(ctx: Context, args: str) -> str:
    handle = args.strip()
    if not re.fullmatch(r"@?[^\s@]{1,200}", handle):
        raise Usage()
    found = await ctx.app.service.history_of(handle, limit=LIST_LIMIT)
    shown = escape_mrkdwn("@" + handle.removeprefix("@"))
    if not found:
        return f"No tickets from {shown}."
    lines = await _listing(ctx, found, ctx.app.clock())
    return f"*Tickets from {shown}*, newest first:\n" + "\n".join(lines)


# --- transitions -------------------------------------------------------------------------------


async def claim(ctx: Context, args: str) -> str:
    takeover, rest = take_flag(args, TAKEOVER)
    number = only_ticket(rest)
    return await ticket_actions.claim(ctx.app.service, ctx.actor, number, ctx.command, takeover=takeover)


async def unclaim(ctx: Context, args: str) -> str:
    return await ticket_actions.unclaim(ctx.app.service, ctx.actor, only_ticket(args))


async def assign(ctx: Context, args: str) -> str:
    number, rest = split_ticket(args)
    match = USER.match(rest)
    if match is None and not NAMED.match(rest):
        raise Usage()
    # The command is unescaped: "@alice" arrives as typed and is looked up by name.
    user = (match.group(1) or match.group(2)) if match else await ctx.rt.directory.one_user(rest)
    if await ctx.rt.permissions.actor(user) is None:
        return f"<@{user}> is not a desk agent; assign it to an agent."
    await ctx.app.service.assign(number, ctx.actor, user)
    return f"#{number} is now assigned to <@{user}>."


async def reply(ctx: Context, args: str) -> str:
    number, rest = split_ticket(args)
    takeover, text = take_flag(rest, TAKEOVER)
    if not text:
        raise Usage()
    try:
        await ctx.app.service.reply(number, ctx.actor, text, takeover=takeover)
    except ClaimedByOther as exc:
        return f"{exc}: {ctx.ref(f'reply {number} {TAKEOVER} …')}"
    return f"Your reply to #{number} is on its way; the card shows it once it is posted."


async def note(ctx: Context, args: str) -> str:
    number, text = split_ticket(args)
    if not text:
        raise Usage()
    await ctx.app.service.note(number, ctx.actor, text)
    return f"Internal note added to #{number} (in the card's thread)."


async def snooze(ctx: Context, args: str) -> str:
    number, spec = split_ticket(args)
    until = snooze_until(spec, ctx.app.clock(), ctx.app.config.desk.timezone) if spec else None
    if until is None:
        raise Usage()
    await ctx.app.service.snooze(number, ctx.actor, until)
    return f"#{number} is snoozed until {slack_date(until)}."


async def close(ctx: Context, args: str) -> str:
    number, reason = split_ticket(args)
    return await ticket_actions.close(ctx.app.service, ctx.actor, number, reason or None)


async def reopen(ctx: Context, args: str) -> str:
    return await ticket_actions.reopen(ctx.app.service, ctx.actor, only_ticket(args))


async def spam(ctx: Context, args: str) -> str:
    return await ticket_actions.spam(ctx.app.service, ctx.actor, only_ticket(args))


# --- reference -----------------------------------------------------------------------------------


async def stats(ctx: Context, args: str) -> str:
    """The same numbers as ``socialdesk report`` (socialdesk.core.reports.report), for today or
    the last 7d (any amount such as 24h or 30d is read too)."""
    word = args.strip().lower() or "today"
    now, tz_name = ctx.app.clock(), ctx.app.config.desk.timezone
    if word == "today":
        since, label = local_day_start(now, tz_name), f"today ({tz_name})"
    else:
        span = period_amount(word)
        if span is None:
            raise Usage()
        since, label = now - span, f"the last {word}"
    report = await build_report(ctx.app.database, since, now, now=now, tz_name=tz_name)
    # Display names beside the ids, without pinging anyone (cached users.info, rate-limit aware).
    names = await ctx.rt.names.names(a.agent for a in report.agents)
    return report_as_slack(report, label, names=names, with_ids=True)


async def help_text(ctx: Context, args: str) -> str:
    name = args.strip().lower()
    if not name:
        return ctx.commands.overview()
    sub = ctx.commands.subcommands.get(name)
    if sub is None:
        raise Usage()
    return ctx.commands.usage(sub)


BUILTIN: tuple[Subcommand, ...] = (
    Subcommand("help", "help [subcommand]", "this list, or one subcommand's usage", help_text),
    Subcommand("queue", "queue [platform|p1-p4]", "open tickets, most urgent first", queue),
    Subcommand("mine", "mine", "the tickets you hold", mine),
    Subcommand("claim", f"claim N [{TAKEOVER}]", "take ticket N (add --takeover if someone holds it)", claim),
    Subcommand("unclaim", "unclaim N", "put ticket N back in the queue", unclaim),
    Subcommand("assign", "assign N @user", "give ticket N to someone", assign),
    Subcommand("reply", f"reply N [{TAKEOVER}] text", "answer the customer publicly", reply),
    Subcommand("note", "note N text", "an internal note in the card's thread", note),
    Subcommand("snooze", "snooze N 30m|2h|tomorrow", "hide ticket N until then", snooze),
    Subcommand("close", "close N [reason]", "close ticket N", close),
    Subcommand("reopen", "reopen N", "reopen a closed ticket", reopen),
    Subcommand("spam", "spam N", "mark ticket N as spam (closes it)", spam),
    Subcommand("macro", "macro list|show NAME|add NAME text|remove NAME",
               "canned replies (add and remove: admins)", admin_commands.macro),
    Subcommand("stats", "stats [today|7d]", "volume, response times, SLA, agents and CSAT (also 24h, 30d…)",
               stats),
    Subcommand("history", "history @handle", "earlier tickets from one author", history),
    Subcommand("block", "block @handle [platform]|list", "file an author's mentions closed as spam (admins)",
               admin_commands.block, admin_only=True),
    Subcommand("unblock", "unblock @handle [platform]", "undo a block (admins)", admin_commands.unblock,
               admin_only=True),
    Subcommand("agents", "agents [add|remove @user|@group [admin]]", "who may act on the desk (changes: admins)",
               admin_commands.agents),
)


def _plugin_handler(command: DeskSubcommand) -> Handler:
    async def run(ctx: Context, args: str) -> str:
        call = SubcommandCall(command.name, args, ctx.actor, ctx.channel_id)
        return str(await await_me_maybe(command.handler(call, ctx.app)))

    return run


class CommandSet:
    """The built-in subcommands and those plugins declare, and how to run a line of input."""

    def __init__(self, app: DeskApp, command: str) -> None:
        self.command = command
        self.subcommands: dict[str, Subcommand] = {c.name: c for c in BUILTIN}
        for name, extra in app.hooks.desk_subcommands(reserved=frozenset(self.subcommands)).items():
            self.subcommands[name] = Subcommand(name, extra.usage, extra.summary, _plugin_handler(extra),
                                                extra.admin_only)

    def usage(self, sub: Subcommand) -> str:
        return f"Usage: `{self.command} {sub.usage}` — {sub.summary}. Ticket numbers look like 42 or #42."

    def overview(self) -> str:
        lines = [f"`{self.command} {c.usage}` — {c.summary}" for c in self.subcommands.values()]
        return "*Desk commands* (only you see these answers):\n" + "\n".join(lines)

    async def run(self, app: DeskApp, rt: SlackRuntime, actor: Actor, text: str, channel_id: str | None) -> str:
        parts = text.strip().split(None, 1)
        name = parts[0].lower() if parts else "help"
        args = parts[1] if len(parts) > 1 else ""
        sub = self.subcommands.get(name)
        if sub is None:
            return f"Unknown subcommand `{escape_mrkdwn(cut(name, 30))}`.\n{self.overview()}"
        if sub.admin_only and not actor.is_admin:
            return ADMIN_REFUSAL
        ctx = Context(app, rt, actor, channel_id, self)
        try:
            answer = await sub.run(ctx, args.strip())
        except Usage:
            return self.usage(sub)
        except DeskError as exc:
            return str(exc)
        except Exception:
            log.exception("desk subcommand failed", extra={"subcommand": name})
            return f"`{self.command} {name}` failed unexpectedly (the desk's log has the details). Try again."
        return cut(answer, MAX_ANSWER_CHARS)
