"""The instance's data: accounts, statuses, mention notifications, idempotency keys.

Ids are what Mastodon mints: statuses carry a snowflake (milliseconds << 16 plus a
sequence, so they sort by time), notifications a growing integer. Both travel as strings.
Who may see a status follows Mastodon's visibility rules: ``public`` and ``unlisted``
everyone, ``private`` its author, the accounts it mentions and followers, ``direct``
only its author and the accounts it mentions.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from socialdesk.plugins.mastodon.status_length import MENTION, urls

VISIBILITIES = ("public", "unlisted", "private", "direct")
IDEMPOTENCY_SECONDS = 3600  # "Idempotency keys are stored for up to 1 hour"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Account:
    id: str
    username: str
    domain: str | None  # None: an account of this instance
    display_name: str
    created_at: float
    followers: int = 0
    bot: bool = False
    note: str = ""
    followers_of: set[str] = field(default_factory=set)  # ids of accounts following this one

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass
class Status:
    id: str
    account_id: str
    text: str
    visibility: str
    created_at: float
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    mention_ids: list[str] = field(default_factory=list)
    language: str | None = "en"
    spoiler_text: str = ""
    deleted: bool = False
    edited_at: float | None = None


@dataclass
class Notification:
    id: str
    recipient_id: str
    type: str
    account_id: str
    status_id: str | None
    created_at: float


class Instance:
    """Everything the emulated server knows, on one clock."""

    def __init__(self, domain: str, clock: Callable[[], float], max_characters: int) -> None:
        self.domain = domain
        self.clock = clock
        self.max_characters = max_characters
        self.accounts: dict[str, Account] = {}
        self.statuses: dict[str, Status] = {}
        self.notifications: list[Notification] = []  # oldest first
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._next_account = 100_000
        self._next_notification = 1_000
        self._sequence = 0
        self.on_notification: list[Callable[[Notification], None]] = []
        self.oddities: dict[str, dict[str, Any]] = {}  # status id -> fields served as a faulty server would

    @property
    def origin(self) -> str:
        return f"https://{self.domain}"

    # --- accounts ----------------------------------------------------------------------------
    def add_account(self, username: str, domain: str | None = None, display_name: str | None = None, *,
                    followers: int = 0, bot: bool = False, note: str = "") -> Account:
        if self.find_account(username if domain is None else f"{username}@{domain}") is not None:
            raise ValueError(f"@{username}{'@' + domain if domain else ''} exists already")
        self._next_account += 1
        account = Account(str(self._next_account), username, domain if domain != self.domain else None,
                          display_name if display_name is not None else username, self.clock(),
                          followers=followers, bot=bot, note=note)
        self.accounts[account.id] = account
        return account

    def find_account(self, acct: str) -> Account | None:
        acct = acct.lstrip("@").lower()
        username, _, domain = acct.partition("@")
        if domain == self.domain:
            domain = ""
        for account in self.accounts.values():
            if account.username.lower() == username and (account.domain or "").lower() == domain:
                return account
        return None

    def account_url(self, account: Account) -> str:
        return f"https://{account.domain or self.domain}/@{account.username}"

    # --- statuses ----------------------------------------------------------------------------
    def _mint_status_id(self) -> str:
        self._sequence = (self._sequence + 1) % 65_536
        return str((int(self.clock() * 1000) << 16) + self._sequence)

    def post(self, author: Account, text: str, *, visibility: str = "public", in_reply_to_id: str | None = None,
             spoiler_text: str = "", language: str | None = "en") -> Status:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}")
        parent = self.statuses.get(in_reply_to_id) if in_reply_to_id else None
        mentioned: list[str] = []
        for match in MENTION.finditer(text):
            found = self.find_account(match.group(0))
            if found is not None and found.id not in mentioned:
                mentioned.append(found.id)
        status = Status(self._mint_status_id(), author.id, text, visibility, self.clock(), in_reply_to_id,
                        parent.account_id if parent else None, mentioned, language, spoiler_text)
        self.statuses[status.id] = status
        for account_id in mentioned:
            recipient = self.accounts[account_id]
            if account_id != author.id and recipient.domain is None:  # only local accounts are notified here
                self._notify(recipient, "mention", author, status)
        return status

    def _notify(self, recipient: Account, kind: str, sender: Account, status: Status | None) -> Notification:
        self._next_notification += 1
        note = Notification(str(self._next_notification), recipient.id, kind, sender.id,
                            status.id if status else None, self.clock())
        self.notifications.append(note)
        for listener in list(self.on_notification):
            listener(note)
        return note

    def idempotent(self, account: Account, key: str) -> Status | None:
        """The status an earlier request with this key created, if the key is still remembered."""
        remembered = self._idempotency.get((account.id, key))
        if remembered is None or self.clock() - remembered[1] > IDEMPOTENCY_SECONDS:
            return None
        return self.statuses.get(remembered[0])

    def remember(self, account: Account, key: str, status: Status) -> None:
        self._idempotency[(account.id, key)] = (status.id, self.clock())

    def live(self, status_id: str | None) -> Status | None:
        status = self.statuses.get(status_id or "")
        return status if status is not None and not status.deleted else None

    def visible_to(self, status: Status, viewer: Account | None) -> bool:
        if status.visibility in ("public", "unlisted"):
            return True
        if viewer is None:
            return False
        if viewer.id == status.account_id or viewer.id in status.mention_ids:
            return True
        return status.visibility == "private" and viewer.id in self.accounts[status.account_id].followers_of

    def root_of(self, status: Status) -> Status:
        seen = {status.id}
        while status.in_reply_to_id and (parent := self.statuses.get(status.in_reply_to_id)) is not None:
            if parent.id in seen:
                break
            seen.add(parent.id)
            status = parent
        return status

    def ancestors(self, status: Status, viewer: Account | None) -> list[Status]:
        chain: list[Status] = []
        current = status
        while current.in_reply_to_id and (parent := self.live(current.in_reply_to_id)) is not None:
            if not self.visible_to(parent, viewer) or parent in chain:
                break
            chain.append(parent)
            current = parent
        return list(reversed(chain))

    def descendants(self, status: Status, viewer: Account | None) -> list[Status]:
        found: list[Status] = []
        frontier = [status.id]
        while frontier:
            parent = frontier.pop(0)
            children = sorted((s for s in self.statuses.values() if s.in_reply_to_id == parent and not s.deleted),
                              key=lambda s: int(s.id))
            for child in children:
                if self.visible_to(child, viewer):
                    found.append(child)
                    frontier.append(child.id)
        return found

    # --- rendering ---------------------------------------------------------------------------
    def content_html(self, status: Status) -> str:
        """The status text as Mastodon renders it: escaped, links and mentions as anchors, <p>/<br />."""
        paragraphs = [p for p in status.text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        return "".join(f"<p>{self._linkify(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)

    def _linkify(self, text: str) -> str:
        out: list[str] = []
        position = 0
        for start, end in urls(text):
            out.append(self._mentions_html(text[position:start]))
            link = text[start:end]
            out.append(f'<a href="{html.escape(link)}" target="_blank" rel="nofollow noopener noreferrer">'
                       f"{html.escape(link)}</a>")
            position = end
        out.append(self._mentions_html(text[position:]))
        return "".join(out)

    def _mentions_html(self, text: str) -> str:
        out: list[str] = []
        position = 0
        for match in MENTION.finditer(text):
            account = self.find_account(match.group(0))
            if account is None:
                continue
            out.append(html.escape(text[position:match.start()]))
            out.append(f'<span class="h-card" translate="no"><a href="{html.escape(self.account_url(account))}" '
                       f'class="u-url mention">@<span>{html.escape(account.username)}</span></a></span>')
            position = match.end()
        out.append(html.escape(text[position:]))
        return "".join(out)

    def account_json(self, account: Account) -> dict[str, Any]:
        url = self.account_url(account)
        statuses = sum(1 for s in self.statuses.values() if s.account_id == account.id and not s.deleted)
        avatar = f"{self.origin}/avatars/original/missing.png"
        return {
            "id": account.id, "username": account.username, "acct": account.acct, "url": url,
            "uri": url.replace("/@", "/users/"), "display_name": account.display_name,
            "note": f"<p>{html.escape(account.note)}</p>" if account.note else "",
            "avatar": avatar, "avatar_static": avatar, "header": f"{self.origin}/headers/original/missing.png",
            "header_static": f"{self.origin}/headers/original/missing.png", "locked": False, "fields": [],
            "emojis": [], "bot": account.bot, "group": False, "discoverable": True, "indexable": True,
            "noindex": False, "created_at": iso(account.created_at - account.created_at % 86_400),
            "last_status_at": None, "statuses_count": statuses, "followers_count": account.followers,
            "following_count": 0,
        }

    def status_json(self, status: Status) -> dict[str, Any]:
        author = self.accounts[status.account_id]
        url = f"{self.account_url(author)}/{status.id}"
        mentions = [{"id": a.id, "username": a.username, "acct": a.acct, "url": self.account_url(a)}
                    for a in (self.accounts[i] for i in status.mention_ids)]
        replies = sum(1 for s in self.statuses.values() if s.in_reply_to_id == status.id and not s.deleted)
        return {
            "id": status.id, "uri": f"https://{author.domain or self.domain}/users/{author.username}/statuses/"
                                    f"{status.id}",
            "url": url, "created_at": iso(status.created_at), "account": self.account_json(author),
            "content": self.content_html(status), "visibility": status.visibility, "sensitive": False,
            "spoiler_text": status.spoiler_text, "media_attachments": [], "application": None,
            "mentions": mentions, "tags": [], "emojis": [], "reblogs_count": 0, "favourites_count": 0,
            "replies_count": replies, "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id, "reblog": None, "poll": None, "card": None,
            "language": status.language, "text": None, "edited_at": iso(status.edited_at) if status.edited_at else None, "quote": None,
            "favourited": False, "reblogged": False, "muted": False, "bookmarked": False, "pinned": False,
            "filtered": [],
            **self.oddities.get(status.id, {}),
        }

    def notification_json(self, note: Notification) -> dict[str, Any]:
        status = self.live(note.status_id)
        return {"id": note.id, "type": note.type, "group_key": f"ungrouped-{note.id}",
                "created_at": iso(note.created_at), "account": self.account_json(self.accounts[note.account_id]),
                "status": self.status_json(status) if status else None}
