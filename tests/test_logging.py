"""Logs are JSON lines and never carry a token or a password."""

from __future__ import annotations

import json
import logging

from socialdesk.core.logging_setup import JsonFormatter

SLACK_TOKEN = "xoxb-123456789012-abcdefghijklmnop"
PG_URL = "postgresql+asyncpg://desk:s3cr3t-pw@db.internal/desk"


def render(message: str, *args: object, **extra: object) -> dict:
    record = logging.LogRecord("socialdesk.test", logging.ERROR, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter().format(record))


def test_structured_fields_are_kept():
    entry = render("ticket %s", "claimed", ticket=42, actor="U1")
    assert entry["message"] == "ticket claimed"
    assert (entry["ticket"], entry["actor"], entry["level"]) == (42, "U1", "error")


def test_tokens_and_passwords_are_redacted_everywhere():
    line = JsonFormatter().format(logging.LogRecord(
        "x", logging.INFO, __file__, 1, "calling with %s", (SLACK_TOKEN,), None))
    assert SLACK_TOKEN not in line and "***" in line
    entry = render("connect failed", url=PG_URL, header=f"Bearer {'A' * 30}")
    dumped = json.dumps(entry)
    assert "s3cr3t-pw" not in dumped and "A" * 30 not in dumped
    assert "desk:***@db.internal" in entry["url"]


def test_exceptions_are_redacted_too():
    try:
        raise RuntimeError(f"auth failed for {SLACK_TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert SLACK_TOKEN not in line and "RuntimeError" in line


def test_what_client_libraries_log_of_slack_and_x_requests_is_redacted():
    # slack_sdk's retry handler names the response_url it posts to; tweepy's OAuth header.
    retry = ("A retry handler found: AsyncRateLimitErrorRetryHandler for POST "
             "https://hooks.slack.com/commands/T0001/5555/zzzSECRETkey - rate_limited")
    oauth = 'OAuth oauth_consumer_key="ck123", oauth_token="42-tok456", oauth_signature="c2ln%3D"'
    body = '{"token": "verif123abc", "response_url": "https://hooks.slack.com/actions/T1/3/keyABC"}'
    line = JsonFormatter().format(logging.LogRecord("slack_sdk.webhook", logging.INFO, __file__, 1,
                                                    "%s | %s | %s", (retry, oauth, body), None))
    for secret in ("zzzSECRETkey", "ck123", "42-tok456", "c2ln", "verif123abc", "keyABC"):
        assert secret not in line
    assert "rate_limited" in line and "hooks.slack.com/commands/T0001/5555/***" in line
