"""The push receiver: started only for declared sources, one name per source, a clear error
when its port is taken."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import datetime

import pytest

from socialdesk.core.errors import DeskError
from socialdesk.core.hooks import PluginConflict
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.push.plugin import push_server
from socialdesk.core.push.source import Accepted, Delivery, PushSource


class Silent(PushSource):
    platform = "testnet"

    def __init__(self, name: str) -> None:
        self.name = name

    def configuration_problem(self) -> str | None:
        return None

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Delivery:
        return Delivery("1", {})

    async def accept(self, delivery: Delivery, app) -> Accepted:  # type: ignore[no-untyped-def]
        return Accepted()


class Declares:
    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def socialdesk_push_sources(self) -> list[PushSource]:
        return [Silent(name) for name in self.names]


async def test_no_source_no_server(make_app):
    app = await make_app({"plugins": {"push": {"port": 0}}})
    await app.hooks.start_services()
    assert push_server(app) is None
    await app.hooks.stop_services()


async def test_two_plugins_cannot_share_a_path(make_app):
    app = await make_app({"plugins": {"push": {"port": 0}}},
                         extra=[PluginEntry("one", Declares("forum"), "test", True),
                                PluginEntry("two", Declares("forum"), "test", True)])
    with pytest.raises(PluginConflict, match="/push/forum"):
        await app.hooks.start_services()


async def test_a_taken_port_names_the_setting(make_app):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = await make_app({"plugins": {"push": {"host": "127.0.0.1", "port": port}}},
                             extra=[PluginEntry("one", Declares("forum"), "test", True)])
        with pytest.raises(DeskError, match="plugins.push.port: cannot listen"):
            await app.hooks.start_services()
