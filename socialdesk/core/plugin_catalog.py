"""Which plugins exist: the built-in defaults and those installed through entry points."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from socialdesk.core.hookspecs import ENTRY_POINT_GROUP

# name, module, enabled unless plugins.toml says otherwise. Core behaviour is on by
# default; platform plugins are off until an admin enables them.
BUILTIN_PLUGINS: tuple[tuple[str, str, bool], ...] = (
    ("reply_delivery", "socialdesk.core.reply_delivery", True),
    ("reply_rules", "socialdesk.plugins.reply_rules", True),
    ("keyword_triage", "socialdesk.plugins.triage.keyword_rules", True),
    ("sentiment", "socialdesk.plugins.triage.sentiment", True),
    ("language", "socialdesk.plugins.triage.language", True),
    ("noise", "socialdesk.plugins.triage.noise", True),
    ("author_weight", "socialdesk.plugins.triage.author_weight", True),
    ("learned_triage", "socialdesk.plugins.triage.learned", True),
    ("event_log", "socialdesk.plugins.event_log", True),
    ("sla", "socialdesk.plugins.sla.plugin", True),
    ("storms", "socialdesk.plugins.storms.plugin", True),
    ("pii", "socialdesk.plugins.pii", True),
    ("suggestions", "socialdesk.plugins.suggestions.plugin", True),
    ("csat", "socialdesk.plugins.csat.plugin", False),
    ("retention", "socialdesk.plugins.retention", True),
    ("digest", "socialdesk.plugins.digest.plugin", False),
    ("drafts", "socialdesk.plugins.drafts.plugin", False),
    ("push", "socialdesk.core.push.plugin", True),
    # Platforms last: the Slack app, then the platforms customers write on.
    ("slack", "socialdesk.core.slack.plugin", False),
    ("discord", "socialdesk.plugins.discord.plugin", False),
    ("x", "socialdesk.plugins.x.plugin", False),
    ("webhook", "socialdesk.plugins.webhook.plugin", False),
    ("discourse", "socialdesk.plugins.discourse.plugin", False),
    ("reddit", "socialdesk.plugins.reddit.plugin", False),
    ("bluesky", "socialdesk.plugins.bluesky.plugin", False),
    ("mastodon", "socialdesk.plugins.mastodon.plugin", False),
)


@dataclass(frozen=True, slots=True)
class PluginEntry:
    name: str
    plugin: Any  # a module or an object carrying hookimpls
    source: Literal["builtin", "entry point", "test"]
    enabled_by_default: bool
    distribution: str | None = None
    load_error: str | None = None


@dataclass(frozen=True, slots=True)
class PluginCatalog:
    entries: tuple[PluginEntry, ...]

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def get(self, name: str) -> PluginEntry | None:
        for entry in self.entries:
            if entry.name == name:
                return entry
        return None

    def with_extra(self, extra: Iterable[PluginEntry]) -> PluginCatalog:
        extra = tuple(extra)
        taken = {entry.name for entry in extra}
        return PluginCatalog(tuple(e for e in self.entries if e.name not in taken) + extra)


def _lazy_module(name: str) -> ModuleType:
    """The module ``name``, executed when one of its attributes is first read.

    A built-in platform plugin that stays disabled never loads its client library
    (atproto, Mastodon.py, discord.py, tweepy, asyncpraw: tens of MiB each in every
    replica); registering or validating a plugin reads its attributes and loads it.
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _builtin_entries() -> list[PluginEntry]:
    return [PluginEntry(name, _lazy_module(module), "builtin", enabled) for name, module, enabled in BUILTIN_PLUGINS]


def _entry_point_entries(builtin_names: set[str]) -> list[PluginEntry]:
    entries: list[PluginEntry] = []
    taken: dict[str, str] = {}  # entry-point name -> the distribution that got it first
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else None
        if ep.name in builtin_names or ep.name in taken:
            owner = "the built-in plugin" if ep.name in builtin_names else f"the plugin from {taken[ep.name]}"
            # Listed under a name of its own, so that [plugins.<name>] in plugins.toml (and
            # `socialdesk plugins`) keeps meaning the plugin that owns the name.
            entries.append(
                PluginEntry(f"{dist or ep.value}:{ep.name}", None, "entry point", False, dist,
                            f"its name clashes with {owner} '{ep.name}'")
            )
            continue
        taken[ep.name] = dist or ep.value
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party package must not stop `socialdesk check`
            entries.append(PluginEntry(ep.name, None, "entry point", False, dist,
                                       f"failed to import {ep.value}: {type(exc).__name__}: {exc}"))
            continue
        # Third-party plugins act on the desk only once an admin enables them in plugins.toml.
        entries.append(PluginEntry(ep.name, plugin, "entry point", False, dist))
    return entries


def discover_plugins() -> PluginCatalog:
    builtins = _builtin_entries()
    return PluginCatalog(tuple(builtins + _entry_point_entries({e.name for e in builtins})))
