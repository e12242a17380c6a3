"""Run an aiohttp application on 127.0.0.1 at a free port chosen by the OS."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from socialdesk.sandbox.faults import ErrorResponder, FaultPlan, fault_middleware
from socialdesk.sandbox.traffic import TrafficRecorder, traffic_middleware

LOOPBACK = "127.0.0.1"
MAX_REQUEST_BYTES = 50 * 1024 * 1024  # file uploads (digest charts) are larger than aiohttp's 1 MiB default


class EmulatorServer:
    """Base class: subclasses add routes in ``setup(app)`` and answer errors in ``error_response``."""

    name = "emulator"

    def __init__(self, recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        self.recorder = recorder or TrafficRecorder()
        self.faults = faults or FaultPlan()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"the {self.name} emulator is not started")
        return f"http://{LOOPBACK}:{self.port}"

    def setup(self, app: web.Application) -> None:
        raise NotImplementedError

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        raise NotImplementedError

    def build_app(self) -> web.Application:
        # The recorder sits outside the fault injector so injected faults are recorded too.
        respond: ErrorResponder = self.error_response
        app = web.Application(
            middlewares=[traffic_middleware(self.name, self.recorder), fault_middleware(self.faults, respond)],
            client_max_size=MAX_REQUEST_BYTES,
        )
        self.setup(app)
        return app

    async def start(self, port: int = 0) -> EmulatorServer:
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, port).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None  # ``port`` stays: tests check that nothing listens there any more

    async def __aenter__(self) -> Any:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
