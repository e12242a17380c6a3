"""Annotated field types shared by the desk's and plugins' settings models.

Each validator's message names what is wrong *and* the fix; ``socialdesk check`` prints
it after the file and key path.
"""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"must be the NAME of an environment variable in capitals, such as SLACK_BOT_TOKEN (got {value!r})"
        )
    return value


def _slack_user(value: str) -> str:
    if not _SLACK_USER.match(value):
        raise ValueError(
            f"must be a Slack user id such as U012AB3CD (got {value!r}); "
            "copy it from the user's profile, 'Copy member ID'"
        )
    return value


def _slack_group(value: str) -> str:
    if not _SLACK_GROUP.match(value):
        raise ValueError(
            f"must be a Slack user group id such as S0614TZR7 (got {value!r}); "
            "find it with usergroups.list or in the group's URL"
        )
    return value


def _slack_channel(value: str) -> str:
    if not _SLACK_CHANNEL.match(value):
        raise ValueError(
            f"must be a Slack channel id such as C0123ABCDEF, not a name (got {value!r}); "
            "copy it from the channel's details"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None
    return value


EnvVarName = Annotated[str, AfterValidator(_env_name)]
SlackUserId = Annotated[str, AfterValidator(_slack_user)]
SlackGroupId = Annotated[str, AfterValidator(_slack_group)]
SlackChannelId = Annotated[str, AfterValidator(_slack_channel)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]


def _priority(value: int) -> int:
    if not 1 <= value <= 4:
        raise ValueError(f"must be a priority from 1 (most urgent) to 4 (least urgent) (got {value})")
    return value


Priority = Annotated[int, AfterValidator(_priority)]


def _lookback_minutes(value: int) -> int:
    if not 0 <= value <= 7 * 24 * 60:
        raise ValueError(f"must be from 0 (only new mentions) to 10080 minutes, seven days (got {value})")
    return value


def _request_timeout(value: float) -> float:
    if not 5 <= value <= 300:
        raise ValueError(f"must be from 5 to 300 seconds (got {value})")
    return value


# A polling platform's first poll: how far back it reads before the desk existed.
LookbackMinutes = Annotated[int, AfterValidator(_lookback_minutes)]
# How long a platform request may take before a reply becomes uncertain.
RequestTimeoutSeconds = Annotated[float, AfterValidator(_request_timeout)]
