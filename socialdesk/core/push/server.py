"""The push server: ``POST /push/<source>`` for every configured source, ``GET /healthz``.

One per replica (any replica may receive a push). Every refusal is a JSON
``{"error": ...}`` with a status that tells the sender whether to retry: 4xx for
forged, unsigned, stale or oversized requests (nothing was written), 503 when the
desk could not store the delivery (retry later). A replayed delivery id is
acknowledged with 200 ``{"status": "duplicate"}`` and changes nothing: a sender that
lost our first answer stops retrying, an attacker replaying a capture achieves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from socialdesk.core.errors import DeskError
from socialdesk.core.push.body import BodyTooLarge, read_bounded
from socialdesk.core.push.deliveries import DeliveryLog
from socialdesk.core.push.source import PushRefused, PushSource

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


def _refusal(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


class PushServer:
    def __init__(self, app: DeskApp, sources: Sequence[PushSource], *, host: str, port: int,
                 max_body_bytes: int) -> None:
        self._app = app
        self._sources = {source.name: source for source in sources}
        self._host = host
        self._wanted_port = port
        self._max_body_bytes = max_body_bytes
        self._deliveries = DeliveryLog(app.database)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port is not None else None

    async def start(self) -> None:
        # aiohttp's own cap is a second fence; read_bounded refuses first, before reading.
        web_app = web.Application(client_max_size=self._max_body_bytes + 1)
        web_app.router.add_get("/healthz", self._health)
        web_app.router.add_post("/push/{source:.+}", self._receive)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._wanted_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise DeskError(f"plugins.push.port: cannot listen on {self._host}:{self._wanted_port} ({exc.strerror}); "
                            "give each replica on a host its own port, or 0 for any free port") from None
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("push server listening", extra={"host": self._host, "port": self.port,
                                                  "sources": sorted(self._sources)})
        for name, source in sorted(self._sources.items()):
            problem = source.configuration_problem()
            if problem is not None:  # /healthz says so too; its requests are refused with 503
                log.warning("push source cannot verify requests", extra={"source": name, "problem": problem})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        sources = {}
        for name, source in sorted(self._sources.items()):
            problem = source.configuration_problem()
            sources[name] = {"platform": source.platform, "path": source.path, "configured": problem is None,
                             **({"problem": problem} if problem else {})}
        healthy = all(entry["configured"] for entry in sources.values())
        return web.json_response({"status": "ok" if healthy else "misconfigured", "sources": sources},
                                 status=200 if healthy else 503)

    async def _receive(self, request: web.Request) -> web.Response:
        name = request.match_info["source"]
        source = self._sources.get(name)
        if source is None:
            return _refusal(404, f"no push source is configured at /push/{name[:100]}")
        problem = source.configuration_problem()
        if problem is not None:
            return _refusal(503, f"this source is not configured on the desk: {problem}")
        try:
            body = await read_bounded(request, self._max_body_bytes)
        except BodyTooLarge as exc:
            log.warning("push refused: body too large", extra={"source": name, "limit": exc.limit})
            return _refusal(413, f"the body is larger than {exc.limit} bytes")
        try:
            delivery = source.authenticate(request.headers, body, self._app.clock())
        except PushRefused as refused:
            log.warning("push refused", extra={"source": name, "status": refused.status, "reason": refused.reason})
            return _refusal(refused.status, refused.reason)
        try:
            if await self._deliveries.seen(name, delivery.delivery_id):
                log.info("push replay ignored", extra={"source": name, "delivery_id": delivery.delivery_id})
                return web.json_response({"status": "duplicate", "delivery_id": delivery.delivery_id})
            accepted = await source.accept(delivery, self._app)
            await self._deliveries.record(name, delivery.delivery_id, self._app.clock())
        except PushRefused as refused:
            log.warning("push refused", extra={"source": name, "status": refused.status, "reason": refused.reason})
            return _refusal(refused.status, refused.reason)
        except Exception:
            # Nothing acknowledged: the sender retries, and ingest stores a mention once.
            log.exception("push delivery could not be stored", extra={"source": name})
            return _refusal(503, "the desk could not store this delivery; retry later")
        answer = {"status": "accepted", "delivery_id": delivery.delivery_id, "stored": accepted.stored,
                  "ignored": accepted.ignored}
        if accepted.note:
            answer["note"] = accepted.note
        return web.json_response(answer)
