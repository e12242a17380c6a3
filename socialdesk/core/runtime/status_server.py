"""``GET /healthz`` and ``GET /metrics`` of one replica, on ``desk.status_port``.

* ``/healthz``: 200 ``{"status": "ok", "leader": <bool>, "database": "ok"}`` while the
  database answers within ``DATABASE_TIMEOUT_SECONDS``, else 503 with
  ``"status": "unavailable", "database": "unreachable"``. For load balancers and
  orchestrators: a replica that cannot reach the database cannot serve anything. When a
  platform refused the refresh of its posting credentials (X OAuth 2.0), still 200 but
  ``"status": "degraded"`` with ``"posting_credentials": {"x": "<why>"}``: replies there
  wait for an admin to authorise again.
  Plugins' ``socialdesk_health_warnings`` (a degraded but serving desk) are listed under
  ``"warnings"``.
* ``/metrics``: Prometheus' text format (see :mod:`socialdesk.core.runtime.metrics`); the store's
  gauges are read at each scrape.

It listens on every interface (``0.0.0.0``): Prometheus scrapes from another machine.
Nothing here is secret (counts and ages, no customer text, no tokens).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from socialdesk.core.errors import DeskError
from socialdesk.core.store.credentials import credential_failures
from socialdesk.core.runtime.metrics import metrics_for

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
STATUS_HOST = "0.0.0.0"
DATABASE_TIMEOUT_SECONDS = 5.0  # generous: a busy replica is not a broken one


class StatusServer:
    def __init__(self, app: DeskApp, is_leader: Callable[[], bool], port: int, host: str = STATUS_HOST) -> None:
        self._app = app
        self._is_leader = is_leader
        self._host = host
        self._wanted_port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str | None:
        """Base URL on this machine (``http://127.0.0.1:<port>``) once started."""
        return f"http://127.0.0.1:{self.port}" if self.port is not None else None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_get("/healthz", self._health)
        web_app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._wanted_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise DeskError(f"desk.status_port: cannot listen on {self._host}:{self._wanted_port} ({exc.strerror}); "
                            "give each replica on a host its own port, 0 for any free port, or leave it unset "
                            "to serve no /healthz and /metrics") from None
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("status server listening", extra={"host": self._host, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _database_ok(self) -> bool:
        try:
            await asyncio.wait_for(
                self._app.database.run_read(lambda connection: connection.exec_driver_sql("SELECT 1").scalar()),
                DATABASE_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("healthz: the database does not answer", extra={"error": type(exc).__name__})
            return False
        return True

    async def _credential_failures(self) -> dict[str, str]:
        try:
            return await asyncio.wait_for(credential_failures(self._app.database), DATABASE_TIMEOUT_SECONDS)
        except Exception as exc:  # the database answered SELECT 1 a moment ago; say nothing rather than guess
            log.warning("healthz: credentials not readable", extra={"error": type(exc).__name__})
            return {}

    async def _health(self, request: web.Request) -> web.Response:
        leader = self._is_leader()
        if await self._database_ok():
            body: dict[str, object] = {"status": "ok", "leader": leader, "database": "ok"}
            failing = await self._credential_failures()
            if failing:
                # Still 200: the replica serves Slack and ingests; only posting on these platforms
                # waits for an admin, and restarting the container would not help.
                body.update(status="degraded", posting_credentials=failing)
            warnings = await self._app.hooks.health_warnings()
            if warnings:  # degraded but serving (e.g. triage on keyword rules only)
                body["warnings"] = warnings
            return web.json_response(body)
        return web.json_response({"status": "unavailable", "leader": leader, "database": "unreachable"},
                                 status=503)

    async def _metrics(self, request: web.Request) -> web.Response:
        metrics = metrics_for(self._app)
        await metrics.refresh(self._app)
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
