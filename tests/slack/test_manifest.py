"""`socialdesk slack manifest`: a manifest Slack's own JSON Schema accepts, matching plugins.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from socialdesk.cli import main
from socialdesk.core.config import parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.slack.manifest import build_manifest
from socialdesk.core.slack.scopes import needed_scopes

SPECS = Path(__file__).resolve().parents[1] / "contract" / "specs" / "slack" / "app-manifest"
# The top-level schema $refs the versioned ones by their published URL; offline, serve the local copies.
PUBLISHED = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


def validator() -> Draft7Validator:
    registry: Registry = Registry()
    for version in ("1.0.0", "2.0.0"):
        schema = json.loads((SPECS / "schemas" / f"manifest.schema.{version}.json").read_text(encoding="utf-8"))
        registry = registry.with_resource(f"{PUBLISHED}manifest.schema.{version}.json", Resource.from_contents(schema))
    top = json.loads((SPECS / "manifest.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(top, registry=registry)


def errors(manifest: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(manifest)]


def manifest_from_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, toml: str, *options: str) -> str:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "d.db"}"\n{toml}', encoding="utf-8")
    code = main(["slack", "manifest", "--config", str(path), *options])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def test_the_schema_check_can_fail() -> None:
    # Slack's own fixtures: the invalid one is refused, the valid one accepted; the validator is wired up.
    fixtures = SPECS / "tests" / "manifests" / "v1"
    assert errors(json.loads((fixtures / "manifest.invalid.json").read_text(encoding="utf-8")))
    assert not errors(json.loads((fixtures / "manifest.valid.json").read_text(encoding="utf-8")))
    assert errors({"display_information": {"name": "x"}, "features": {"slash_commands": [{"command": "desk"}]}})


def test_socket_mode_manifest_is_valid_and_has_every_needed_scope(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    text = manifest_from_cli(capsys, tmp_path, '[plugins.slack]\nenabled = true\ncommand = "/support"\n')
    manifest = yaml.safe_load(text)
    assert errors(manifest) == []
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/support" and "url" not in command
    assert "claim N" in command["usage_hint"]
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"chat:write", "commands", "channels:history", "groups:history", "users:read"} <= set(scopes)
    assert "files:write" not in scopes and "usergroups:read" not in scopes  # digest and groups are off
    # Every scope carries its reason as a comment.
    for scope in scopes:
        assert any(line.strip().startswith(f"- {scope}  # ") for line in text.splitlines()), scope


def test_http_mode_points_the_command_and_interactivity_at_the_desk(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path) -> None:
    text = manifest_from_cli(capsys, tmp_path, '[plugins.slack]\nenabled = true\nhttp = { path = "/hooks/slack" }\n',
                             "--mode", "http", "--url", "https://desk.example.com/")
    manifest = yaml.safe_load(text)
    assert errors(manifest) == []
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["request_url"] == "https://desk.example.com/hooks/slack"
    assert manifest["features"]["slash_commands"][0]["url"] == "https://desk.example.com/hooks/slack"


def test_enabled_features_add_their_scopes(tmp_path: Path) -> None:
    raw = {"desk": {"channel": "C0123456789", "agent_groups": ["S0123456789"]},
           "plugins": {"slack": {"enabled": True}, "digest": {"enabled": True}}}
    config = parse_config(raw, discover_plugins(), file="plugins.toml")
    manifest = build_manifest(config)
    assert errors(manifest) == []
    assert {"files:write", "usergroups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(needed_scopes(config))


@pytest.mark.parametrize(("options", "message"), [
    (["--mode", "http"], "--mode http needs --url https://YOUR-HOST"),
    (["--mode", "http", "--url", "http://desk.example.com"], "--url must be an https URL"),
    (["--mode", "socket", "--url", "https://desk.example.com"], "--url only applies with --mode http"),
])
def test_bad_options_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, options: list[str],
                                  message: str) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "d.db"}"\n', encoding="utf-8")
    assert main(["--config", str(path), "slack", "manifest", *options]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"socialdesk: {message}") and len(err.splitlines()) == 1
