"""Admin lists kept in the database: blocked authors, macros and who may act.

``/desk block``, ``/desk macro add|remove`` and ``/desk agents add|remove`` change them
without a restart; plugins.toml stays the starting point (its lists are merged with the
database's). Every replica reads the database, through a short per-process cache
(``desk.admin_cache_seconds``).
"""
