"""[plugins.x] is validated with messages that name the key and the fix; tokens come only
from the environment and never reach logs or errors."""

from __future__ import annotations

import logging

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.secrets import MissingSecret
from socialdesk.plugins.x.plugin import socialdesk_start_listeners
from socialdesk.plugins.x.settings import XSettings
from tests.x_plugin.conftest import poll


def problems(table: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as raised:
        parse_config({"plugins": {"x": {"enabled": True, **table}}}, discover_plugins())
    return raised.value.lines()


def test_x_is_a_builtin_that_is_off_until_enabled() -> None:
    catalog = discover_plugins()
    entry = catalog.get("x")
    assert entry is not None and entry.source == "builtin" and entry.enabled_by_default is False
    config = parse_config({}, catalog)  # a desk without a [plugins.x] table validates...
    assert "x" not in config.enabled and config.settings("x") is None  # ...without loading the plugin
    assert isinstance(parse_config({"plugins": {"x": {"poll_interval": 60}}}, catalog).settings("x"), XSettings)
    assert parse_config({"plugins": {"x": {"enabled": True}}}, catalog).enabled[-1] == "x"


@pytest.mark.parametrize(("table", "expected"), [
    ({"poll_interval": 2}, "plugins.toml: plugins.x.poll_interval: must be at least 15 seconds (got 2)"),
    ({"poll_interval": 200_000}, "plugins.toml: plugins.x.poll_interval: must be at most 86400 seconds"),
    ({"max_results": 500}, "plugins.toml: plugins.x.max_results: must be from 10 to 100 posts per page (got 500)"),
    ({"search_query": "  "}, "plugins.toml: plugins.x.search_query: is empty; remove the key"),
    ({"api_base": "http://x-proxy.internal:8080"},
     "plugins.toml: plugins.x.api_base: must use https; plain http is allowed only for 127.0.0.1 or localhost"),
    ({"api_base": "not a url"}, "plugins.toml: plugins.x.api_base: must be an http(s) URL"),
    ({"bearer_token_env": "x_bearer"}, "plugins.toml: plugins.x.bearer_token_env: must be the NAME of an environment"),
    ({"user_access_token_env": "X_USER_TOKEN", "access_token_env": "X_TOKEN"},
     "plugins.toml: plugins.x: name one way of posting, not both: remove access_token_env"),
    ({"pol_interval": 60}, "plugins.toml: plugins.x.pol_interval: unknown key; did you mean 'poll_interval'?"),
    ({"first_poll_lookback_minutes": -1}, "plugins.toml: plugins.x.first_poll_lookback_minutes: must be from 0"),
])
def test_bad_settings_name_the_key_and_the_fix(table: dict, expected: str) -> None:  # type: ignore[type-arg]
    lines = problems(table)
    assert any(line.startswith(expected) for line in lines), lines


def test_a_token_written_into_the_file_is_refused_and_not_echoed() -> None:
    token = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
    lines = problems({"bearer_token": token})
    assert any(line.startswith("plugins.toml: plugins.x.bearer_token: secrets are not read from plugins.toml")
               for line in lines)
    assert token not in "\n".join(lines)
    lines = problems({"bearer_token_env": token})
    assert any("looks like an X bearer token" in line for line in lines) and token not in "\n".join(lines)


async def test_a_missing_variable_stops_start_up_naming_it(make_x_desk, monkeypatch):
    desk = await make_x_desk()
    monkeypatch.delenv("X_ACCESS_TOKEN_SECRET")
    with pytest.raises(MissingSecret, match=r"X_ACCESS_TOKEN_SECRET \(named by plugins.x.access_token_secret_env\)"):
        await socialdesk_start_listeners(desk)


async def test_renamed_variables_are_the_ones_read(make_x_desk, x, x_secrets, monkeypatch):
    # The default names hold values X refuses: reading them instead of the renamed ones fails.
    monkeypatch.setenv("ACME_X_READ", x_secrets["bearer"])
    monkeypatch.setenv("X_BEARER_TOKEN", "not-the-bearer-token")
    monkeypatch.setenv("ACME_X_KEY", x_secrets["consumer_key"])
    monkeypatch.setenv("X_CONSUMER_KEY", "not-the-consumer-key")
    desk = await make_x_desk(bearer_token_env="ACME_X_READ", consumer_key_env="ACME_X_KEY")
    await socialdesk_start_listeners(desk)  # verifies the posting credentials with X
    x.post_as("dana", "@acme read with the renamed token")
    report = await poll(desk)
    assert report.stopped is None
    (ticket,) = await desk.service.queue(platform="x")
    await desk.service.claim(ticket.id, Actor("U1"))
    await desk.service.reply(ticket.id, Actor("U1"), "Posted with the renamed key")
    await desk.outbox_runner().drain()
    assert [r["text"] for r in x.replies_by("acme")] == ["Posted with the renamed key"]


async def test_tokens_never_reach_the_logs(make_x_desk, x, x_secrets, caplog):
    caplog.set_level(logging.DEBUG)  # everything, tweepy's request logs included
    for user_token in (False, True):
        desk = await make_x_desk(**({"user_access_token_env": "X_USER_ACCESS_TOKEN"} if user_token else {}))
        await socialdesk_start_listeners(desk)
        x.post_as("dana", f"@acme hello {user_token}")
        await poll(desk)
        (ticket,) = [t for t in await desk.service.queue(platform="x") if t.assignee is None]
        await desk.service.claim(ticket.id, Actor("U1"))
        await desk.service.reply(ticket.id, Actor("U1"), f"Hi! ({user_token})")
        await desk.outbox_runner().drain()
    assert len(x.replies_by("acme")) == 2
    assert any(r.getMessage().startswith("Making API request: POST") for r in caplog.records)  # logged, cut short
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    for secret in x_secrets.values():
        leaks = [r for r in caplog.records if secret in r.getMessage() + repr(r.__dict__)]
        assert not leaks, (leaks[0].name, leaks[0].getMessage()[:300])
    assert "oauth_signature" not in text and "Bearer" not in text


async def test_refused_credentials_stop_start_up_naming_the_variables(make_x_desk, x, x_secrets):
    desk = await make_x_desk()
    x.revoke_credentials("acme")
    with pytest.raises(DeskError) as raised:
        await socialdesk_start_listeners(desk)
    message = str(raised.value)
    assert message.startswith("X refused the posting credentials (401")
    assert "X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET" in message
    assert not [s for s in x_secrets.values() if s in message]
    assert (await poll(desk)).stopped == "credentials refused"  # and the poller says so, without crashing
