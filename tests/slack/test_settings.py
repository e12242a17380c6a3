"""``[plugins.slack]``: validation, the run flags, and ``socialdesk run --http`` end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from socialdesk.cli import main
from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.slack.settings import SlackSettings, slack_settings, with_run_overrides
from socialdesk.sandbox.slack import SlackEmulator
from tests.slack.conftest import ALICE, CHANNEL, ENV, eventually


def config(**slack: object) -> dict:
    return {"desk": {"channel": CHANNEL}, "plugins": {"slack": {"enabled": True, **slack}}}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw, discover_plugins())
    return raised.value.lines()


def test_defaults() -> None:
    s = SlackSettings()
    assert (s.mode, s.bot_token_env, s.app_token_env, s.signing_secret_env) == \
        ("socket", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
    assert (s.api_url, s.command, s.http.host, s.http.port, s.http.path) == \
        ("https://slack.com/api/", "/desk", "0.0.0.0", 3000, "/slack/events")
    assert (s.rate.per_channel_per_second, s.rate.burst, s.rate.max_inline_wait_seconds) == (1.0, 3, 2.0)
    assert (s.oncall_priorities, s.macros, s.message_preview_chars) == ([1], {}, 1200)
    assert (s.request_timeout_seconds, s.permission_cache_seconds) == (10.0, 60.0)


def test_the_plugin_is_built_in_and_off_by_default() -> None:
    parsed = parse_config({}, discover_plugins())
    assert "slack" not in parsed.enabled and isinstance(slack_settings(parsed), SlackSettings)
    assert "slack" in parse_config(config(), discover_plugins()).enabled


@pytest.mark.parametrize(("raw", "expected"), [
    (config(bot_token="xoxb-1234567890-abcdefghij"), "plugins.toml: plugins.slack.bot_token: secrets are not read"),
    (config(bot_token_env="xoxb-1234567890-abcdefghij"), "this value looks like a Slack token"),
    (config(bot_token_env="slack token"), "plugins.slack.bot_token_env: must be the NAME of an environment variable"),
    (config(mode="webhook"), "plugins.slack.mode: Input should be 'socket' or 'http'"),
    (config(api_url="http://slack.example/api/"), "plugins.slack.api_url: must use https unless"),
    (config(api_url="ftp://x"), "plugins.slack.api_url: must be an http(s) URL"),
    (config(command="desk"), "plugins.slack.command: must be a slash command such as /desk"),
    (config(macros={"Hi There": "x"}), "macro name 'Hi There' must be lowercase"),
    (config(macros={"hi": "Hello {name}"}), "macro 'hi' uses unknown variable(s) {name}; known: {author}"),
    (config(oncall_priorities=[0]), "plugins.slack.oncall_priorities.0: must be a priority from 1"),
    (config(http={"port": 70000}), "plugins.slack.http.port: Input should be less than or equal to 65535"),
    (config(http={"path": "slack"}), "plugins.slack.http.path: must be an absolute URL path"),
    (config(rate={"burst": 0}), "plugins.slack.rate.burst: Input should be greater than or equal to 1"),
    (config(bot_token_evn="X"), "plugins.slack.bot_token_evn: unknown key; did you mean 'bot_token_env'?"),
])
def test_bad_settings_are_named(raw: dict, expected: str) -> None:
    assert any(expected in line for line in problems(raw)), problems(raw)


def test_api_url_gets_its_trailing_slash_and_loopback_may_be_plain_http() -> None:
    assert SlackSettings(api_url="http://127.0.0.1:8080/api").api_url == "http://127.0.0.1:8080/api/"


def test_run_flags() -> None:
    parsed = parse_config(config(), discover_plugins())
    assert with_run_overrides(parsed, http=False, port=None) is parsed
    http = slack_settings(with_run_overrides(parsed, http=True, port=8123))
    assert (http.mode, http.http.port) == ("http", 8123)
    assert slack_settings(parsed).mode == "socket"  # the file's settings are untouched
    with pytest.raises(DeskError, match="--port only applies with --http"):
        with_run_overrides(parsed, http=False, port=8123)
    off = parse_config({}, discover_plugins())
    with pytest.raises(DeskError, match=r"the slack plugin is not enabled: add \[plugins.slack\]"):
        with_run_overrides(off, http=True, port=None)


def test_cli_refuses_bad_port_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text('[plugins.slack]\nenabled = true\n')
    assert main(["--config", str(path), "run", "--port", "8080"]) == 1
    assert "--port only applies with --http" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--config", str(path), "run", "--http", "--port", "99999"])
    assert "must be a port number from 1 to 65535" in capsys.readouterr().err


async def test_a_missing_token_is_a_clear_start_up_error(start_desk, monkeypatch) -> None:
    desk = await start_desk("socket", start=False)
    monkeypatch.delenv(ENV["app"])
    with pytest.raises(DeskError, match=f"environment variable {ENV['app']} \\(named by plugins.slack.app_token_env\\)"
                                        " is not set"):
        await desk.app.hooks.start_services()


async def test_a_wrong_bot_token_is_a_clear_start_up_error(start_desk, monkeypatch) -> None:
    desk = await start_desk("http", start=False)
    monkeypatch.setenv(ENV["bot"], "xoxb-0000000000-not-the-sandbox-token")
    with pytest.raises(DeskError) as raised:
        await desk.app.hooks.start_services()
    message = str(raised.value)
    assert message.startswith(f"Slack refused the bot token in {ENV['bot']} (named by plugins.slack.bot_token_env)"
                              ": invalid_auth")
    assert "not-the-sandbox-token" not in message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_socialdesk_run_http_serves_slack_and_never_logs_a_token(tmp_path: Path) -> None:
    async with SlackEmulator() as slack:
        toml = tmp_path / "plugins.toml"
        toml.write_text(f"""
[desk]
database_url = "sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
channel = "{CHANNEL}"
agents = ["{ALICE}"]
log_level = "debug"

[plugins.slack]
enabled = true
api_url = "{slack.api_url}"
bot_token_env = "{ENV['bot']}"
signing_secret_env = "{ENV['secret']}"
http = {{ host = "127.0.0.1" }}
""")
        env = {**os.environ, ENV["bot"]: slack.bot_token, ENV["secret"]: slack.signing_secret}
        cli = [sys.executable, "-m", "socialdesk", "--config", str(toml)]
        upgrade = await asyncio.create_subprocess_exec(*cli, "db", "upgrade", env=env,
                                                       stdout=asyncio.subprocess.DEVNULL)
        assert await upgrade.wait() == 0
        port = _free_port()
        desk = await asyncio.create_subprocess_exec(*cli, "run", "--http", "--port", str(port), env=env,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            async def listening() -> bool:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    return False
                writer.close()
                return True

            await eventually(listening, timeout=20)
            delivery = await slack.driver(f"http://127.0.0.1:{port}/slack/events").slash_command(
                "/desk", "mine", user=ALICE, channel=CHANNEL)
            assert delivery.acked
            await eventually(lambda: slack.ephemerals(CHANNEL, ALICE))
            assert [e.text for e in slack.ephemerals(CHANNEL, ALICE)] == ["You hold no open tickets."]
        finally:
            desk.send_signal(signal.SIGTERM)
            _, stderr = await desk.communicate()
        assert desk.returncode == 0
        log = stderr.decode()
        assert "slack http mode listening" in log
        for secret in (slack.bot_token, slack.signing_secret, slack.app_token):
            assert secret not in log
