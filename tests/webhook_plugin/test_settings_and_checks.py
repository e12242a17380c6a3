"""Bad configuration names the key and the fix; `check --online` says what each source can do."""

from __future__ import annotations

import pytest

from socialdesk.core.config import parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import discover_plugins


def config_error(raw: dict) -> str:
    with pytest.raises(DeskError) as caught:
        parse_config(raw, discover_plugins())
    return str(caught.value)


def test_bad_webhook_and_push_settings_name_the_key_and_the_fix():
    message = config_error({"plugins": {"webhook": {"enabled": True, "sources": {"Shop Reviews": {
        "secret_env": "WEBHOOK_SECRET"}}}}})
    assert "sources" in message and "lower-case" in message
    message = config_error({"plugins": {"webhook": {"enabled": True, "sources": {"shop": {
        "secret_env": "WEBHOOK_SECRET", "callback_url": "http://shop.example.com/answers"}}}}})
    assert "callback_url" in message and "must use https" in message
    message = config_error({"plugins": {"webhook": {"enabled": True, "sources": {"shop": {
        "secret_env": "whsec_abc"}}}}})
    assert "secret_env" in message and "NAME of an environment variable" in message
    message = config_error({"plugins": {"push": {"max_body_bytes": 10}}})
    assert "max_body_bytes" in message and "1024" in message


async def test_check_online_reports_each_source(make_webhook_desk, monkeypatch):
    desk = await make_webhook_desk()
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "webhook"]
    assert check.problems == ()
    assert check.seen[0].startswith("source shop: receives at /push/webhook/shop, answers to http://127.0.0.1:")
    monkeypatch.setenv("WEBHOOK_SHOP_SECRET", "not-a-secret")
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "webhook"]
    assert "WEBHOOK_SHOP_SECRET" in check.problems[0] and "whsec_" in check.problems[0]
    # The secret's value never appears in what check prints.
    assert all("not-a-secret" not in line for line in check.seen + check.problems)
