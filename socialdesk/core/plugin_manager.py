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


def hooks_implemented(pm: pluggy.PluginManager) -> dict[str, list[str]]:
    """Plugin name -> the hook names it implements (for `socialdesk plugins`)."""
    result: dict[str, list[str]] = {}
    for name, plugin in pm.list_name_plugin():
        result[name] = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
    return result
