"""`socialdesk check` refuses what `socialdesk run` refuses, with the same lines, and nothing else on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import subprocess_cli, upgraded, write_config

SLACK_ON = '[plugins.slack]\nenabled = true\nbot_token_env = "T_SLACK_BOT"\napp_token_env = "T_SLACK_APP"\n'
SLACK_ENV = {"T_SLACK_BOT": "xoxb-test", "T_SLACK_APP": "xapp-test"}

CASES = {
    "slack without desk.channel": (
        SLACK_ON, SLACK_ENV,
        ["socialdesk: desk.channel is not set, so cards that match no route have nowhere to go: "
         'set desk.channel = "C..." in plugins.toml'],
    ),
    "slack without its app token": (
        'channel = "C0123456789"\n' + SLACK_ON, {"T_SLACK_BOT": "xoxb-test"},
        ["socialdesk: environment variable T_SLACK_APP (named by plugins.slack.app_token_env) is not set; "
         "export it before starting"],
    ),
    "digest without slack": (
        'channel = "C0123456789"\n[plugins.digest]\nenabled = true\n', {},
        ["socialdesk: plugins.digest: the digest is posted in Slack; enable [plugins.slack] too, "
         "or set plugins.digest.enabled = false"],
    ),
    "x without its variables": (
        '[plugins.x]\nenabled = true\nbearer_token_env = "T_X_BEARER"\nuser_access_token_env = "T_X_USER"\n',
        {"T_X_BEARER": "bearer"},
        ["socialdesk: environment variable T_X_USER (named by plugins.x.user_access_token_env) is not set; "
         "export it before starting"],
    ),
    "discord without its token": (
        '[plugins.discord]\nenabled = true\ntoken_env = "T_DISCORD"\nguilds = ["123456789012345678"]\n', {},
        ["socialdesk: environment variable T_DISCORD (named by plugins.discord.token_env) is not set; "
         "export it before starting"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_check_and_run_refuse_the_same_mistake_in_one_line(tmp_path: Path, case: str) -> None:
    body, env, expected = CASES[case]
    path = upgraded(write_config(tmp_path, body))
    check = subprocess_cli(tmp_path, "--config", path, "check", env=env)
    run = subprocess_cli(tmp_path, "--config", path, "run", env=env)
    for result in (check, run):
        assert result.returncode == 1
        assert result.stderr.splitlines() == expected  # no JSON log lines, no traceback
    assert check.stdout == run.stdout == ""


def test_a_missing_sqlite_file_is_refused_by_both_and_not_created(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    results = [subprocess_cli(tmp_path, "--config", path, command) for command in ("check", "run")]
    assert results[0].stderr == results[1].stderr
    assert results[0].stderr.splitlines() == [
        f"socialdesk: the database file {tmp_path / 'desk.db'} does not exist: run `socialdesk db upgrade` "
        "to create it, or fix desk.database_url"]
    assert not (tmp_path / "desk.db").exists()


def test_several_mistakes_are_one_line_each(tmp_path: Path) -> None:
    path = upgraded(write_config(tmp_path, SLACK_ON.replace('app_token_env = "T_SLACK_APP"\n', "")
                                 + "[plugins.digest]\nenabled = true\n"))
    result = subprocess_cli(tmp_path, "--config", path, "run", env={"T_SLACK_BOT": "xoxb-test"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'socialdesk: desk.channel is not set, so cards that match no route have nowhere to go: '
        'set desk.channel = "C..." in plugins.toml',
        "socialdesk: environment variable SLACK_APP_TOKEN (named by plugins.slack.app_token_env) is not set; "
        "export it before starting",
        "socialdesk: plugins.digest.channel: the digest needs a channel; set it, or desk.channel",
    ]
