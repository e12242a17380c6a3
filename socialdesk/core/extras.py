"""Optional extras: what a plugin needs installed beyond socialdesk's own dependencies.

A plugin module that needs one defines ``socialdesk_optional_extra()`` returning an
:class:`OptionalExtra` (read like ``socialdesk_settings_model``, not through pluggy: it
must be answered before a desk exists). When the plugin is enabled and a module is
missing, configuration fails naming the extra and the command that installs it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OptionalExtra:
    name: str  # as in pyproject.toml's [project.optional-dependencies]
    modules: tuple[str, ...]  # top-level modules it installs

    def missing(self) -> list[str]:
        return [module for module in self.modules if not _importable(module)]

    def problem(self, otherwise: str = "or set enabled = false") -> str | None:
        """What is missing and how to install it, else None; ``otherwise``: the other way out
        (a plugin's, by default; a command has none)."""
        missing = self.missing()
        if not missing:
            return None
        fix = f"pip install 'socialdesk[{self.name}]'" + (f", {otherwise}" if otherwise else "")
        return f"needs the optional extra '{self.name}' ({', '.join(missing)} not installed): {fix}"


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
