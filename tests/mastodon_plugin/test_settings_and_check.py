"""[plugins.mastodon] is validated with messages that name the key and the fix; the token comes only
from the environment and never reaches logs or errors; `check --online` says what the token can do."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from socialdesk.cli import main
from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.secrets import MissingSecret
from socialdesk.plugins.mastodon.plugin import socialdesk_start_listeners
from socialdesk.sandbox.mastodon import MastodonEmulator
from tests.mastodon_plugin.conftest import DANA, TOKEN_ENV, catch_up_once
from tests.conftest import sqlite_upgrade


def problems(table: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as raised:
        parse_config({"plugins": {"mastodon": {"enabled": True, **table}}}, discover_plugins())
    return raised.value.lines()


def test_mastodon_is_a_builtin_that_is_off_until_enabled() -> None:
    catalog = discover_plugins()
    entry = catalog.get("mastodon")
    assert entry is not None and entry.source == "builtin" and entry.enabled_by_default is False
    config = parse_config({}, catalog)
    assert "mastodon" not in config.enabled and config.settings("mastodon") is None  # not even loaded


@pytest.mark.parametrize(("table", "expected"), [
    ({"api_base": "http://mastodon.example"},
     "plugins.mastodon.api_base: must use https; plain http is allowed only for 127.0.0.1 or localhost"),
    ({"api_base": "https://mastodon.social/api/v1"}, "plugins.mastodon.api_base: must be the instance's address alone"),
    ({"api_base": "mastodon.social"}, "plugins.mastodon.api_base: must be an http(s) URL such as https://mastodon.social"),
    ({"access_token_env": "token"}, "plugins.mastodon.access_token_env: must be the NAME of an environment variable"),
    ({"catch_up_interval": 5}, "plugins.mastodon.catch_up_interval: must be from 30 to 86400 seconds (got 5)"),
    ({"page_size": 200}, "plugins.mastodon.page_size: must be from 1 to 80 notifications per page"),
    ({"max_visibility": "everyone"}, "plugins.mastodon.max_visibility"),
    ({"streeming": False}, "plugins.mastodon.streeming: unknown key"),
])
def test_bad_settings_name_the_key_and_the_fix(table: dict, expected: str) -> None:  # type: ignore[type-arg]
    assert any(expected in line for line in problems(table)), problems(table)


def test_a_token_pasted_into_the_file_is_refused() -> None:
    token = "ZA7xQ9kLmN3pR5tV8wY1bC4dF6gH0jK2-Uq_e8sT5wX"  # Mastodon's shape: 43 URL-safe characters
    lines = problems({"access_token_env": token})
    assert any("plugins.mastodon.access_token_env: this value looks like a Mastodon access token" in line
               for line in lines), lines
    assert not any(token in line for line in lines)


async def test_start_up_says_which_key_is_missing(make_masto_desk, monkeypatch):
    desk = await make_masto_desk(api_base=None)
    with pytest.raises(DeskError, match=r'plugins.mastodon.api_base is not set: write your instance\'s address'):
        await socialdesk_start_listeners(desk)
    monkeypatch.delenv(TOKEN_ENV)
    other = await make_masto_desk()
    with pytest.raises(MissingSecret, match=TOKEN_ENV):
        await socialdesk_start_listeners(other)


async def test_the_token_never_reaches_logs(desk, masto, masto_token, caplog):
    caplog.set_level(logging.DEBUG)
    masto.post_as(DANA, "@acme hello")
    await catch_up_once(desk)
    masto.revoke_token(masto_token)
    await catch_up_once(desk)
    assert masto_token not in caplog.text
    assert masto_token not in repr(await __import__(
        "socialdesk.plugins.mastodon.runtime", fromlist=["runtime_for"]).runtime_for(desk).connection())


def write_config(tmp_path: Path, api_base: str) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "d.db"}"\n\n'
                    f'[plugins.mastodon]\nenabled = true\napi_base = "{api_base}"\n', encoding="utf-8")
    sqlite_upgrade(tmp_path / "d.db")  # `check` refuses an un-migrated database, as `run` does
    return path


async def test_check_online_says_which_account_and_what_it_may_do(masto, masto_token, tmp_path, capsys):
    config = write_config(tmp_path, masto.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"mastodon: account @acme (id {masto.brand['id']}), token from {TOKEN_ENV}" in out
    assert "statuses up to 500 characters" in out
    assert "may post replies (write:statuses)" in out and "reading @acme's mentions" in out
    assert masto_token not in out + err


async def test_check_online_names_missing_scopes(clock, tmp_path, monkeypatch, capsys):
    async with MastodonEmulator(clock=lambda: clock().timestamp(), brand_scopes=("read:accounts",)) as masto:
        monkeypatch.setenv(TOKEN_ENV, masto.brand_token)
        config = write_config(tmp_path, masto.base_url)
        code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert "the token lacks write:statuses (to post replies)" in err
    assert "the token lacks read:notifications (to read mentions)" in err


async def test_check_online_reports_a_refused_token(masto, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, "not-a-token")
    config = write_config(tmp_path, masto.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert f"Mastodon refused the access token in {TOKEN_ENV} (401 (The access token is invalid))" in err
    assert "not-a-token" not in err
