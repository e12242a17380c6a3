"""Discourse settings and `check --online` against the forum emulator."""

from __future__ import annotations

import pytest

from socialdesk.core.config import parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import discover_plugins


def config_error(raw: dict) -> str:
    with pytest.raises(DeskError) as caught:
        parse_config(raw, discover_plugins())
    return str(caught.value)


def test_bad_settings_name_the_key_and_the_fix():
    assert "stale_after_minutes" in config_error({"plugins": {"discourse": {"stale_after_minutes": 60}}})
    message = config_error({"plugins": {"discourse": {"base_url": "http://forum.example.com"}}})
    assert "base_url" in message and "https" in message
    assert "support_group" in config_error({"plugins": {"discourse": {"support_group": "sup port"}}})


async def test_check_online_sees_the_forum_and_the_posting_user(desk, forum):
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "discourse"]
    assert check.problems == ()
    assert check.seen[0] == f"forum Acme Community at {forum.base_url}"
    assert check.seen[1] == "posting as @acme_support"


async def test_check_online_compares_the_sites_post_length(make_discourse_desk, forum):
    desk = await make_discourse_desk(max_post_length=5000)
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "discourse"]
    assert check.problems == ("the forum's max_post_length is 32000, plugins.discourse.max_post_length is 5000: "
                              "set it to 32000",)


async def test_check_online_names_a_refused_key(desk, monkeypatch):
    monkeypatch.setenv("DISCOURSE_API_KEY", "wrong")
    monkeypatch.delenv("DISCOURSE_WEBHOOK_SECRET")
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "discourse"]
    assert any("DISCOURSE_WEBHOOK_SECRET" in p for p in check.problems)
    assert any("403" in p and "API key" in p for p in check.problems)
