"""Durations and moments as agents read them on cards and in command answers."""

from __future__ import annotations

from datetime import datetime


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``: short and rounded down."""
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def slack_date(moment: datetime, *, with_date: bool = True) -> str:
    """A Slack date token: each reader sees ``moment`` in their own time zone.

    The fallback (shown by clients that cannot format it) is the UTC time.
    """
    tokens = "{date_short_pretty} at {time}" if with_date else "{time}"
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{tokens}|{fallback}>"
