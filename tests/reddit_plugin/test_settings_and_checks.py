"""Reddit settings and `check --online` against the Reddit emulator."""

from __future__ import annotations

import pytest

from socialdesk.core.config import parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.plugins.reddit.settings import USER_AGENT, RedditSettings


def config_error(raw: dict) -> str:
    with pytest.raises(DeskError) as caught:
        parse_config(raw, discover_plugins())
    return str(caught.value)


def test_bad_settings_name_the_key_and_the_fix():
    assert "keywords" in config_error({"plugins": {"reddit": {"subreddits": ["acme"]}}})
    assert "without r/" in config_error({"plugins": {"reddit": {"subreddits": ["acme corp"], "keywords": ["a"]}}})
    assert "username" in config_error({"plugins": {"reddit": {"refresh_token_env": "REDDIT_REFRESH_TOKEN"}}})
    assert "app_id" in config_error({"plugins": {"reddit": {"app_id": "my app"}}})


def test_the_user_agent_has_reddits_form():
    assert USER_AGENT.match(RedditSettings().user_agent("acme_support"))
    assert RedditSettings(developer="u/dev_team").user_agent("acme_support") == \
        "python:socialdesk:1.0 (by /u/dev_team)"


async def test_check_online_with_a_script_app(desk, reddit):
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "reddit"]
    assert check.problems == ()
    assert check.seen[0] == f"account u/acme_support via {reddit.base_url}"


async def test_check_online_with_a_web_apps_refresh_token(make_reddit_desk, reddit, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", reddit.web_app.client_id)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit.web_app.client_secret)
    monkeypatch.setenv("REDDIT_REFRESH_TOKEN", reddit.refresh_token)
    desk = await make_reddit_desk(refresh_token_env="REDDIT_REFRESH_TOKEN", username="acme_support")
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "reddit"]
    assert check.problems == () and check.seen[0].startswith("account u/acme_support")


async def test_check_online_names_refused_credentials(desk, monkeypatch):
    monkeypatch.setenv("REDDIT_PASSWORD", "wrong")
    (check,) = [c for c in await desk.hooks.check_online() if c.platform == "reddit"]
    assert check.problems and "password" in check.problems[0]
    assert all("wrong" not in line for line in check.seen + check.problems)
