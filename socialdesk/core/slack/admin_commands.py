"""``/desk`` subcommands that change who and what the desk acts on, kept in the database
(audited, no restart): ``block``, ``unblock``, ``macro add|remove`` (``list``/``show`` for
everyone) and ``agents`` (the list for everyone; ``add``/``remove`` for admins).

plugins.toml stays the starting point: its lists are merged with the database's, and a
change here reaches every replica within ``desk.admin_cache_seconds``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.core.admin.blocklist import author_key
from socialdesk.core.admin.lists import admin_lists
from socialdesk.core.admin.members import ADMIN, AGENT
from socialdesk.core.slack.command_usage import Usage
from socialdesk.core.slack.directory import mention
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, one_line
from socialdesk.core.slack.permissions import ADMIN_REFUSAL
from socialdesk.core.slack.settings import MACRO_VARIABLES, MAX_MACRO_CHARS

if TYPE_CHECKING:
    from socialdesk.core.slack.commands import Context

HANDLE = re.compile(r"^@?([^\s@<>]{1,200})$")
MACRO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_VARIABLE = re.compile(r"\{([^{}]*)\}")
# <@U123> / <@U123|name>, <!subteam^S123> / <!subteam^S123|@group>, or a bare id.
SUBJECT = re.compile(r"^<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>$|^<!subteam\^(S[A-Z0-9]{2,31})(?:\|[^>]*)?>$"
                     r"|^@?([UWS][A-Z0-9]{2,31})$")
# "@alice", "@support-team": a name typed after @ (looked up in Slack's directory).
NAMED = re.compile(r"^@[^\s<>&@]{1,80}$")
LIST_LIMIT = 50


def _require_admin(ctx: Context) -> str | None:
    return None if ctx.actor.is_admin else ADMIN_REFUSAL


def _handle_and_platform(ctx: Context, args: str) -> tuple[str, str | None]:
    parts = args.split()
    if not 1 <= len(parts) <= 2:
        raise Usage()
    match = HANDLE.match(parts[0])
    if match is None or not author_key(match.group(1)):
        raise Usage()
    platform = parts[1].lower() if len(parts) == 2 else None
    if platform is not None and platform not in ctx.app.platforms:
        raise _UnknownPlatform(platform, ", ".join(sorted(ctx.app.platforms)) or "none enabled")
    return match.group(1), platform


class _UnknownPlatform(Exception):
    def __init__(self, platform: str, known: str) -> None:
        super().__init__(f"No platform `{escape_mrkdwn(cut(platform, 32))}` is enabled (platforms: {known}).")


def _shown(who: str, platform: str | None) -> str:
    handle = escape_mrkdwn(cut(one_line("@" + author_key(who)), 80))
    return f"{handle} on {escape_mrkdwn(platform)}" if platform else f"{handle} on every platform"


async def block(ctx: Context, args: str) -> str:
    refused = _require_admin(ctx)
    if refused:
        return refused
    if args.strip() == "list":
        return await blocked_list(ctx)
    try:
        who, platform = _handle_and_platform(ctx, args)
    except _UnknownPlatform as exc:
        return str(exc)
    added = await admin_lists(ctx.app).blocklist.block(platform, who, ctx.actor.user_id)
    if not added:
        return f"{_shown(who, platform)} is already blocked."
    return (f"Blocked {_shown(who, platform)}: their new mentions are filed closed as spam, without a card. "
            f"Undo with `{ctx.command} unblock @{escape_mrkdwn(author_key(who))}"
            f"{' ' + platform if platform else ''}`.")


async def unblock(ctx: Context, args: str) -> str:
    refused = _require_admin(ctx)
    if refused:
        return refused
    try:
        who, platform = _handle_and_platform(ctx, args)
    except _UnknownPlatform as exc:
        return str(exc)
    removed = await admin_lists(ctx.app).blocklist.unblock(platform, who, ctx.actor.user_id)
    if removed:
        return f"Unblocked {_shown(who, platform)}."
    return (f"{_shown(who, platform)} was not blocked with `{ctx.command} block`"
            " (authors listed in `plugins.noise.blocked_authors` are unblocked in plugins.toml).")


async def blocked_list(ctx: Context) -> str:
    entries = await admin_lists(ctx.app).blocklist.entries()
    if not entries:
        return f"No authors are blocked with `{ctx.command} block` (plugins.toml may list more)."
    lines = [f"• {escape_mrkdwn(cut(one_line(e.shown), 120))} — by <@{e.added_by}>" for e in entries[:LIST_LIMIT]]
    more = f"\n_…and {len(entries) - LIST_LIMIT} more_" if len(entries) > LIST_LIMIT else ""
    return "*Blocked authors*:\n" + "\n".join(lines) + more


def _macro_problem(name: str, text: str) -> str | None:
    if not MACRO_NAME.match(name):
        return f"A macro name is lowercase letters, digits, - or _ (at most 40); `{escape_mrkdwn(cut(name, 40))}` is not."
    if len(text) > MAX_MACRO_CHARS:
        return f"A macro is {MAX_MACRO_CHARS} characters at most (this one has {len(text)})."
    unknown = sorted({v for v in _VARIABLE.findall(text) if v not in MACRO_VARIABLES})
    if unknown:
        known = ", ".join("{" + v + "}" for v in MACRO_VARIABLES)
        return (f"Unknown variable(s) {escape_mrkdwn(', '.join('{' + v + '}' for v in unknown))}; "
                f"known: {known}. Nothing was saved.")
    return None


async def macro(ctx: Context, args: str) -> str:
    action, _, rest = args.strip().partition(" ")
    rest = rest.strip()
    lists = admin_lists(ctx.app)
    configured = ctx.rt.settings.macros
    if action == "list" and not rest:
        macros = await lists.macros.effective(configured)
        if not macros:
            return (f"No macros yet: an admin adds one with `{ctx.command} macro add NAME text` "
                    "(or `[plugins.slack.macros]` in plugins.toml).")
        lines = [f"• `{n}`: {fit(cut(one_line(t), 80), 500, mrkdwn=True)}" for n, t in macros.items()]
        return "*Macros* (pick one in the reply modal):\n" + "\n".join(lines)
    if action == "show" and rest and " " not in rest:
        macros = await lists.macros.effective(configured)
        text = macros.get(rest)
        if text is None:
            known = ", ".join(f"`{n}`" for n in macros) or "none"
            return f"No macro named `{escape_mrkdwn(cut(rest, 40))}`. Macros: {known}"
        return f"*Macro `{rest}`*\n{fit(text, 3000, mrkdwn=True)}"
    if action == "add":
        name, _, text = rest.partition(" ")
        text = text.strip()
        if not name or not text:
            raise Usage()
        refused = _require_admin(ctx)
        if refused:
            return refused
        problem = _macro_problem(name, text)
        if problem:
            return problem
        replaced = await lists.macros.save(name, text, ctx.actor.user_id, configured)
        return f"Macro `{name}` {'replaced' if replaced else 'added'}; it is in the reply modal's macro list now."
    if action == "remove" and rest and " " not in rest:
        refused = _require_admin(ctx)
        if refused:
            return refused
        if not await lists.macros.remove(rest, ctx.actor.user_id, configured):
            return f"No macro named `{escape_mrkdwn(cut(rest, 40))}`; nothing was removed."
        return f"Macro `{rest}` removed."
    raise Usage()


async def _subject(ctx: Context, word: str) -> str:
    """The id a command names (``word`` matched SUBJECT or NAMED): a mention, a bare id, or
    an "@name" looked up in Slack (the command is unescaped, so a name arrives as typed)."""
    match = SUBJECT.match(word)
    if match is not None:
        return next(g for g in match.groups() if g)
    return await ctx.rt.directory.one_user_or_group(word)


async def agents(ctx: Context, args: str) -> str:
    words = args.split()
    members = admin_lists(ctx.app).members
    if not words:
        lists = await ctx.rt.permissions.lists()

        def listed(items: frozenset[str]) -> str:
            return ", ".join(mention(s) for s in sorted(items)) or "none"

        return ("*Who may act on the desk*\n"
                f"• Agents: {listed(lists.agents)}\n"
                f"• Agent groups: {listed(lists.agent_groups)}\n"
                f"• Admins: {listed(lists.admins)}\n"
                f"• Admin groups: {listed(lists.admin_groups)}\n"
                f"Admins change this with `{ctx.command} agents add|remove @user|@group [admin]`.")
    if words[0] not in ("add", "remove") or not 2 <= len(words) <= 3:
        raise Usage()
    if len(words) == 3 and words[2].lower() != ADMIN:
        raise Usage()
    if SUBJECT.match(words[1]) is None and not NAMED.match(words[1]):
        raise Usage()
    refused = _require_admin(ctx)  # before any lookup: only admins change the lists
    if refused:
        return refused
    subject = await _subject(ctx, words[1])
    role = ADMIN if len(words) == 3 else AGENT
    remove = words[0] == "remove"
    if remove and role == ADMIN and subject == ctx.actor.user_id:
        return "You cannot remove yourself as an admin; ask another admin."
    changed = await members.change(subject, role, ctx.actor.user_id, remove=remove)
    ctx.rt.permissions.forget()
    name = "an admin" if role == ADMIN else "an agent"
    if not changed:
        return f"{mention(subject)} {'is not' if remove else 'is already'} {name}; nothing changed."
    return f"{mention(subject)} {'is no longer' if remove else 'is now'} {name}."
