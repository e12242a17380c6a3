"""The incident card's blocks: a stranger's words are escaped, the spike and progress shown."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

from socialdesk.core.incidents.service import IncidentSnapshot, IncidentView, ReplyProgress, Spike
from socialdesk.core.slack.incident_card import IncidentActions, build_incident_card, sparkline
from socialdesk.core.store.ticket_queries import AuthorSnapshot, TicketSummary
from tests.slack.test_card import details

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)


def view(*, tickets: int = 57, active: int = 57, title: str = "order never arrived",
         progress: ReplyProgress = ReplyProgress()) -> IncidentView:
    incident = IncidentSnapshot(7, "storm:x:1", title, "active", NOW - timedelta(minutes=3), NOW, "C1", "1.2",
                                NOW, NOW, 3)
    first = tuple(TicketSummary(dataclasses.replace(details().ticket, id=100 + n), AuthorSnapshot(n, "x", str(n), f"fan{n}<!here>", None,
                                                                       1, False, None), None)
                  for n in range(min(tickets, 10)))
    return IncidentView(incident, Spike(tickets, tickets - 2, (1, 0, 20, 36), NOW - timedelta(minutes=3), NOW),
                        tickets, active, ("x",), 2, first, progress)


def test_sparkline_scales_to_the_busiest_minute() -> None:
    assert sparkline((0, 1, 4, 8)) == " ▁▄█"
    assert sparkline(()) == ""


def test_a_strangers_title_cannot_ping_or_format() -> None:
    card = build_incident_card(view(), masked_title="<!channel> *everyone* refund @here now", now=NOW)
    dumped = json.dumps(card.blocks_json())
    assert "<!channel>" not in dumped and "<!here>" not in dumped
    assert "<!channel>" not in card.text
    assert "&lt;!" in dumped  # shown as typed, never parsed


def test_the_card_shows_the_spike_the_first_ten_conversations_and_the_rest_counted() -> None:
    card = build_incident_card(view(progress=ReplyProgress(sent=40, pending=15, failed=2)), masked_title="x",
                               now=NOW)
    dumped = json.dumps(card.blocks_json(), ensure_ascii=False)
    assert "*57* mentions from *55* people" in dumped
    assert "…and 47 more" in dumped and "#100" in dumped and "#109" in dumped and "#110" not in dumped
    assert "*40* sent · *15* pending · *2* failed or uncertain" in dumped
    actions = [e["action_id"] for b in card.blocks_json() if b["type"] == "actions" for e in b["elements"]]
    assert actions == [IncidentActions.REPLY_ALL, IncidentActions.CLOSE_ALL]
    assert card.metadata == {"event_type": "socialdesk_incident_card", "event_payload": {"incident_id": 7}}


def test_a_closed_incident_has_no_buttons() -> None:
    card = build_incident_card(view(active=0), masked_title="x", now=NOW)
    assert not [b for b in card.blocks_json() if b["type"] == "actions"]
