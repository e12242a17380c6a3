"""Who "@alice" or "@support-team" is, for names typed into the slash command.

The desk's command is registered unescaped (``should_escape: false``: a link in
``/desk reply`` must reach the customer as typed), so Slack sends a person or a group
named in it as the plain text that was typed, not as ``<@U…>``. The directory answers
from ``users.list`` and ``usergroups.list``, read whole (a page of 200 at a time) at most
once per ``ttl`` and shared by simultaneous askers: both are Tier 2 methods (about 20
calls a minute).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.single_flight import SingleFlight
from socialdesk.core.slack.escaping import cut, escape_text
from socialdesk.core.slack.pacing import retry_after

PAGE = 200  # what Slack recommends for users.list
MAX_PAGES = 500  # 100,000 members: past that, something is wrong with the cursor
# With no listing yet, a 429 is waited out (Retry-After) and the read goes on from the same
# cursor: a large workspace's first listing takes Slack's Tier 2 pace, about 20 pages (4,000
# members) a minute. The command answers through response_url meanwhile (valid 30 minutes).
MAX_PATIENCE_SECONDS = 600.0


class DirectoryUnavailable(DeskError):
    """Slack would not list its members or groups just now (said to the agent as it is)."""


@dataclass(frozen=True, slots=True)
class _Listing:
    names: dict[str, frozenset[str]]  # lower-cased name -> ids
    read_at: float


def _index(entries: list[tuple[str, list[str]]]) -> dict[str, frozenset[str]]:
    names: dict[str, set[str]] = {}
    for entry_id, aliases in entries:
        for alias in aliases:
            alias = alias.strip().lower()
            if alias:
                names.setdefault(alias, set()).add(entry_id)
    return {alias: frozenset(ids) for alias, ids in names.items()}


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, *, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._listings: dict[str, _Listing] = {}
        self._reads: SingleFlight[str, _Listing] = SingleFlight()

    async def users_named(self, name: str) -> frozenset[str]:
        """Ids of the active people whose username, display name or full name is ``name``
        (a leading ``@`` and case ignored); several when the name is ambiguous."""
        return (await self._listing("users", self._read_users)).names.get(_plain(name), frozenset())

    async def groups_named(self, name: str) -> frozenset[str]:
        """Ids of the enabled user groups whose handle or name is ``name``."""
        return (await self._listing("groups", self._read_groups)).names.get(_plain(name), frozenset())

    async def one_user(self, name: str) -> str:
        """The one person called ``name``; a clear refusal when nobody or several are."""
        return _one(await self.users_named(name), name, "person")

    async def one_user_or_group(self, name: str) -> str:
        """The one person, else the one user group, called ``name``."""
        users = await self.users_named(name)
        if users:
            return _one(users, name, "person")
        return _one(await self.groups_named(name), name, "person or user group")

    async def _listing(self, kind: str, read: Callable[[], Awaitable[_Listing]]) -> _Listing:
        listing = self._listings.get(kind)
        if listing is not None and self._clock() - listing.read_at < self._ttl:
            return listing
        try:
            listing = await self._reads.call(kind, read)
        except SlackApiError as exc:
            stale = self._listings.get(kind)
            if stale is not None:  # an old answer beats none while Slack says to wait
                return stale
            error = exc.response.get("error") if exc.response is not None else None
            if error == "missing_scope":
                needed = "users:read" if kind == "users" else "usergroups:read"
                raise DirectoryUnavailable(
                    f"The desk's Slack app lacks the {needed} scope to find names; use the Slack id "
                    f"(`{'U' if kind == 'users' else 'S'}…`) instead, or add the scope "
                    "(`socialdesk slack manifest`).") from None
            raise DirectoryUnavailable(
                f"Slack would not list its {'members' if kind == 'users' else 'user groups'} just now ({error}); "
                f"try again in a minute, or use the Slack id (`{'U' if kind == 'users' else 'S'}…`) instead.") from None
        self._listings[kind] = listing
        return listing

    async def _call(self, kind: str, method: Callable[..., Awaitable[Any]], **arguments: Any) -> Any:
        """One Web API call; a 429 is waited out when there is no earlier listing to answer from."""
        waited = 0.0
        while True:
            try:
                return await method(**arguments)
            except SlackApiError as exc:
                wait = retry_after(exc)
                if wait is None or kind in self._listings or waited + wait > MAX_PATIENCE_SECONDS:
                    raise
                await asyncio.sleep(wait)
                waited += wait

    async def _read_users(self) -> _Listing:
        entries: list[tuple[str, list[str]]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._call("users", self._client.users_list, limit=PAGE, cursor=cursor)
            for member in page.get("members") or []:
                if member.get("deleted") or member.get("is_bot") or member.get("id") == "USLACKBOT":
                    continue
                profile: dict[str, Any] = member.get("profile") or {}
                entries.append((str(member["id"]), [str(member.get(k) or "") for k in ("name", "real_name")]
                                + [str(profile.get(k) or "") for k in ("display_name", "display_name_normalized",
                                                                     "real_name_normalized")]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return _Listing(_index(entries), self._clock())

    async def _read_groups(self) -> _Listing:
        page = await self._call("groups", self._client.usergroups_list)  # disabled groups are left out
        entries = [(str(g["id"]), [str(g.get("handle") or ""), str(g.get("name") or "")])
                   for g in page.get("usergroups") or []]
        return _Listing(_index(entries), self._clock())


def _plain(name: str) -> str:
    return name.strip().removeprefix("@").lower()


def _one(ids: frozenset[str], name: str, what: str) -> str:
    shown = escape_text(cut(name.strip(), 80))
    if not ids:
        raise DeskError(f"No {what} in this workspace is called {shown}: check the spelling, or use their "
                        "Slack id (`U…`, in their profile under ⋮ › Copy member ID).")
    if len(ids) > 1:
        listed = ", ".join(mention(i) for i in sorted(ids)[:10])
        raise DeskError(f"{len(ids)} are called {shown} ({listed}); use the Slack id (`U…`) of the one you mean.")
    return next(iter(ids))


def mention(entry_id: str) -> str:
    """A person (``U…``/``W…``) or a user group (``S…``) as Slack shows it in a message."""
    return f"<!subteam^{entry_id}>" if entry_id.startswith("S") else f"<@{entry_id}>"
