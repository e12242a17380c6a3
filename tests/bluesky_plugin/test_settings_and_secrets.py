"""[plugins.bluesky] is validated with messages that name the key and the fix; the handle and
app password come only from the environment and never reach logs, errors or the store."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from socialdesk.cli import main
from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.secrets import MissingSecret
from socialdesk.plugins.bluesky.plugin import socialdesk_start_listeners
from socialdesk.plugins.bluesky.settings import BlueskySettings
from tests.bluesky_plugin.conftest import BRAND, DANA, poll
from tests.conftest import sqlite_upgrade


def problems(table: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as raised:
        parse_config({"plugins": {"bluesky": {"enabled": True, **table}}}, discover_plugins())
    return raised.value.lines()


def test_bluesky_is_a_builtin_that_is_off_until_enabled() -> None:
    catalog = discover_plugins()
    entry = catalog.get("bluesky")
    assert entry is not None and entry.source == "builtin" and entry.enabled_by_default is False
    config = parse_config({}, catalog)
    assert "bluesky" not in config.enabled and config.settings("bluesky") is None  # not even loaded
    enabled = parse_config({"plugins": {"bluesky": {"enabled": True}}}, catalog)
    assert "bluesky" in enabled.enabled and enabled.settings("bluesky").xrpc_base == "https://bsky.social/xrpc"


@pytest.mark.parametrize(("table", "expected"), [
    ({"poll_interval": 2}, "plugins.toml: plugins.bluesky.poll_interval: must be from 10 seconds to 86400"),
    ({"page_size": 500}, "plugins.toml: plugins.bluesky.page_size: must be from 1 to 100 notifications per page"),
    ({"service": "http://pds.internal:2583"},
     "plugins.toml: plugins.bluesky.service: must use https; plain http is allowed only for 127.0.0.1 or localhost"),
    ({"service": "bsky.social"}, "plugins.toml: plugins.bluesky.service: must be an http(s) URL"),
    ({"service": "https://me:pw@bsky.social"}, "plugins.toml: plugins.bluesky.service: must not carry a user name"),
    ({"app_password_env": "my-password"}, "plugins.toml: plugins.bluesky.app_password_env: must be the NAME"),
    ({"pol_interval": 60}, "plugins.toml: plugins.bluesky.pol_interval: unknown key; did you mean 'poll_interval'?"),
    ({"first_poll_lookback_minutes": 20_000}, "plugins.toml: plugins.bluesky.first_poll_lookback_minutes: must be"),
])
def test_bad_settings_name_the_key_and_the_fix(table: dict, expected: str) -> None:  # type: ignore[type-arg]
    lines = problems(table)
    assert any(line.startswith(expected) for line in lines), lines


def test_an_app_password_written_into_the_file_is_refused_and_not_echoed() -> None:
    lines = problems({"app_password": "abcd-efgh-ijkl-mnop"})
    assert any("plugins.bluesky.app_password: secrets are not read from plugins.toml" in line for line in lines), lines
    assert "abcd-efgh-ijkl-mnop" not in "\n".join(lines)


def test_the_service_may_be_given_with_its_xrpc_path() -> None:
    settings = BlueskySettings(service="http://127.0.0.1:8123/xrpc/")
    assert settings.xrpc_base == "http://127.0.0.1:8123/xrpc"


async def test_a_missing_app_password_stops_start_up_naming_the_variable(make_bsky_desk, monkeypatch):
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    desk = await make_bsky_desk()
    with pytest.raises(MissingSecret, match="BLUESKY_APP_PASSWORD"):
        await socialdesk_start_listeners(desk)


async def test_the_app_password_and_session_tokens_never_reach_the_log(desk, bsky, caplog):
    caplog.set_level(logging.DEBUG)
    bsky.post_as(DANA, f"@{BRAND} hello")
    await poll(desk)
    bsky.expire_sessions()  # a second login, and its failure path, are logged too
    await poll(desk)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert bsky.brand_password not in logged
    assert "eyJ" not in logged  # no JWT (access or refresh)


def write_config(tmp_path: Path, service: str) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "d.db"}"\n\n'
                    f'[plugins.bluesky]\nenabled = true\nservice = "{service}"\n', encoding="utf-8")
    sqlite_upgrade(tmp_path / "d.db")  # `check` refuses an un-migrated database, as `run` does
    return path


async def test_check_online_says_which_account_and_what_it_can_do(sandbox, tmp_path, monkeypatch, capsys):
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, sandbox.bluesky.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    out, err = capsys.readouterr()
    assert code == 0, err
    brand = sandbox.bluesky.brand_handle
    assert f"bluesky: logged in as @{brand} ({sandbox.bluesky.brand_did}, 25,000 followers)" in out
    assert "bluesky: reading notifications (mentions, replies, quotes): allowed" in out
    assert "bluesky: posting replies: allowed (session scope com.atproto.appPass" in out
    assert sandbox.bluesky.brand_password not in out + err


async def test_check_online_reports_a_refused_app_password_and_what_is_missing(sandbox, tmp_path, monkeypatch,
                                                                             capsys):
    monkeypatch.setenv("BLUESKY_HANDLE", sandbox.bluesky.brand_handle)
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wxyz-wxyz-wxyz-wxyz")
    config = write_config(tmp_path, sandbox.bluesky.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert "bluesky: problem: Bluesky refused the login (401 AuthenticationRequired" in err
    assert "BLUESKY_HANDLE, BLUESKY_APP_PASSWORD" in err and "wxyz-wxyz-wxyz-wxyz" not in err

    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    _out, err = capsys.readouterr()
    assert code == 1 and "BLUESKY_APP_PASSWORD" in err
