"""The digest is delivered through the Slack app: its tests share the Slack fixtures."""

from tests.slack.conftest import *  # noqa: F403
