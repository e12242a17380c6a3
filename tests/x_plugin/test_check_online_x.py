"""`socialdesk check --online` against the X emulator, through the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from socialdesk.cli import main
from tests.conftest import sqlite_upgrade


def write_config(tmp_path: Path, api_base: str) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "d.db"}"\n\n'
                    f'[plugins.x]\nenabled = true\napi_base = "{api_base}"\n', encoding="utf-8")
    # `check` refuses what `run` refuses, an un-migrated database included.
    sqlite_upgrade(tmp_path / "d.db")
    return path


async def test_check_online_says_who_posts_and_reads(sandbox, tmp_path, monkeypatch, capsys):
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, sandbox.x.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "x: posting as @acme" in out and "x: reading @acme's mentions" in out
    for secret in sandbox.environment().values():
        assert secret not in out + err


async def test_check_online_reports_refused_credentials(sandbox, tmp_path, monkeypatch, capsys):
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("X_ACCESS_TOKEN_SECRET", "wrong-secret")
    config = write_config(tmp_path, sandbox.x.base_url)
    code = await asyncio.to_thread(main, ["--config", str(config), "check", "--online"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert "x: problem: X refused the posting credentials" in err and "wrong-secret" not in err
