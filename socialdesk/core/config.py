"""plugins.toml: read once at start-up, validated with pydantic, every problem reported.

Problems are collected (not raised one at a time) so that ``socialdesk check`` prints
them all, one line each: ``plugins.toml: <key path>: <what is wrong and the fix>``.
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from socialdesk.core.config_types import (
    EnvVarName,
    Priority,
    SlackChannelId,
    SlackGroupId,
    SlackUserId,
    TimeZoneName,
)
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import PluginCatalog
from socialdesk.core.secrets import iter_literal_secrets, read_secret

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///socialdesk.db"
SUPPORTED_DATABASE_PREFIXES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class StrictModel(BaseModel):
    """Base for every settings model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RouteConfig(StrictModel):
    """Cards matching ``platform`` and/or ``priorities`` go to ``channel``."""

    channel: SlackChannelId
    platform: str | None = None
    priorities: list[Priority] | None = None

    @model_validator(mode="after")
    def _check(self) -> RouteConfig:
        if self.platform is None and self.priorities is None:
            raise ValueError("a route needs `platform` and/or `priorities`; use desk.channel for the default")
        return self


class OutboxConfig(StrictModel):
    workers: int = Field(1, ge=1, le=32)
    # Workers that take only P1 jobs, so an urgent card never waits for a worker pacing P4 posts.
    urgent_workers: int = Field(1, ge=0, le=8)
    batch_size: int = Field(20, ge=1, le=500)
    poll_interval_seconds: float = Field(0.5, gt=0, le=60)
    urgent_poll_interval_seconds: float = Field(0.1, gt=0, le=60)
    lease_seconds: float = Field(120, ge=5, le=3600)
    max_attempts: int = Field(8, ge=1, le=100)
    backoff_base_seconds: float = Field(1.0, gt=0, le=600)
    backoff_max_seconds: float = Field(300.0, gt=0, le=86_400)


class DeskConfig(StrictModel):
    database_url: str = DEFAULT_DATABASE_URL
    database_url_env: EnvVarName | None = None
    channel: SlackChannelId | None = None
    routes: list[RouteConfig] = []
    agents: list[SlackUserId] = []
    agent_groups: list[SlackGroupId] = []
    admins: list[SlackUserId] = []
    admin_groups: list[SlackGroupId] = []
    oncall_group: SlackGroupId | None = None
    timezone: TimeZoneName = "UTC"
    log_level: typing.Literal["debug", "info", "warning", "error"] = "info"
    outbox: OutboxConfig = OutboxConfig()
    # GET /healthz and /metrics of this replica (socialdesk.core.runtime.status_server). Unset: not
    # served; 0: any free port. Several replicas on one host need a port each.
    status_port: int | None = Field(None, ge=0, le=65535)
    # How long a replica trusts its copy of the admin lists kept in the database (/desk block,
    # /desk macro add|remove, /desk agents add|remove): other replicas see a change within this.
    admin_cache_seconds: float = Field(10.0, ge=0, le=600)

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, url: str) -> str:
        if not url.startswith(SUPPORTED_DATABASE_PREFIXES):
            scheme, sep, _rest = url.partition("://")
            raise ValueError(
                f"must start with one of {', '.join(SUPPORTED_DATABASE_PREFIXES)} "
                f"(got {scheme + sep + '...' if sep else 'no scheme'})"
            )
        return url


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    path: str
    message: str

    def render(self, file: str) -> str:
        return f"{file}: {self.path}: {self.message}" if self.path else f"{file}: {self.message}"


class ConfigError(DeskError):
    def __init__(self, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))

    def lines(self) -> list[str]:
        return [p.render(self.file) for p in self.problems]


@dataclass(frozen=True)
class AppConfig:
    """The validated configuration: the desk table and every known plugin's state."""

    file: str
    desk: DeskConfig
    enabled: tuple[str, ...]  # plugin names, in catalog order
    plugin_settings: Mapping[str, BaseModel | None] = field(default_factory=dict)

    def settings(self, plugin: str) -> Any:
        """The validated settings of ``plugin`` (``None`` if it declares none)."""
        return self.plugin_settings.get(plugin)

    def database_url(self, environ: Mapping[str, str] | None = None) -> str:
        if self.desk.database_url_env:
            url = read_secret(self.desk.database_url_env, "desk.database_url_env", environ).get_secret_value()
            if not url.startswith(SUPPORTED_DATABASE_PREFIXES):
                raise DeskError(
                    f"environment variable {self.desk.database_url_env} (named by desk.database_url_env) must hold "
                    f"a URL starting with one of {', '.join(SUPPORTED_DATABASE_PREFIXES)}"
                )
            return url
        return self.desk.database_url

    def secret(self, env_name: str, named_by: str, environ: Mapping[str, str] | None = None) -> SecretStr:
        return read_secret(env_name, named_by, environ)


# --- error rendering ---------------------------------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside ``annotation`` (through Optional, list, Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = _model_in(info.annotation)
    return current


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known keys: {', '.join(sorted(candidates))}" if candidates else ""


def _pydantic_problems(model: type[BaseModel], error: ValidationError, prefix: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        path = ".".join([prefix, *map(str, loc)]) if prefix else ".".join(map(str, loc))
        if item["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            known = list(parent.model_fields) if parent else []
            problems.append(ConfigProblem(path, "unknown key" + _did_you_mean(str(loc[-1]), known)))
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] not in ("value_error", "missing") and "input" in item:
            got = item["input"]
            if not isinstance(got, (dict, list)):
                message += f" (got {got!r})"
        problems.append(ConfigProblem(path, message))
    return problems


# --- loading -----------------------------------------------------------------------------


def _plugin_problems(
    raw_plugins: Any, catalog: PluginCatalog
) -> tuple[list[ConfigProblem], tuple[str, ...], dict[str, BaseModel | None]]:
    problems: list[ConfigProblem] = []
    if not isinstance(raw_plugins, Mapping):
        return [ConfigProblem("plugins", "must be a table of [plugins.<name>] tables")], (), {}
    enabled: list[str] = []
    settings: dict[str, BaseModel | None] = {}
    for name in raw_plugins:
        if catalog.get(name) is None:
            problems.append(ConfigProblem(
                f"plugins.{name}",
                "no such plugin is installed" + _did_you_mean(name, catalog.names())
                + " (installed plugins are listed by `socialdesk plugins`)",
            ))
    for entry in catalog.entries:
        table = raw_plugins.get(entry.name, {})
        path = f"plugins.{entry.name}"
        if not isinstance(table, Mapping):
            problems.append(ConfigProblem(path, f"must be a table: write [plugins.{entry.name}] on its own line"))
            continue
        table = dict(table)
        is_enabled = table.pop("enabled", entry.enabled_by_default)
        if not isinstance(is_enabled, bool):
            problems.append(ConfigProblem(f"{path}.enabled", f"must be true or false (got {is_enabled!r})"))
            continue
        if entry.load_error is not None:
            if is_enabled:  # a broken package that stays disabled harms nobody
                problems.append(ConfigProblem(path, f"cannot be loaded: {entry.load_error}"))
            continue
        if not is_enabled and not table and entry.source == "builtin":
            continue  # nothing to check, and its module (with its client library) stays unloaded
        model = getattr(entry.plugin, "socialdesk_settings_model", None)
        model_cls = model() if callable(model) else None
        if model_cls is None:
            if table:
                problems.append(ConfigProblem(
                    f"{path}.{next(iter(table))}", f"unknown key; the {entry.name} plugin takes no settings but `enabled`"
                ))
            settings[entry.name] = None
        else:
            try:
                settings[entry.name] = model_cls.model_validate(table)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(model_cls, exc, path))
        if is_enabled:
            extra = getattr(entry.plugin, "socialdesk_optional_extra", None)
            problem = extra().problem() if callable(extra) else None
            if problem is not None:
                problems.append(ConfigProblem(path, problem))
            enabled.append(entry.name)
    return problems, tuple(enabled), settings


def _without_secrets(problems: list[ConfigProblem], secrets: list[str]) -> list[ConfigProblem]:
    """Other validators echo the bad value ("got ..."); a secret must never be echoed."""
    forms = {form for value in secrets if value for form in (value, repr(value)[1:-1])}
    spellings = sorted(forms, key=len, reverse=True)

    def scrub(text: str) -> str:
        for form in spellings:
            text = text.replace(form, "***")
        return text

    return [ConfigProblem(p.path, scrub(p.message)) for p in problems]


def parse_config(raw: Mapping[str, Any], catalog: PluginCatalog, file: str = "plugins.toml") -> AppConfig:
    """Validate an already-parsed TOML document; raise ConfigError listing every problem."""
    problems: list[ConfigProblem] = []
    for key in raw:
        if key not in ("desk", "plugins"):
            problems.append(ConfigProblem(str(key), "unknown top-level table" + _did_you_mean(str(key), ["desk", "plugins"])))
    literal_secrets = list(iter_literal_secrets(raw))
    problems.extend(ConfigProblem(path, msg) for path, _value, msg in literal_secrets)
    desk: DeskConfig | None = None
    try:
        desk = DeskConfig.model_validate(raw.get("desk", {}))
    except ValidationError as exc:
        problems.extend(_pydantic_problems(DeskConfig, exc, "desk"))
    plugin_problems, enabled, settings = _plugin_problems(raw.get("plugins", {}), catalog)
    problems.extend(plugin_problems)
    if problems or desk is None:
        # Secrets first would be nicer to read, but file order is what admins expect.
        seen: set[tuple[str, str]] = set()
        unique = [p for p in problems if (p.path, p.message) not in seen and not seen.add((p.path, p.message))]
        raise ConfigError(file, _without_secrets(unique, [value for _path, value, _msg in literal_secrets]))
    return AppConfig(file=file, desk=desk, enabled=enabled, plugin_settings=types.MappingProxyType(settings))


def load_config(path: str | Path, catalog: PluginCatalog) -> AppConfig:
    path = Path(path)
    file = path.name if path.parent == Path(".") else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, [ConfigProblem("", "file not found; create it (see README, Configuration) or pass --config PATH")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, [ConfigProblem("", f"cannot be read: {exc}")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, [ConfigProblem("", f"is not valid TOML: {exc}")]) from None
    return parse_config(raw, catalog, file)
