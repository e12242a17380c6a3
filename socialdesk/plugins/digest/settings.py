"""``[plugins.digest]``: when the daily digest is posted, where, and what it covers."""

from __future__ import annotations

import re
from datetime import time, timedelta

from pydantic import Field, field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import SlackChannelId
from socialdesk.core.reports.period import amount

PLUGIN_NAME = "digest"
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class DigestSettings(StrictModel):
    time: str = "09:00"  # HH:MM in desk.timezone
    channel: SlackChannelId | None = None  # default: desk.channel
    period: str = "1d"  # what the numbers cover, ending at the digest's time
    chart_days: int = Field(7, ge=1, le=31)  # days shown on the chart, ending the day before

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"must be a 24-hour time HH:MM such as \"09:00\" (got {value!r})")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if amount(value) is None:
            raise ValueError(f"must be an amount such as \"1d\", \"24h\" or \"1w\" (got {value!r})")
        return value

    @property
    def at(self) -> time:
        hours, minutes = self.time.split(":")
        return time(int(hours), int(minutes))

    @property
    def span(self) -> timedelta:
        span = amount(self.period)
        assert span is not None  # validated above
        return span
