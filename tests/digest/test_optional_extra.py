"""matplotlib is the optional `digest` extra: a desk without it runs, and enabling the
digest without it is refused by `socialdesk check` (and start-up) naming the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_check_equals_run import SLACK_ENV, SLACK_ON
from tests.test_cli import cli, upgraded, write_config

DIGEST_ON = '[plugins.digest]\nenabled = true\n'
REFUSAL = ("plugins.digest: needs the optional extra 'digest' (matplotlib not installed): "
           "pip install 'socialdesk[digest]', or set enabled = false")


@pytest.fixture
def without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the `digest` extra were not installed: importing matplotlib fails."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_check_names_the_missing_extra_when_the_digest_is_enabled(
        without_matplotlib: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "--config", write_config(tmp_path, DIGEST_ON), "check")
    assert code != 0 and out == ""
    assert err.splitlines() == [f"{tmp_path / 'plugins.toml'}: {REFUSAL}"], err


def test_a_desk_without_the_digest_needs_no_matplotlib(
        without_matplotlib: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "--config", upgraded(write_config(tmp_path)), "check")
    assert code == 0 and err == "" and "OK; enabled plugins:" in out and ", digest" not in out


def test_with_the_extra_installed_the_digest_is_accepted(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SLACK_ENV.items():  # the digest is posted in Slack: a desk that `run` would start
        monkeypatch.setenv(name, value)
    config = upgraded(write_config(tmp_path, 'channel = "C0123456789"\n' + SLACK_ON + DIGEST_ON))
    code, out, err = cli(capsys, "--config", config, "check")
    assert code == 0 and ", digest" in out, err


def test_starting_and_checking_a_desk_imports_no_heavy_library(tmp_path: Path) -> None:
    """scipy, matplotlib, datasketch and py3langid load when a feature first needs them; numpy is
    the learned triage model (a default plugin: plain arrays, about 15 MB) and loads with it."""
    probe = ("import sys; from socialdesk.cli import main; code = main(['--config', sys.argv[1], 'check']); "
             "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'datasketch', 'py3langid') "
             "if m in sys.modules))")
    config = write_config(tmp_path, DIGEST_ON)
    done = subprocess.run([sys.executable, "-c", probe, str(config)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "['numpy']", done.stdout + done.stderr
