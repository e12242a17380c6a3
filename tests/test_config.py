"""plugins.toml validation: one line per problem, naming file, key path, what is wrong and the fix.

Secrets are never read from the file and never echoed back in an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from socialdesk.core.config import AppConfig, ConfigError, StrictModel, load_config, parse_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import PluginCatalog, PluginEntry, discover_plugins
from socialdesk.core.secrets import MissingSecret

# Built-in and on unless plugins.toml says otherwise, in registration order.
DEFAULT_ENABLED = ("reply_delivery", "reply_rules", "keyword_triage", "sentiment", "language", "noise",
                   "author_weight", "learned_triage", "event_log", "sla", "storms", "pii", "suggestions", "retention",
                   "push")

# Fake secrets, assembled so that secret scanners do not flag this file. Each must be
# refused by shape or by key, and must never appear in what the user is shown.
SLACK_TOKEN = "xo" + "xb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
X_BEARER = "A" * 22 + "MLheAAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4Xs"
DISCORD_TOKEN = "MTA4NjQ0NzYwMjE4MzA0NTEy" + "." + "GaBcDe" + "." + "abcdefghijklmnopqrstuvwxyz012345"
DB_PASSWORD = "hunter2-Sup3rSecret"
PG_URL_WITH_PASSWORD = f"postgresql+asyncpg://desk:{DB_PASSWORD}@db.internal:5432/desk"


class XSettings(StrictModel):
    """Settings of a stand-in third-party platform plugin."""

    poll_interval: int = Field(60, ge=15)
    bearer_token_env: str = "X_BEARER_TOKEN"


class XPlugin:
    @staticmethod
    def socialdesk_settings_model() -> type[XSettings]:
        return XSettings


def catalog(*, with_x: bool = False, broken: bool = False) -> PluginCatalog:
    extra: list[PluginEntry] = []
    if with_x:
        extra.append(PluginEntry("x", XPlugin(), "test", False))
    if broken:
        extra.append(PluginEntry("broken", None, "entry point", False, "broken-dist",
                                 "failed to import broken:plugin: ImportError: no module named nothing"))
    return discover_plugins().with_extra(extra)


def problems(raw: dict[str, Any], cat: PluginCatalog | None = None) -> list[str]:
    """The lines ``socialdesk check`` would print for ``raw``; fails if the config is accepted."""
    with pytest.raises(ConfigError) as info:
        parse_config(raw, cat or catalog())
    lines = info.value.lines()
    assert lines, "a ConfigError must carry at least one problem"
    assert str(info.value) == "\n".join(lines)
    for line in lines:
        assert "\n" not in line
        assert line.startswith("plugins.toml: ")
    return lines


def rule(**fields: Any) -> dict[str, Any]:
    return {"plugins": {"keyword_triage": {"rules": [{"name": "r1", **fields}]}}}


# (id, raw config, the exact start of the one line reported, a part of the message that must follow)
BAD_CONFIGS: list[tuple[str, dict[str, Any], str, str]] = [
    ("typo in desk key", {"desk": {"databse_url": "sqlite+aiosqlite:///x.db"}},
     "plugins.toml: desk.databse_url: unknown key", "did you mean 'database_url'?"),
    ("unknown top-level table", {"plugin": {}},
     "plugins.toml: plugin: unknown top-level table", "did you mean 'plugins'?"),
    ("unknown plugin name", {"plugins": {"keyword_triag": {"enabled": True}}},
     "plugins.toml: plugins.keyword_triag: no such plugin is installed", "did you mean 'keyword_triage'?"),
    ("enabled not a bool", {"plugins": {"reply_rules": {"enabled": "yes"}}},
     "plugins.toml: plugins.reply_rules.enabled: must be true or false", "(got 'yes')"),
    ("agent not a user id", {"desk": {"agents": ["U0123ABCD", "alice"]}},
     "plugins.toml: desk.agents.1: must be a Slack user id", "'Copy member ID'"),
    ("channel given by name", {"desk": {"channel": "#support"}},
     "plugins.toml: desk.channel: must be a Slack channel id", "not a name (got '#support')"),
    ("route channel by name", {"desk": {"routes": [{"channel": "support", "platform": "x"}]}},
     "plugins.toml: desk.routes.0.channel: must be a Slack channel id", "copy it from the channel's details"),
    ("admin group not a group id", {"desk": {"admin_groups": ["U0123ABCD"]}},
     "plugins.toml: desk.admin_groups.0: must be a Slack user group id", "usergroups.list"),
    ("bad time zone", {"desk": {"timezone": "Europe/Berlinn"}},
     "plugins.toml: desk.timezone: unknown time zone 'Europe/Berlinn'", "use an IANA name"),
    ("unsupported database", {"desk": {"database_url": "mysql://localhost/desk"}},
     "plugins.toml: desk.database_url: must start with one of sqlite+aiosqlite://, postgresql+asyncpg://",
     "(got mysql://...)"),
    ("database url without driver", {"desk": {"database_url": "postgresql://db.internal/desk"}},
     "plugins.toml: desk.database_url: must start with one of", "postgresql+asyncpg://"),
    ("env var name in lowercase", {"desk": {"database_url_env": "db"}},
     "plugins.toml: desk.database_url_env: must be the NAME of an environment variable in capitals", "(got 'db')"),
    ("route without platform or priorities", {"desk": {"routes": [{"channel": "C0123ABCDEF"}]}},
     "plugins.toml: desk.routes.0: a route needs `platform` and/or `priorities`", "use desk.channel for the default"),
    ("route priority out of range", {"desk": {"routes": [{"channel": "C0123ABCDEF", "priorities": [1, 7]}]}},
     "plugins.toml: desk.routes.0.priorities.1: must be a priority from 1 (most urgent) to 4", "(got 7)"),
    ("no outbox workers", {"desk": {"outbox": {"workers": 0}}},
     "plugins.toml: desk.outbox.workers: ", "greater than or equal to 1 (got 0)"),
    ("unknown outbox key", {"desk": {"outbox": {"worker": 2}}},
     "plugins.toml: desk.outbox.worker: unknown key", "did you mean 'workers'?"),
    ("bad log level", {"desk": {"log_level": "verbose"}},
     "plugins.toml: desk.log_level: ", "'debug', 'info', 'warning' or 'error' (got 'verbose')"),
    ("rule with unknown category", rule(category="complaint", keywords=["bad"]),
     "plugins.toml: plugins.keyword_triage.rules.0.category: must be one of outage, bug,", "(got 'complaint')"),
    ("rule regex does not compile", rule(regex=["(refund"]),
     "plugins.toml: plugins.keyword_triage.rules.0.regex: regular expression '(refund' does not compile",
     "missing )"),
    ("rule with nothing to match", rule(category="refund"),
     "plugins.toml: plugins.keyword_triage.rules.0: rule 'r1' needs at least one of",
     "keywords, phrases or regex"),
    ("rule priority out of range", rule(keywords=["down"], priority=0),
     "plugins.toml: plugins.keyword_triage.rules.0.priority: ", "greater than or equal to 1 (got 0)"),
    ("unknown key in plugin settings", {"plugins": {"reply_rules": {"forbiden_phrases": ["guarantee"]}}},
     "plugins.toml: plugins.reply_rules.forbiden_phrases: unknown key", "did you mean 'forbidden_phrases'?"),
    ("setting on a plugin without settings", {"plugins": {"event_log": {"level": "debug"}}},
     "plugins.toml: plugins.event_log.level: unknown key", "takes no settings but `enabled`"),
    ("plugin table that is not a table", {"plugins": {"reply_rules": 3}},
     "plugins.toml: plugins.reply_rules: must be a table", "write [plugins.reply_rules] on its own line"),
    ("plugins that is not a table", {"plugins": ["reply_rules"]},
     "plugins.toml: plugins: must be a table", "[plugins.<name>]"),
]


@pytest.mark.parametrize(("raw", "prefix", "fix"), [case[1:] for case in BAD_CONFIGS],
                         ids=[case[0] for case in BAD_CONFIGS])
def test_each_bad_configuration_is_one_line_naming_the_key_path_and_the_fix(
    raw: dict[str, Any], prefix: str, fix: str
) -> None:
    lines = problems(raw)
    assert len(lines) == 1, lines
    assert lines[0].startswith(prefix), lines[0]
    assert fix in lines[0][len(prefix):], lines[0]


def test_bad_configurations_are_distinct() -> None:
    assert len(BAD_CONFIGS) >= 10
    assert len({case[2] for case in BAD_CONFIGS}) == len(BAD_CONFIGS)


def test_third_party_plugin_settings_are_validated_with_the_plugin_model() -> None:
    lines = problems({"plugins": {"x": {"enabled": True, "poll_interval": 2}}}, catalog(with_x=True))
    assert lines == ["plugins.toml: plugins.x.poll_interval: Input should be greater than or equal to 15 (got 2)"]


def test_plugin_that_cannot_be_loaded_is_reported_when_configured() -> None:
    cat = catalog(broken=True)
    assert parse_config({}, cat).enabled == DEFAULT_ENABLED
    lines = problems({"plugins": {"broken": {"enabled": True}}}, cat)
    assert lines == ["plugins.toml: plugins.broken: cannot be loaded: failed to import broken:plugin: "
                     "ImportError: no module named nothing"]


def test_unknown_plugin_far_from_any_name_lists_what_is_installed() -> None:
    (line,) = problems({"plugins": {"friendster": {"enabled": True}}})
    assert line.startswith("plugins.toml: plugins.friendster: no such plugin is installed")
    assert "author_weight, bluesky, csat, digest, discord, discourse, drafts, event_log, keyword_triage, language, learned_triage" in line
    assert "socialdesk plugins" in line


def test_every_problem_in_a_file_is_reported_one_line_each() -> None:
    raw = {
        "desk": {
            "databse_url": "sqlite+aiosqlite:///x.db",
            "agents": ["alice"],
            "channel": "#support",
            "timezone": "Mars/Olympus_Mons",
            "outbox": {"workers": 0},
        },
        "plugins": {
            "reply_rules": {"enabled": "yes"},
            "keyword_triage": {"rules": [{"name": "r1", "category": "nope", "keywords": ["x"]},
                                         {"name": "r2", "regex": ["[a-"]}]},
            "keyword_triag": {},
        },
        "extra": {},
    }
    lines = problems(raw)
    paths = sorted(line.split(": ")[1] for line in lines)
    assert paths == sorted([
        "desk.databse_url", "desk.agents.0", "desk.channel", "desk.timezone", "desk.outbox.workers",
        "plugins.reply_rules.enabled", "plugins.keyword_triage.rules.0.category",
        "plugins.keyword_triage.rules.1.regex", "plugins.keyword_triag", "extra",
    ])


def test_the_same_problem_is_not_reported_twice() -> None:
    lines = problems({"desk": {"agents": ["alice", "alice"]}})
    assert [line.split(": ")[1] for line in lines] == ["desk.agents.0", "desk.agents.1"]


# --- files ---------------------------------------------------------------------------------


def test_invalid_toml_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text('[desk]\ntimezone = "UTC"\nchannel = C0123ABCDEF\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalog())
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: is not valid TOML: ")
    assert "line 3" in line and "column" in line


def test_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "plugins.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path, catalog())
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: file not found")
    assert "--config PATH" in line


def test_problems_in_a_file_are_reported_against_that_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text('[desk]\nchannel = "#support"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalog())
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: desk.channel: must be a Slack channel id")


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "plugins.toml"
    path.write_bytes(b'[desk]\ntimezone = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, catalog())
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: cannot be read")


# --- secrets -------------------------------------------------------------------------------

SECRET_CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # (id, raw, secret text, path of the line, part of the message)
    ("token under a secret key name", {"plugins": {"x": {"bot_token": SLACK_TOKEN}}}, SLACK_TOKEN,
     "plugins.x.bot_token", 'write bot_token_env = "VARIABLE_NAME" instead'),
    ("plain password under a secret key name", {"plugins": {"x": {"password": DB_PASSWORD}}}, DB_PASSWORD,
     "plugins.x.password", 'write password_env = "VARIABLE_NAME" instead'),
    ("slack token under an innocent key", {"desk": {"channel": SLACK_TOKEN}}, SLACK_TOKEN,
     "desk.channel", "this value looks like a Slack token"),
    ("slack token in a list", {"plugins": {"reply_rules": {"forbidden_phrases": ["sorry", SLACK_TOKEN]}}},
     SLACK_TOKEN, "plugins.reply_rules.forbidden_phrases.1", "this value looks like a Slack token"),
    ("password in the database url", {"desk": {"database_url": PG_URL_WITH_PASSWORD}}, DB_PASSWORD,
     "desk.database_url", 'write database_url_env = "VARIABLE_NAME" instead'),
    ("X bearer token", {"plugins": {"x": {"poll_interval": 60, "bearer": X_BEARER}}}, X_BEARER,
     "plugins.x.bearer", "this value looks like an X bearer token"),
    ("Discord bot token", {"desk": {"agents": [DISCORD_TOKEN]}}, DISCORD_TOKEN,
     "desk.agents.0", "this value looks like a Discord bot token"),
    ("token pasted into an _env key", {"plugins": {"x": {"bearer_token_env": X_BEARER}}}, X_BEARER,
     "plugins.x.bearer_token_env", "takes the NAME of the environment variable"),
    ("database url pasted into database_url_env", {"desk": {"database_url_env": PG_URL_WITH_PASSWORD}},
     DB_PASSWORD, "desk.database_url_env", "such as DATABASE_URL, not the value itself"),
]


@pytest.mark.parametrize(("raw", "secret", "path", "fix"), [case[1:] for case in SECRET_CASES],
                         ids=[case[0] for case in SECRET_CASES])
def test_a_literal_secret_is_refused_and_never_echoed(raw: dict[str, Any], secret: str, path: str,
                                                      fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, catalog(with_x=True))
    lines = info.value.lines()
    assert any(line.startswith(f"plugins.toml: {path}: ") and fix in line for line in lines), lines
    everything = "\n".join(lines) + str(info.value) + repr(info.value.problems)
    assert secret not in everything
    assert secret[:12] not in everything


def test_names_of_environment_variables_are_not_secrets() -> None:
    config = parse_config(
        {"desk": {"database_url_env": "SOCIALDESK_DATABASE_URL"},
         "plugins": {"x": {"enabled": True, "bearer_token_env": "X_BEARER_TOKEN"}}},
        catalog(with_x=True),
    )
    assert config.desk.database_url_env == "SOCIALDESK_DATABASE_URL"
    assert config.settings("x").bearer_token_env == "X_BEARER_TOKEN"
    assert "x" in config.enabled


def test_a_secret_key_left_empty_is_not_called_a_secret() -> None:
    (line,) = problems({"plugins": {"x": {"api_key": ""}}}, catalog(with_x=True))
    assert line.startswith("plugins.toml: plugins.x.api_key: unknown key")
    assert "secrets are not read" not in line


# --- the database URL from the environment -------------------------------------------------


def env_config() -> AppConfig:
    return parse_config({"desk": {"database_url_env": "DESK_DB_URL"}}, catalog())


def test_database_url_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://desk@db.internal/desk"
    assert env_config().database_url({"DESK_DB_URL": url}) == url
    monkeypatch.setenv("DESK_DB_URL", url + "2")
    assert env_config().database_url() == url + "2"


@pytest.mark.parametrize("environ", [{}, {"DESK_DB_URL": ""}], ids=["unset", "empty"])
def test_missing_database_variable_names_the_variable_and_the_key(environ: dict[str, str]) -> None:
    with pytest.raises(MissingSecret) as info:
        env_config().database_url(environ)
    assert isinstance(info.value, DeskError)
    message = str(info.value)
    assert "DESK_DB_URL" in message
    assert "desk.database_url_env" in message
    assert "not set" in message


def test_unsupported_database_in_the_variable_is_refused_without_echoing_it() -> None:
    with pytest.raises(DeskError) as info:
        env_config().database_url({"DESK_DB_URL": f"mysql://root:{DB_PASSWORD}@db/desk"})
    message = str(info.value)
    assert "DESK_DB_URL" in message and "postgresql+asyncpg://" in message
    assert DB_PASSWORD not in message


def test_database_url_without_variable_is_the_configured_one() -> None:
    config = parse_config({"desk": {"database_url": "sqlite+aiosqlite:///desk.db"}}, catalog())
    assert config.database_url({"DESK_DB_URL": "postgresql+asyncpg://ignored/db"}) == "sqlite+aiosqlite:///desk.db"


# --- valid configurations ------------------------------------------------------------------


def test_empty_config_enables_the_default_plugins_with_default_settings() -> None:
    config = parse_config({}, catalog(with_x=True))
    assert config.enabled == DEFAULT_ENABLED
    assert config.desk.database_url == "sqlite+aiosqlite:///socialdesk.db"
    assert config.desk.timezone == "UTC"
    assert config.settings("reply_rules").forbidden_phrases == []
    assert config.settings("event_log") is None
    assert config.settings("keyword_triage").rules  # the built-in rule set


def test_full_valid_config_is_accepted_with_its_values() -> None:
    raw = {
        "desk": {
            "database_url": "postgresql+asyncpg://desk@db.internal:5432/desk",
            "channel": "C0123ABCDEF",
            "routes": [{"channel": "C0SECURITY1", "priorities": [1]},
                       {"channel": "G0XTEAM01", "platform": "x", "priorities": [2, 3]}],
            "agents": ["U0123ABCD", "W0456EFGH"],
            "agent_groups": ["S0614TZR7"],
            "admins": ["U0123ABCD"],
            "oncall_group": "S0614TZR7",
            "timezone": "Europe/Berlin",
            "log_level": "warning",
            "outbox": {"workers": 4, "batch_size": 50},
        },
        "plugins": {
            "event_log": {"enabled": False},
            "reply_rules": {"forbidden_phrases": ["guarantee"], "refuse_unfilled_variables": False},
            "keyword_triage": {"rules": [{"name": "chargeback", "category": "refund", "priority": 1,
                                          "keywords": ["chargeback"], "regex": [r"\bcharged (twice|2x)\b"]}]},
            "x": {"enabled": True, "poll_interval": 15},
        },
    }
    config = parse_config(raw, catalog(with_x=True))
    assert config.enabled == (*(p for p in DEFAULT_ENABLED if p != "event_log"), "x")
    assert config.desk.routes[1].platform == "x"
    assert config.desk.outbox.workers == 4
    assert config.settings("reply_rules").forbidden_phrases == ["guarantee"]
    assert config.settings("x").poll_interval == 15
    (chargeback,) = config.settings("keyword_triage").rules
    assert chargeback.search("i was charged twice")
    assert not chargeback.search("charged once")


def test_the_repository_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "plugins.toml"
    config = load_config(example, catalog())
    assert "keyword_triage" in config.enabled
