"""One pluggy PluginManager per desk, holding exactly the enabled plugins."""

from __future__ import annotations

import pluggy

from socialdesk.core import hookspecs
from socialdesk.core.config import AppConfig
from socialdesk.core.plugin_catalog import PluginCatalog


def build_plugin_manager(catalog: PluginCatalog, config: AppConfig) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in config.enabled:
        entry = catalog.get(name)
        assert entry is not None and entry.plugin is not None, name  # guaranteed by parse_config
        pm.register(entry.plugin, name=name)
    pm.check_pending()  # a hookimpl with a misspelt name is an error, not a silent no-op
    return pm


def hooks_implemented(catalog: PluginCatalog) -> dict[str, list[str]]:
    """Plugin name -> the hook names it implements, for every loadable plugin, enabled or not.

    Uses a throwaway manager so `socialdesk plugins` can describe disabled plugins too.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    result: dict[str, list[str]] = {}
    for entry in catalog.entries:
        if entry.plugin is None:
            continue
        try:
            pm.register(entry.plugin, name=entry.name)
        except ValueError:  # the same module object registered under another name
            continue
        result[entry.name] = sorted(caller.name for caller in pm.get_hookcallers(entry.plugin) or [])
    return result
