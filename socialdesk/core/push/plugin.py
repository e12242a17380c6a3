"""Default plugin ``push``: ``[plugins.push]`` and the push server on every replica.

The server is a core service of its own, not a route on the status server or on Slack's
HTTP endpoint: the status server is optional and meant for Prometheus inside the network,
Slack may run in Socket Mode with no HTTP server at all, while the push server faces the
internet (Discourse, a shop) and is exposed on its own port with its own limits. It starts
on every replica (``socialdesk_start_services``) as soon as an enabled plugin declares a
source, and not at all otherwise. The replay log is pruned by the leader once an hour.
"""

from __future__ import annotations

import functools
import logging
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import field_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.push.deliveries import DeliveryLog
from socialdesk.core.push.server import PushServer

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
PLUGIN_NAME = "push"
DEFAULT_PORT = 8095
PRUNE_JOB = "push.prune_deliveries"

_servers: weakref.WeakKeyDictionary[DeskApp, PushServer] = weakref.WeakKeyDictionary()


class PushSettings(StrictModel):
    host: str = "0.0.0.0"  # senders are on the internet; put a TLS proxy in front
    port: int = DEFAULT_PORT
    max_body_bytes: int = 256 * 1024
    replay_window_hours: int = 72

    @field_validator("port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError(f"must be a TCP port from 1 to 65535, or 0 for any free port (got {value})")
        return value

    @field_validator("max_body_bytes")
    @classmethod
    def _check_body(cls, value: int) -> int:
        if not 1024 <= value <= 10 * 1024 * 1024:
            raise ValueError(f"must be from 1024 bytes to 10 MiB (got {value}); 256 KiB fits any forum post")
        return value

    @field_validator("replay_window_hours")
    @classmethod
    def _check_window(cls, value: int) -> int:
        if not 1 <= value <= 24 * 30:
            raise ValueError(f"must be from 1 to 720 hours (got {value}); it must outlast every sender's retries")
        return value


def push_server(app: DeskApp) -> PushServer | None:
    """The running push server of ``app`` (for tests and the demo), if any."""
    return _servers.get(app)


@hookimpl
def socialdesk_settings_model() -> type[PushSettings]:
    return PushSettings


@hookimpl
async def socialdesk_start_services(app: DeskApp) -> None:
    sources = app.hooks.push_sources()
    if not sources:
        return
    settings: PushSettings = app.settings(PLUGIN_NAME)
    server = PushServer(app, sources, host=settings.host, port=settings.port,
                        max_body_bytes=settings.max_body_bytes)
    await server.start()
    _servers[app] = server


@hookimpl
async def socialdesk_stop_services(app: DeskApp) -> None:
    server = _servers.pop(app, None)
    if server is not None:
        await server.stop()


async def prune_deliveries(app: DeskApp) -> int:
    settings: PushSettings = app.settings(PLUGIN_NAME)
    return await DeliveryLog(app.database).prune(app.clock() - timedelta(hours=settings.replay_window_hours))


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    if app.hooks.push_sources():
        scheduler.add_job(functools.partial(prune_deliveries, app), "interval", hours=1, id=PRUNE_JOB,
                          name="push: forget old delivery ids", replace_existing=True)
