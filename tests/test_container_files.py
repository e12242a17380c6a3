"""Dockerfile, compose.yaml and compose.plugins.toml agree with each other and with the package.

No image is built here (no container daemon in the test environment): the files are read
and checked against what the desk would do with them: the entry point exists, the ports
the containers publish are the ones the desk listens on, the health check asks the status
server, migrations run once before the replicas start, and every secret comes from the
environment.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialdesk.cli import _parser
from socialdesk.core.config import load_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.slack.settings import slack_settings

REPO = Path(__file__).resolve().parent.parent
CONFIG_IN_CONTAINER = "/etc/socialdesk/plugins.toml"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def instruction(name: str) -> list[str]:
    return [args for op, args in dockerfile() if op == name]


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))


def desk_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if s.get("command", [""])[0] == "run"}


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port."""
    return {int(p.split(":")[1]): int(p.split(":")[0]) for p in service.get("ports", [])}


def flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


@pytest.fixture(scope="module")
def compose_config() -> Any:
    return load_config(str(REPO / "compose.plugins.toml"), discover_plugins())


def test_the_entry_point_is_the_packaged_command() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["socialdesk"] == "socialdesk.cli:main"
    assert instruction("ENTRYPOINT") == ['["socialdesk"]']
    [cmd] = instruction("CMD")
    assert cmd.startswith('["run"')
    # Every command the image and compose run parses with the real CLI.
    commands = [yaml.safe_load(cmd), *(s["command"] for s in compose()["services"].values() if "command" in s)]
    for command in commands:
        _parser().parse_args(command)


def test_the_image_installs_the_wheel_as_a_non_root_user() -> None:
    runs = " ".join(instruction("RUN"))
    assert "pip wheel" in runs and "--constraint constraints.txt" in runs
    assert re.search(r"pip install .*--no-index --find-links /wheels", runs)
    extras = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
                 ["optional-dependencies"])
    for wanted in re.findall(r"socialdesk\[([a-z,]+)\]", runs) + re.findall(r"\.\[([a-z,]+)\]", runs):
        assert set(wanted.split(",")) <= extras, wanted
    [user] = instruction("USER")
    assert user not in ("root", "0")
    assert all(image.startswith("python:") and "-slim" in image for image in instruction("FROM"))
    assert (REPO / "constraints.txt").exists()


def test_the_healthcheck_asks_the_status_port_the_containers_serve(compose_config: Any) -> None:
    [healthcheck] = instruction("HEALTHCHECK")
    port = int(re.search(r"127\.0\.0\.1:(\d+)/healthz", healthcheck).group(1))  # type: ignore[union-attr]
    [cmd] = instruction("CMD")
    assert flag(yaml.safe_load(cmd), "--status-port") == str(port)
    assert compose_config.desk.status_port == port
    for name, service in desk_services().items():
        assert flag(service["command"], "--status-port") == str(port), name
        assert port in published(service), name
    assert str(port) in instruction("EXPOSE")[0].split()


def test_two_http_replicas_listen_where_the_config_and_the_ports_say(compose_config: Any) -> None:
    slack = slack_settings(compose_config)
    assert slack.mode == "http" and "slack" in compose_config.enabled
    replicas = desk_services()
    assert len(replicas) == 2
    hosts: set[int] = set()
    for name, service in replicas.items():
        command = service["command"]
        assert "--http" in command, name
        assert flag(command, "--port") == str(slack.http.port), name
        assert slack.http.port in published(service), name
        hosts.update(published(service).values())
    assert len(hosts) == 4  # no two replicas publish the same host port
    assert str(slack.http.port) in instruction("EXPOSE")[0].split()


def test_migrations_run_once_before_the_replicas(compose_config: Any) -> None:
    services = compose()["services"]
    [migrate] = [name for name, s in services.items() if s.get("command") == ["db", "upgrade"]]
    assert services[migrate]["restart"] == "no"
    assert services[migrate]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in desk_services().items():
        assert service["depends_on"] == {migrate: {"condition": "service_completed_successfully"}}, name


def test_every_secret_comes_from_the_environment(compose_config: Any) -> None:
    variable = compose_config.desk.database_url_env
    assert variable is not None  # PostgreSQL's password is never in the file
    for name, service in {**desk_services(), "migrate": compose()["services"]["migrate"]}.items():
        environment = service["environment"]
        assert environment["SOCIALDESK_CONFIG"] == CONFIG_IN_CONTAINER
        assert environment[variable].startswith("postgresql+asyncpg://")
        assert "${POSTGRES_PASSWORD" in environment[variable]
        slack = slack_settings(compose_config)
        for secret in (slack.bot_token_env, slack.signing_secret_env):
            assert environment[secret].startswith("${"), (name, secret)
        assert f"./compose.plugins.toml:{CONFIG_IN_CONTAINER}:ro" in service["volumes"]
