"""Helpers for the storm tests: near-identical complaints from many people."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from socialdesk.core.mention import Mention
from tests.conftest import mention

T0 = datetime(2026, 11, 2, 8, 50, tzinfo=timezone.utc)
COMPLAINT = "@acme my order {n} never arrived and nobody answers the support chat, what is going on?"


def complaint(n: int, *, author: str | None = None, seconds: float | None = None) -> Mention:
    """Complaint number ``n`` from its own author (or ``author``), ``n`` seconds after T0."""
    who = author or f"a{n}"
    return mention(f"storm-{n}", text=COMPLAINT.format(n=40000 + n), author_id=who, handle=f"person{n}",
                   created_at=T0 + timedelta(seconds=n if seconds is None else seconds))
