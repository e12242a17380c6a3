"""`socialdesk check --online`: each platform says what its credentials can see."""

from __future__ import annotations

from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry


class Seeing:
    @hookimpl
    def socialdesk_check_online(self) -> OnlineCheck:
        return OnlineCheck("seeing", seen=("account @acme",), problems=("intent MESSAGE_CONTENT missing",))


class Exploding:
    @hookimpl
    async def socialdesk_check_online(self, app) -> OnlineCheck:  # type: ignore[no-untyped-def]
        raise ConnectionError("api.example refused the connection")


async def test_every_platform_reports_and_a_failing_check_is_its_problem(make_app):
    app = await make_app(extra=[PluginEntry("seeing", Seeing(), "test", True),
                                PluginEntry("exploding", Exploding(), "test", True)])
    checks = {c.platform: c for c in await app.hooks.check_online()}
    assert checks["seeing"].seen == ("account @acme",)
    assert checks["seeing"].problems == ("intent MESSAGE_CONTENT missing",)
    assert checks["exploding"].problems == ("check failed: ConnectionError: api.example refused the connection",)
