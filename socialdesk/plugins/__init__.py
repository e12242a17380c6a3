"""Built-in plugins: one package per feature or platform (a small plugin may be one module).

Each is an ordinary pluggy plugin listed in :mod:`socialdesk.core.plugin_catalog`.
"""
