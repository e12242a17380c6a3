"""The `socialdesk` command: clear one-line messages, non-zero exits, never a traceback for a user mistake."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import socialdesk
from socialdesk.cli import main
from socialdesk.core.store.migrate import head_revision

REPO = Path(__file__).resolve().parent.parent
SLACK_TOKEN = "xo" + "xb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def write_config(tmp_path: Path, body: str = "", *, db: str = "desk.db", name: str = "plugins.toml") -> Path:
    """A plugins.toml whose SQLite database lives in ``tmp_path``."""
    path = tmp_path / name
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / db}"\n{body}', encoding="utf-8")
    return path


def upgraded(path: Path) -> Path:
    """``path``'s database migrated to the newest schema (what `run` and `check` require)."""
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run ``socialdesk argv`` in-process: (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def subprocess_cli(tmp_path: Path, *argv: str | Path, env: dict[str, str] | None = None,
                   ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALDESK_")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "socialdesk", *map(str, argv)], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=60)


# --- version and usage ---------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"socialdesk {socialdesk.__version__}"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["chek"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'chek'" in err
    assert "Traceback" not in err


# --- check ---------------------------------------------------------------------------------


def test_check_valid_config_prints_ok_and_the_enabled_plugins(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    path = upgraded(write_config(tmp_path, "[plugins.event_log]\nenabled = false\n"))
    capsys.readouterr()
    code, out, err = cli(capsys, "--config", path, "check")
    assert code == 0
    assert err == ""
    assert out.strip() == f"{path}: OK; enabled plugins: reply_delivery, reply_rules, keyword_triage, sentiment, language, noise, author_weight, learned_triage, sla, storms, pii, suggestions, retention, push"


def test_check_reports_every_problem_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, """\
databse_url = "sqlite+aiosqlite:///other.db"
agents = ["alice"]
channel = "#support"

[desk.outbox]
workers = 0

[plugins.reply_rules]
enabled = "yes"

[plugins.keyword_triag]
enabled = true
""")
    code, out, err = cli(capsys, "--config", path, "check")
    assert code != 0
    assert out == ""
    lines = err.splitlines()
    assert sorted(line.split(": ")[1] for line in lines) == sorted([
        "desk.databse_url", "desk.agents.0", "desk.channel", "desk.outbox.workers",
        "plugins.reply_rules.enabled", "plugins.keyword_triag",
    ])
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert f"{path}: desk.databse_url: unknown key; did you mean 'database_url'?" in lines


def test_check_never_prints_a_literal_secret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, f'channel = "{SLACK_TOKEN}"\n\n[plugins.reply_rules]\nbot_token = "{SLACK_TOKEN}"\n')
    code, out, err = cli(capsys, "--config", path, "check")
    assert code != 0
    assert SLACK_TOKEN not in out + err
    assert f"{path}: plugins.reply_rules.bot_token: secrets are not read from plugins.toml" in err
    assert f"{path}: desk.channel: this value looks like a Slack token" in err


def test_check_invalid_toml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text("[desk\n", encoding="utf-8")
    code, _out, err = cli(capsys, "--config", path, "check")
    assert code != 0
    assert err.startswith(f"{path}: is not valid TOML: ")
    assert "line 1" in err
    assert len(err.splitlines()) == 1


def test_check_uses_socialdesk_config_from_the_environment(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = upgraded(write_config(tmp_path, name="custom.toml"))
    monkeypatch.setenv("SOCIALDESK_CONFIG", str(path))
    capsys.readouterr()
    code, out, _err = cli(capsys, "check")
    assert code == 0
    assert out.startswith(f"{path}: OK")


@pytest.mark.parametrize("command", [["check"], ["plugins"], ["db", "current"], ["report", "--json"]])
def test_config_is_accepted_after_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                              command: list[str]) -> None:
    path = upgraded(write_config(tmp_path, name="elsewhere.toml"))
    capsys.readouterr()
    code, out, err = cli(capsys, *command, "--config", path)
    assert (code, err) == (0, "")
    assert out


def test_config_after_the_command_wins_over_the_one_before(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    path = upgraded(write_config(tmp_path, name="real.toml"))
    capsys.readouterr()
    code, out, _err = cli(capsys, "--config", tmp_path / "missing.toml", "check", "--config", path)
    assert code == 0
    assert out.startswith(f"{path}: OK")


def test_check_missing_file_in_a_subprocess(tmp_path: Path) -> None:
    result = subprocess_cli(tmp_path, "check")  # no plugins.toml in tmp_path
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "plugins.toml: file not found; create it (see README, Configuration) or pass --config PATH"
    )


def test_check_bad_config_in_a_subprocess(tmp_path: Path) -> None:
    write_config(tmp_path, 'timezone = "Berlin"\n\n[plugins]\nreply_rules = 3\n')
    result = subprocess_cli(tmp_path, "check")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "plugins.toml: desk.timezone: unknown time zone 'Berlin'; use an IANA name such as 'Europe/Berlin' or 'UTC'",
        "plugins.toml: plugins.reply_rules: must be a table: write [plugins.reply_rules] on its own line",
    ]


def test_version_in_a_subprocess(tmp_path: Path) -> None:
    result = subprocess_cli(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"socialdesk {socialdesk.__version__}"


# --- plugins -------------------------------------------------------------------------------


def test_plugins_lists_each_plugin_with_its_state_and_hooks(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    path = write_config(tmp_path, "[plugins.event_log]\nenabled = false\n")
    code, out, _err = cli(capsys, "--config", path, "plugins")
    assert code == 0
    blocks: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("    "):
            blocks[current].append(line.strip())
        else:
            current = line.split()[0]
            blocks[current] = [line]
    assert set(blocks) >= {"reply_delivery", "reply_rules", "keyword_triage", "event_log"}
    assert blocks["reply_rules"][0] == "reply_rules  [enabled, builtin]"
    assert blocks["keyword_triage"][0] == "keyword_triage  [enabled, builtin]"
    assert blocks["event_log"][0] == "event_log  [disabled, builtin]"
    assert {"socialdesk_validate_reply", "socialdesk_settings_model"} <= set(blocks["reply_rules"][1:])
    assert "socialdesk_triage" in blocks["keyword_triage"][1:]
    assert "socialdesk_outbox_performers" in blocks["reply_delivery"][1:]


def test_plugins_with_a_bad_config_reports_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, "[plugins.event_log]\nenabled = 1\n")
    code, out, err = cli(capsys, "--config", path, "plugins")
    assert code != 0
    assert out == ""
    assert err.strip() == f"{path}: plugins.event_log.enabled: must be true or false (got 1)"


# --- db ------------------------------------------------------------------------------------


def test_db_upgrade_then_current(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code, out, err = cli(capsys, "--config", path, "db", "current")
    assert (code, out) == (1, "")
    assert err.strip() == (f"socialdesk: the database file {tmp_path / 'desk.db'} does not exist: run "
                           "`socialdesk db upgrade` to create it, or fix desk.database_url")
    assert not (tmp_path / "desk.db").exists()  # asking never creates an empty database
    code, out, _err = cli(capsys, "--config", path, "db", "upgrade")
    assert code == 0
    assert out.strip() == f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}: schema at revision {head_revision()}"
    assert (tmp_path / "desk.db").exists()
    assert cli(capsys, "--config", path, "db", "current") == (0, f"{head_revision()}\n", "")
    # Upgrading an up-to-date database is a no-op, not an error.
    assert cli(capsys, "--config", path, "db", "upgrade")[0] == 0


def test_db_url_from_a_missing_variable(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESK_TEST_DB_URL", raising=False)
    path = tmp_path / "plugins.toml"
    path.write_text('[desk]\ndatabase_url_env = "DESK_TEST_DB_URL"\n', encoding="utf-8")
    code, out, err = cli(capsys, "--config", path, "db", "current")
    assert code != 0
    assert out == ""
    assert err.strip() == ("socialdesk: environment variable DESK_TEST_DB_URL (named by desk.database_url_env) "
                           "is not set; export it before starting")


def test_db_url_from_the_variable(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_TEST_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'from-env.db'}")
    path = tmp_path / "plugins.toml"
    path.write_text('[desk]\ndatabase_url_env = "DESK_TEST_DB_URL"\n', encoding="utf-8")
    assert cli(capsys, "--config", path, "db", "upgrade")[0] == 0
    assert (tmp_path / "from-env.db").exists()


def test_db_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    # In a subprocess: after a failed connect aiosqlite's worker thread may outlive the event loop.
    path = write_config(tmp_path, db="no-such-dir/desk.db")
    result = subprocess_cli(tmp_path, "--config", path, "db", "upgrade")
    code, out, err = result.returncode, result.stdout, result.stderr
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"socialdesk: cannot connect to the database sqlite+aiosqlite:///{tmp_path}/no-such-dir")
    assert "check desk.database_url" in err


# --- run -----------------------------------------------------------------------------------


def test_run_refuses_a_database_that_was_never_upgraded(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    sqlite3.connect(tmp_path / "desk.db").close()  # a database, but never migrated
    result = subprocess_cli(tmp_path, "--config", path, "run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [last] = result.stderr.strip().splitlines()  # one line: no log lines before it
    assert last.startswith("socialdesk: the database ")
    assert "schema revision none" in last
    assert last.endswith("run `socialdesk db upgrade`")


def test_run_with_a_bad_config_starts_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, 'channel = "#support"\n')
    code, out, err = cli(capsys, "--config", path, "run")
    assert code != 0
    assert err.startswith(f"{path}: desk.channel: must be a Slack channel id")
    assert not (tmp_path / "desk.db").exists()
