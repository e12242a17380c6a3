"""DeskApp: one desk instance — its config, plugin manager, store, service and outbox."""

from __future__ import annotations

from typing import Any

import pluggy

from socialdesk.core.attention import AgentAttention
from socialdesk.core.clock import Clock, utc_now
from socialdesk.core.config import AppConfig
from socialdesk.core.store.cursors import CursorStore
from socialdesk.core.store.database import Database
from socialdesk.core.hooks import DeskHooks
from socialdesk.core.incidents.service import IncidentService
from socialdesk.core.outbox.jobs import Outbox
from socialdesk.core.outbox.runner import OutboxRunner
from socialdesk.core.plugin_catalog import PluginCatalog
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.service import DeskService


class DeskApp:
    """Everything one desk needs, built from a validated config. No import-time globals:
    two desks in one process (tests, benchmarks) share nothing."""

    def __init__(self, config: AppConfig, pm: pluggy.PluginManager, database: Database,
                 clock: Clock = utc_now) -> None:
        self.config = config
        self.pm = pm
        self.database = database
        self.clock = clock
        self.hooks = DeskHooks(pm, self)
        # Ownership conflicts (two plugins for one platform or one job kind) fail here, at start-up.
        self.platforms = self.hooks.platforms()
        self.performers = self.hooks.outbox_performers()
        self.outbox = Outbox(max_attempts=config.desk.outbox.max_attempts)
        self.attention = AgentAttention()  # work nobody waits on yields to bursts of agents' requests
        self.service = DeskService(database, self.hooks, self.outbox, clock, self.attention)
        self.incidents = IncidentService(database, self.service, self.hooks, self.outbox, clock)
        self.cursors = CursorStore(database)
        # Plugins' per-desk objects (core.per_desk.PerDesk): they live and die with this app.
        self.per_desk: dict[object, Any] = {}

    @classmethod
    def build(cls, config: AppConfig, catalog: PluginCatalog, *, database_url: str | None = None,
              clock: Clock = utc_now) -> DeskApp:
        pm = build_plugin_manager(catalog, config)
        return cls(config, pm, Database(database_url or config.database_url()), clock)

    def settings(self, plugin: str) -> Any:
        """A plugin's validated ``[plugins.<name>]`` settings (``None`` if it declares none)."""
        return self.config.settings(plugin)

    def outbox_runner(self, worker_name: str | None = None, *, urgent: bool = False) -> OutboxRunner:
        """A worker; ``urgent`` ones take only jobs of the highest priority (P1)."""
        return OutboxRunner(self, self.performers, self.config.desk.outbox,
                            self.database, self.clock, worker_name, urgent=urgent)

    async def close(self) -> None:
        await self.service.observers_done()
        await self.database.dispose()
