"""The Slack emulator: Web API, Socket Mode, response URLs and a driver that plays Slack's part.

Start one with ``async with SlackEmulator() as slack:``; point slack_sdk at
``slack.api_url`` and use ``slack.driver(...)`` to send the app what Slack would.
"""

from socialdesk.sandbox.slack.blockkit import validate_message_blocks, validate_view
from socialdesk.sandbox.slack.driver import Delivery, SlackDriver
from socialdesk.sandbox.slack.emulator import SlackEmulator
from socialdesk.sandbox.slack.files import UploadedFile
from socialdesk.sandbox.slack.modals import View
from socialdesk.sandbox.slack.ratelimit import RateLimits
from socialdesk.sandbox.slack.signing import signature, signed_headers
from socialdesk.sandbox.slack.socket_mode import Ack
from socialdesk.sandbox.slack.state import Credentials
from socialdesk.sandbox.slack.timeline import Ephemeral, Message, MessageVersion, TimelineCaps
from socialdesk.sandbox.slack.workspace import (
    DEMO_CHANNELS,
    DEMO_USERGROUPS,
    DEMO_USERS,
    BotIdentity,
    SlackChannel,
    SlackUser,
    Team,
    UserGroup,
    Workspace,
)

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_USERGROUPS",
    "DEMO_USERS",
    "Ack",
    "BotIdentity",
    "Credentials",
    "Delivery",
    "Ephemeral",
    "Message",
    "MessageVersion",
    "RateLimits",
    "SlackChannel",
    "SlackDriver",
    "SlackEmulator",
    "SlackUser",
    "Team",
    "TimelineCaps",
    "UploadedFile",
    "UserGroup",
    "View",
    "Workspace",
    "signature",
    "signed_headers",
    "validate_message_blocks",
    "validate_view",
]
