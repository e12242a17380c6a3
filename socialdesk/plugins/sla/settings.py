"""``[plugins.sla]``: per-priority targets, business hours, holidays, reminder share.

Targets are business time: hours and minutes that count only inside ``business_hours``
(unless the target's calendar is ``"24x7"``). Days are refused on purpose: "1d" of
business time could mean 8 hours or 24. Everything is validated at start-up and by
``socialdesk check``; each error names the key and shows the expected form.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from socialdesk.core.business_time import WEEKDAYS, BusinessCalendar, Span
from socialdesk.core.config import StrictModel

TimerKind = Literal["first_response", "resolution"]
TIMER_KINDS: tuple[TimerKind, ...] = ("first_response", "resolution")
PRIORITIES = ("1", "2", "3", "4")

_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_CLOSED = ("", "closed")


@lru_cache(maxsize=64)  # a handful of targets, read for every new ticket's clocks
def parse_duration(text: str) -> int:
    """``"45m"``, ``"4h"``, ``"1h30m"``, ``"90s"`` -> seconds."""
    match = _DURATION.match(text.lower())
    seconds = 0
    if match and any(match.groups()):
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ValueError(
            f"must be a duration of business time such as \"45m\", \"4h\" or \"1h30m\" (got {text!r}); "
            "days are not accepted because a business day is not 24 hours: write \"16h\" for two 8-hour days"
        )
    return seconds


def parse_hours(text: str) -> list[Span]:
    """``"09:00-17:00"``, ``"09:00-12:00, 13:00-17:00"``, ``"00:00-24:00"`` or ``"closed"``."""
    if text.strip().lower() in _CLOSED:
        return []
    spans: list[Span] = []
    for part in text.split(","):
        match = _HOURS.match(part.strip())
        if not match:
            raise ValueError(f"must look like \"09:00-17:00\" (several ranges: \"09:00-12:00, 13:00-17:00\"; "
                             f"no hours: \"closed\"), got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{part.strip()!r} is not a time range of one day (00:00 to 24:00)")
        start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts; ranges cannot cross midnight "
                             "(write \"22:00-24:00\" on one day and \"00:00-06:00\" on the next)")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"the ranges in {text!r} overlap")
    return spans


class TargetSettings(StrictModel):
    """One priority's targets: ``{ first_response = "1h", resolution = "8h", calendar = "24x7" }``."""

    first_response: str
    resolution: str
    calendar: Literal["business", "24x7"] = "business"

    @field_validator("first_response", "resolution")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    def seconds(self, kind: TimerKind) -> int:
        return parse_duration(self.first_response if kind == "first_response" else self.resolution)


DEFAULT_TARGETS: dict[str, TargetSettings] = {
    "1": TargetSettings(first_response="1h", resolution="8h", calendar="24x7"),
    "2": TargetSettings(first_response="2h", resolution="16h"),
    "3": TargetSettings(first_response="4h", resolution="24h"),
    "4": TargetSettings(first_response="8h", resolution="40h"),
}
DEFAULT_HOURS = {day: "09:00-17:00" for day in WEEKDAYS[:5]}


class SlaSettings(StrictModel):
    """``[plugins.sla]``. The time zone is ``desk.timezone``."""

    targets: dict[str, TargetSettings] = Field(default_factory=dict)
    business_hours: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_HOURS))
    holidays: list[date] = []
    reminder_at: float = Field(0.75, gt=0, lt=1)
    breach_mentions_oncall: bool = True

    @field_validator("targets")
    @classmethod
    def _priorities(cls, value: dict[str, TargetSettings]) -> dict[str, TargetSettings]:
        for key in value:
            if key not in PRIORITIES:
                raise ValueError(f"target keys are priorities \"1\" to \"4\" (got {key!r}); "
                                 "write targets = { \"1\" = { first_response = \"1h\", resolution = \"8h\" } }")
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        for day, hours in value.items():
            if day.lower() not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}")
            try:
                parse_hours(hours)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        if not any(parse_hours(h) for h in value.values()):
            raise ValueError("no opening hours at all; give at least one weekday hours such as \"09:00-17:00\" "
                             "(or use calendar = \"24x7\" on every target)")
        return value

    def target(self, priority: int) -> TargetSettings:
        key = str(min(max(priority, 1), 4))
        return self.targets.get(key) or DEFAULT_TARGETS[key]


@dataclass(frozen=True)
class SlaPolicy:
    """The validated settings turned into calendars: what a timer of a priority gets."""

    settings: SlaSettings
    business: BusinessCalendar
    always: BusinessCalendar

    @classmethod
    def build(cls, settings: SlaSettings, timezone: str) -> SlaPolicy:
        weekly = {WEEKDAYS.index(day.lower()): parse_hours(hours) for day, hours in settings.business_hours.items()}
        return cls(settings, BusinessCalendar(timezone, weekly, settings.holidays), BusinessCalendar.always_open())

    @property
    def reminder_at(self) -> float:
        return self.settings.reminder_at

    def target_seconds(self, kind: TimerKind, priority: int) -> int:
        return self.settings.target(priority).seconds(kind)

    def calendar(self, priority: int) -> BusinessCalendar:
        return self.always if self.settings.target(priority).calendar == "24x7" else self.business

    def calendar_of_target(self, kind: TimerKind, seconds: int, fallback_priority: int) -> BusinessCalendar:
        """The calendar a running timer was planned with, found from its target.

        A timer stores its target, not its priority: the least urgent priority with that
        target is taken (follow-ups only make tickets more urgent); when no priority has it
        any more (the settings changed), the current priority's calendar.
        """
        for priority in (4, 3, 2, 1):
            if self.target_seconds(kind, priority) == seconds:
                return self.calendar(priority)
        return self.calendar(fallback_priority)

