"""The wheel builds from this checkout and installs in a clean virtualenv, as `pip install socialdesk[...]` does.

Offline: the wheel is built without build isolation (setuptools comes from the test
extra) and installed with ``--no-index`` from the wheelhouse ``make wheelhouse`` fills
(``.ci/run`` does it first). Without a wheelhouse the test is skipped locally and fails
under ``CI=true``. Slow (a virtualenv and a full install): ``-m "not install"`` leaves it out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import socialdesk

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.install


def dependency_wheels(into: Path) -> Path:
    """The wheelhouse's dependency wheels (never an older socialdesk wheel), linked into ``into``."""
    path = Path(os.environ.get("SOCIALDESK_WHEELHOUSE", REPO / "build" / "wheelhouse"))
    wheels = [w for w in path.glob("*.whl") if not w.name.startswith("socialdesk-")]
    if not wheels:
        message = f"no wheelhouse at {path}: run `make wheelhouse` first"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    into.mkdir()
    for wheel in wheels:
        (into / wheel.name).symlink_to(wheel)
    return into


def run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=900,
                            env=env)
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_installs_and_runs_in_a_clean_virtualenv(tmp_path: Path) -> None:
    wheels = dependency_wheels(tmp_path / "dependencies")
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, REPO, cwd=tmp_path)
    [wheel] = dist.glob("socialdesk-*.whl")
    assert wheel.name.startswith(f"socialdesk-{socialdesk.__version__}-py3-none-any")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALDESK_", "PIP_", "PYTHON"))}
    environ["PIP_CONFIG_FILE"] = os.devnull  # this machine's pip settings must not decide what installs
    run(python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", dist, "--find-links", wheels,
        "--constraint", REPO / "constraints.txt", "socialdesk[digest]", cwd=tmp_path, env=environ)

    # The installed command, outside the checkout: packaged migrations, config, manifest.
    socialdesk_cli = env_dir / "bin" / "socialdesk"
    config = tmp_path / "plugins.toml"
    config.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "desk.db"}"\n'
                      'channel = "C0123456789"\n\n[plugins.digest]\nenabled = true\n\n'
                      '[plugins.slack]\nenabled = true\n', encoding="utf-8")
    version = run(socialdesk_cli, "--version", cwd=tmp_path, env=environ)
    assert version.stdout.strip() == f"socialdesk {socialdesk.__version__}"
    run(socialdesk_cli, "db", "upgrade", "--config", config, cwd=tmp_path, env=environ)
    environ.update(SLACK_BOT_TOKEN="xoxb-1-unused", SLACK_APP_TOKEN="xapp-1-unused")
    check = run(socialdesk_cli, "check", "--config", config, cwd=tmp_path, env=environ)
    assert check.stdout.startswith(f"{config}: OK")
    manifest = run(socialdesk_cli, "slack", "manifest", "--config", config, cwd=tmp_path, env=environ)
    assert "files:write" in manifest.stdout  # the digest is on
    where = run(python, "-c", "import socialdesk; print(socialdesk.__file__)", cwd=tmp_path, env=environ)
    assert str(env_dir) in where.stdout  # the installed copy, not this checkout
