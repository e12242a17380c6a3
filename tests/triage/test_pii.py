"""The ``pii`` plugin: what counts as personal data (and what must not), its settings, the
triage tag and reason, the card line per platform, and personal data kept out of the logs."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.logging_setup import JsonFormatter
from socialdesk.core.mention import Mention
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.slack.masking import apply_spans
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.pii import (
    CARD,
    DEFAULT_SUGGESTIONS,
    EMAIL,
    FIELD_LABEL,
    GENERIC_SUGGESTION,
    PHONE,
    PRIVATE_NOTE,
    PRIVATE_REASON,
    PUBLIC_REASON,
    TAG,
    PiiSettings,
    find_spans,
)
from tests.conftest import mention

SETTINGS = PiiSettings(phone_regions=["US", "GB", "FR", "DE"])


def found(text: str, settings: PiiSettings = SETTINGS) -> list[tuple[str, str]]:
    return [(s.label, text[s.start:s.end]) for s in find_spans(text, settings)]


# --- what is personal data --------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("write to jo.doe+orders@example.co.uk.", [(EMAIL, "jo.doe+orders@example.co.uk")]),
    ("JOSÉ@correo.es tiene el pedido", [(EMAIL, "JOSÉ@correo.es")]),
    ("call me on +44 20 7946 0958 please", [(PHONE, "+44 20 7946 0958")]),
    ("+1-202-555-0143", [(PHONE, "+1-202-555-0143")]),
    ("whatsapp +33 6 12 34 56 78", [(PHONE, "+33 6 12 34 56 78")]),
    ("mobile +49 151 23456789", [(PHONE, "+49 151 23456789")]),
    ("+12125551234", [(PHONE, "+12125551234")]),
    ("my number is (415) 555-2671", [(PHONE, "(415) 555-2671")]),  # national, US
    ("ring 020 7946 0958 after lunch", [(PHONE, "020 7946 0958")]),  # national, GB
    ("06 12 34 56 78", [(PHONE, "06 12 34 56 78")]),  # national, FR
    ("call me: 2125551234", [(PHONE, "2125551234")]),  # a bare run, but the customer says it is a phone
    ("text me 2125551234", [(PHONE, "2125551234")]),
    ("card 4111 1111 1111 1111 exp 12/27", [(CARD, "4111 1111 1111 1111")]),
    ("4111-1111-1111-1111", [(CARD, "4111-1111-1111-1111")]),
    ("5500005555555559 is my mastercard", [(CARD, "5500005555555559")]),
    ("amex 3782 822463 10005", [(CARD, "3782 822463 10005")]),
])
def test_personal_data_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "order #123456789 never arrived",
    "order 2125551234 never arrived",  # a valid US number as digits, but said to be an order
    "order number 4155552671",
    "invoice INV-2024-000123",
    "ref INV-4155552671",
    "on 2024-01-15 at 10:30",
    "15/01/2024 10:30:45",
    "12.03.2024",
    "between 9:00-17:00 CET",
    "at 14:30 on 12/05",
    "ticket 1234-5678",
    "version 1.2.3.4, build 20241115",
    "ip 192.168.1.1",
    "tracking 1Z999AA10123456784",
    "I paid $1,234,567.89",
    "2024 2025 2026",
    "id 1234567890123456789",
    "4111111111111112",  # fails the Luhn check
    "1234 5678 9012 3456",
    "order 12345678901234",
    "user@localhost",
    "@handle on x, #support",
    "a@b.c",
    "",
])
def test_ordinary_numbers_and_words_are_left_alone(text: str) -> None:
    assert found(text) == []


def test_each_kind_can_be_switched_off_and_extra_patterns_added() -> None:
    text = "jo@example.com, +44 20 7946 0958, 4111 1111 1111 1111, customer CUST-123456"
    none = PiiSettings(emails=False, phones=False, card_numbers=False)
    assert found(text, none) == []
    extra = PiiSettings(emails=False, phones=False, card_numbers=False,
                        patterns=[{"label": "customer number", "regex": r"\bCUST-\d{6}\b"}])  # type: ignore[list-item]
    assert found(text, extra) == [("customer number", "CUST-123456")]
    assert apply_spans(text, find_spans(text, PiiSettings())).text == (
        "[email hidden], [phone hidden], [card number hidden], customer CUST-123456")


def test_national_formats_follow_the_configured_regions() -> None:
    assert found("ring 020 7946 0958", PiiSettings(phone_regions=["us"])) == []
    assert found("ring 020 7946 0958", PiiSettings(phone_regions=["gb"])) == [(PHONE, "020 7946 0958")]
    # international numbers are found whatever the regions
    assert found("+49 151 23456789", PiiSettings(phone_regions=["US"])) == [(PHONE, "+49 151 23456789")]


@pytest.mark.parametrize("settings, expected", [
    ({"phone_regions": ["XX"]}, "plugins.toml: plugins.pii.phone_regions: unknown region code(s) XX"),
    ({"patterns": [{"label": "x", "regex": "("}]}, "plugins.toml: plugins.pii.patterns.0.regex:"),
    ({"patterns": [{"label": "x", "regex": "a*"}]}, "matches the empty string"),
    ({"patterns": [{"regex": "a"}]}, "plugins.toml: plugins.pii.patterns.0.label:"),
    ({"emails": True, "email": False}, "plugins.toml: plugins.pii.email: unknown key"),
])
def test_bad_settings_name_the_key(settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"plugins": {"pii": settings}}, discover_plugins())
    assert any(expected in line for line in info.value.lines()), info.value.lines()


def test_pii_is_on_by_default() -> None:
    assert "pii" in parse_config({}, discover_plugins()).enabled


# --- triage and the card line ----------------------------------------------------------------


def private(m: Mention) -> Mention:
    return dataclasses.replace(m, public=False)


async def test_a_mention_with_personal_data_is_tagged_with_the_reason(make_app) -> None:  # type: ignore[no-untyped-def]
    app = await make_app()
    flagged = await app.service.get_ticket(
        (await app.service.ingest(mention(text="refund to jo@example.com please"))).ticket_id)
    assert TAG in flagged.tags and PUBLIC_REASON in flagged.priority_reasons
    assert "refund" in flagged.tags  # other triage still applies; pii changes no priority
    plain = await app.service.get_ticket((await app.service.ingest(mention(text="order 2125551234 late"))).ticket_id)
    assert TAG not in plain.tags and PUBLIC_REASON not in plain.priority_reasons
    dm = await app.service.get_ticket(
        (await app.service.ingest(private(mention(text="my card is 4111 1111 1111 1111")))).ticket_id)
    assert TAG in dm.tags and dm.priority_reasons == (PRIVATE_REASON,)


async def test_a_follow_up_with_personal_data_flags_the_ticket(make_app) -> None:  # type: ignore[no-untyped-def]
    app = await make_app()
    first = await app.service.ingest(mention(text="where is my parcel?"))
    conversation = (await app.service.get_ticket(first.ticket_id)).conversation_id
    assert TAG not in (await app.service.get_ticket(first.ticket_id)).tags
    await app.service.ingest(mention(text="call me on +1 202 555 0143", conversation_id=conversation))
    ticket = await app.service.get_ticket(first.ticket_id)
    assert TAG in ticket.tags and PUBLIC_REASON in ticket.priority_reasons


def snapshot(platform: str, *, tags: tuple[str, ...] = (TAG,), reasons: tuple[str, ...] = (PUBLIC_REASON,)
             ) -> TicketSnapshot:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    return TicketSnapshot(
        id=1, platform=platform, conversation_id="c", status="open", priority=3, category="question", tags=tags,
        sentiment=None, language=None, spam_suspected=False, priority_reasons=reasons, suggested_macro=None,
        assignee=None, author_id=None, first_response_due=None, resolution_due=None, first_response_at=None,
        snoozed_until=None, closed_at=None, close_reason=None, card_channel=None, card_ts=None, created_at=at,
        updated_at=at, version=1)


async def test_the_card_line_suggests_the_platforms_private_channel(make_app) -> None:  # type: ignore[no-untyped-def]
    app = await make_app()

    async def line(ticket: TicketSnapshot) -> list[str]:
        return [f.value for f in await app.hooks.card_fields(ticket) if f.label == FIELD_LABEL]

    assert await line(snapshot("x")) == [DEFAULT_SUGGESTIONS["x"]]
    assert "Direct Message" in DEFAULT_SUGGESTIONS["x"]
    assert await line(snapshot("discord")) == [DEFAULT_SUGGESTIONS["discord"]]
    assert "private thread" in DEFAULT_SUGGESTIONS["discord"]
    assert await line(snapshot("reddit")) == [GENERIC_SUGGESTION]
    assert await line(snapshot("x", reasons=(PRIVATE_REASON,))) == [PRIVATE_NOTE]
    assert await line(snapshot("x", tags=("refund",))) == []

    custom = await make_app({"plugins": {"pii": {"suggestions": {"reddit": "Offer a Reddit chat."}}}})
    assert [f.value for f in await custom.hooks.card_fields(snapshot("reddit"))
            if f.label == FIELD_LABEL] == ["Offer a Reddit chat."]


# --- logs ---------------------------------------------------------------------------------------


async def test_event_log_lines_carry_no_personal_data(make_app, caplog) -> None:  # type: ignore[no-untyped-def]
    app = await make_app({"plugins": {"keyword_triage": {"rules": [
        {"name": "contact", "regex": [r"\S+@\S+"], "tags": ["contact"]}]}}})
    caplog.set_level(logging.INFO, logger="socialdesk.events")
    created = await app.service.ingest(mention(text="please mail jo.doe@example.com"))
    reasons = (await app.service.get_ticket(created.ticket_id)).priority_reasons
    assert "keyword 'jo.doe@example.com'" in reasons  # the rule quotes what it matched...
    await app.hooks.ticket_event(TicketEvent(EventKind.CLOSED, created.ticket_id, "U1",
                                             datetime.now(timezone.utc), {"reason": "sent to +44 20 7946 0958"}))
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "socialdesk.events"]
    assert len(lines) == 2
    logged = "\n".join(lines)
    assert "jo.doe" not in logged and "7946" not in logged  # ...but the log line does not
    entries = [json.loads(line) for line in lines]
    assert "keyword '[email hidden]'" in entries[0]["detail_reasons"]
    assert entries[1]["detail_reason"] == "sent to [phone hidden]"
