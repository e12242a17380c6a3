"""Who and what exists in the emulated Slack workspace: team, bot, users, channels, user groups.

IDs follow the shapes in Slack's API description (``U...``, ``C...``, ``S...``, ``T...``,
``B...``) so that answers validate against the vendored spec and the desk's config
validators accept them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    is_admin: bool = False
    email: str | None = None
    tz: str = "UTC"
    deleted: bool = False


@dataclass(frozen=True)
class SlackChannel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    # None: every workspace user (and the bot) is a member, like a busy public channel.
    members: frozenset[str] | None = None
    bot_is_member: bool = True


@dataclass(frozen=True)
class UserGroup:
    id: str
    handle: str
    name: str
    members: tuple[str, ...] = ()
    disabled: bool = False


@dataclass(frozen=True)
class BotIdentity:
    """The app installed in the workspace, as auth.test and message objects show it."""

    user_id: str = "U0DESKBOT1"
    bot_id: str = "B0DESKBOT1"
    app_id: str = "A0SOCIALDSK"
    name: str = "socialdesk"


@dataclass(frozen=True)
class Team:
    id: str = "T0SANDBOX1"
    name: str = "Sandbox"
    domain: str = "sandbox"


DEMO_USERS: tuple[SlackUser, ...] = (
    SlackUser("U0AGENT001", "alice", "Alice Agent", email="alice@sandbox.test"),
    SlackUser("U0AGENT002", "bob", "Bob Responder", email="bob@sandbox.test"),
    SlackUser("U0AGENT003", "dana", "Dana Weekend", email="dana@sandbox.test"),
    SlackUser("U0LEAD0001", "carol", "Carol Lead", is_admin=True, email="carol@sandbox.test"),
    SlackUser("U0OUTSIDE1", "erin", "Erin Marketing", email="erin@sandbox.test"),
)
DEMO_CHANNELS: tuple[SlackChannel, ...] = (
    SlackChannel("C0SOCIAL01", "social-desk"),
    SlackChannel("C0ESCALAT1", "desk-escalations"),
    SlackChannel("C0GENERAL1", "general"),
)
DEMO_USERGROUPS: tuple[UserGroup, ...] = (
    UserGroup("S0ONCALL1", "desk-oncall", "Desk on-call", ("U0AGENT001", "U0AGENT002")),
    UserGroup("S0LEADS01", "desk-leads", "Desk leads", ("U0LEAD0001",)),
)


@dataclass
class Workspace:
    team: Team = field(default_factory=Team)
    bot: BotIdentity = field(default_factory=BotIdentity)
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, SlackChannel] = field(default_factory=dict)
    usergroups: dict[str, UserGroup] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        team: Team | None = None,
        bot: BotIdentity | None = None,
        users: Iterable[SlackUser] | None = None,
        channels: Iterable[SlackChannel] | None = None,
        usergroups: Iterable[UserGroup] | None = None,
    ) -> Workspace:
        """A workspace from the given parts; any part left out gets the demo defaults."""
        bot = bot or BotIdentity()
        people = {u.id: u for u in (DEMO_USERS if users is None else users)}
        # The bot is a workspace member too: users.info on it must work, as on Slack.
        people.setdefault(bot.user_id, SlackUser(bot.user_id, bot.name, bot.name, is_bot=True))
        return cls(
            team=team or Team(),
            bot=bot,
            users=people,
            channels={c.id: c for c in (DEMO_CHANNELS if channels is None else channels)},
            usergroups={g.id: g for g in (DEMO_USERGROUPS if usergroups is None else usergroups)},
        )

    def find_channel(self, ref: str) -> SlackChannel | None:
        """A channel by id, or by name with or without '#', as chat.postMessage accepts."""
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)

    def dm_channel(self, user_id: str) -> SlackChannel:
        """The bot's direct-message channel with ``user_id``, created on first use like Slack's IMs."""
        dm_id = "D" + user_id[1:].rjust(9, "0")
        channel = self.channels.get(dm_id)
        if channel is None:
            channel = SlackChannel(dm_id, user_id, is_private=True, members=frozenset({user_id, self.bot.user_id}))
            self.channels[dm_id] = channel
        return channel

    def is_member(self, channel: SlackChannel, user_id: str) -> bool:
        if user_id == self.bot.user_id:
            return channel.bot_is_member
        if channel.members is None:
            return user_id in self.users
        return user_id in channel.members
