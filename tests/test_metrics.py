"""Metrics after known events, and the status server's /healthz and /metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from socialdesk.core.app import DeskApp
from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.store.database import Database
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import Actor
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.platform import PermanentPlatformError, TransientPlatformError
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.runtime.replica import Replica
from socialdesk.core.runtime.status_server import StatusServer
from tests.conftest import FakeClock, mention
from tests.platform_double import PLATFORM, TestPlatform

AGENT = Actor("U0AGENT001")


def sample(app: DeskApp, name: str, **labels: str) -> float | None:
    return metrics_for(app).registry.get_sample_value(name, labels)


async def test_queue_depth_and_outbox_lag_are_read_from_the_store(app: DeskApp, clock: FakeClock) -> None:
    metrics = metrics_for(app)
    await metrics.refresh(app)
    assert sample(app, "socialdesk_queue_tickets", status="open", priority="3") == 0.0  # zeros are reported
    assert sample(app, "socialdesk_outbox_lag_seconds") == 0.0
    assert sample(app, "socialdesk_store_up") == 1.0

    first = (await app.service.ingest(mention(text="where is my parcel"))).ticket_id
    await app.service.ingest(mention(text="the checkout page is down for everyone"))
    clock.advance(seconds=90)
    await app.service.ingest(mention(text="thanks a lot"))
    await metrics.refresh(app)
    tickets = await app.service.queue(limit=10)
    by_priority: dict[int, int] = {}
    for ticket in tickets:
        by_priority[ticket.priority] = by_priority.get(ticket.priority, 0) + 1
    for priority in (1, 2, 3, 4):
        assert sample(app, "socialdesk_queue_tickets", status="open", priority=str(priority)) == \
            by_priority.get(priority, 0)
    assert sample(app, "socialdesk_outbox_jobs", status="pending", kind="post_card") == 3.0
    assert sample(app, "socialdesk_outbox_lag_seconds") == 90.0  # the oldest card job waits since ingest

    await app.outbox_runner().drain()
    await app.service.close(first, AGENT, "sorted")
    await app.outbox_runner().drain()
    await metrics.refresh(app)
    assert sample(app, "socialdesk_outbox_lag_seconds") == 0.0
    assert sample(app, "socialdesk_outbox_jobs", status="pending", kind="post_card") is None
    assert sum(sample(app, "socialdesk_queue_tickets", status="open", priority=str(p)) or 0
               for p in (1, 2, 3, 4)) == 2.0  # closed tickets leave the queue


async def test_first_response_is_observed_once_per_ticket(app: DeskApp, clock: FakeClock) -> None:
    metrics_for(app)  # as `socialdesk run` does at start: from now on events are observed
    tid = (await app.service.ingest(mention(text="my order never arrived"))).ticket_id
    clock.advance(seconds=400)
    await app.service.reply(tid, AGENT, "So sorry, a new parcel is on its way.")
    await app.outbox_runner().drain()
    assert sample(app, "socialdesk_first_response_seconds_count", platform=PLATFORM) == 1.0
    assert sample(app, "socialdesk_first_response_seconds_sum", platform=PLATFORM) == 400.0
    assert sample(app, "socialdesk_first_response_seconds_bucket", platform=PLATFORM, le="300.0") == 0.0
    assert sample(app, "socialdesk_first_response_seconds_bucket", platform=PLATFORM, le="600.0") == 1.0

    clock.advance(seconds=60)
    await app.service.reply(tid, AGENT, "Tracking number: 123.")
    await app.outbox_runner().drain()
    assert sample(app, "socialdesk_first_response_seconds_count", platform=PLATFORM) == 1.0  # not the second


async def test_platform_errors_and_rate_limits_are_counted_by_platform(app: DeskApp, platform: TestPlatform,
                                                                       clock: FakeClock) -> None:
    tid = (await app.service.ingest(mention())).ticket_id
    platform.script = [TransientPlatformError("slow down", retry_after=0.0, status=429),
                       TransientPlatformError("server error", status=503),
                       PermanentPlatformError("the post is gone")]
    await app.service.reply(tid, AGENT, "Hello!")
    for _ in range(3):
        await app.outbox_runner().drain()
        clock.advance(seconds=600)  # past the retry delays
    assert sample(app, "socialdesk_platform_api_errors_total", platform=PLATFORM, kind="transient") == 2.0
    assert sample(app, "socialdesk_platform_api_errors_total", platform=PLATFORM, kind="permanent") == 1.0
    assert sample(app, "socialdesk_platform_rate_limited_total", platform=PLATFORM) == 1.0


async def test_sla_breaches_are_counted_by_platform(app: DeskApp) -> None:
    metrics_for(app)
    tid = (await app.service.ingest(mention())).ticket_id
    event = TicketEvent(EventKind("sla_breached"), tid, "system", app.clock(), {"timer": "first_response"})
    await app.hooks.ticket_event(event)
    await app.hooks.ticket_event(event)
    assert sample(app, "socialdesk_sla_breaches_total", platform=PLATFORM) == 2.0


async def test_two_desks_in_one_process_share_no_metrics(make_app: Any) -> None:
    one, two = await make_app(), await make_app()
    assert metrics_for(one) is metrics_for(one) and metrics_for(one) is not metrics_for(two)
    metrics_for(one).rate_limited.labels(platform="x").inc()
    assert sample(one, "socialdesk_platform_rate_limited_total", platform="x") == 1.0
    assert sample(two, "socialdesk_platform_rate_limited_total", platform="x") is None


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


async def test_healthz_and_metrics_of_a_running_replica(make_app: Any) -> None:
    app = await make_app({"desk": {"status_port": 0, "outbox": {"poll_interval_seconds": 0.02}}})
    await app.service.ingest(mention(text="is anyone there?"))
    replica = Replica(app)
    stop = asyncio.Event()
    task = asyncio.create_task(replica.run(stop))
    try:
        async with asyncio.timeout(20):
            while replica.duties.scheduler is None:  # leading, and the leader's duties started
                await asyncio.sleep(0.02)
        assert replica.status is not None and replica.status.url
        status, _, body = await _get(replica.status.url + "/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "leader": True, "database": "ok"}

        status, content_type, body = await _get(replica.status.url + "/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(body)}
        for name in ("socialdesk_queue_tickets", "socialdesk_outbox_jobs", "socialdesk_outbox_lag_seconds",
                     "socialdesk_store_up", "socialdesk_first_response_seconds", "socialdesk_sla_breaches",
                     "socialdesk_platform_api_errors", "socialdesk_platform_rate_limited", "socialdesk_leader"):
            assert name in families, name
        assert families["socialdesk_leader"].samples[0].value == 1.0
        assert families["socialdesk_first_response_seconds"].type == "histogram"
        open_tickets = [s.value for s in families["socialdesk_queue_tickets"].samples
                        if s.labels["status"] == "open"]
        assert sum(open_tickets) == 1.0
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    catalog = discover_plugins()
    config = parse_config({}, catalog)
    from socialdesk.core.plugin_manager import build_plugin_manager

    # Nothing listens on port 1: every connection is refused at once.
    app = DeskApp(config, build_plugin_manager(catalog, config),
                  Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing"))
    server = StatusServer(app, lambda: False, 0, host="127.0.0.1")
    await server.start()
    try:
        status, _, body = await _get(f"{server.url}/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "leader": False,
                                                  "database": "unreachable"}
        status, _, body = await _get(f"{server.url}/metrics")
        assert status == 200
        [up] = [s for f in text_string_to_metric_families(body) if f.name == "socialdesk_store_up" for s in f.samples]
        assert up.value == 0.0
    finally:
        await server.stop()
        await app.close()


def test_status_port_is_validated_and_named_in_the_error() -> None:
    catalog = discover_plugins()
    assert parse_config({}, catalog).desk.status_port is None  # not served unless asked for
    assert parse_config({"desk": {"status_port": 9100}}, catalog).desk.status_port == 9100
    with pytest.raises(ConfigError) as raised:
        parse_config({"desk": {"status_port": 70000}}, catalog)
    assert any(line.startswith("plugins.toml: desk.status_port:") for line in raised.value.lines())


async def test_a_taken_status_port_is_a_clear_start_up_error(app: DeskApp) -> None:
    first = StatusServer(app, lambda: True, 0, host="127.0.0.1")
    await first.start()
    try:
        second = StatusServer(app, lambda: True, first.port or 0, host="127.0.0.1")
        with pytest.raises(Exception, match="desk.status_port: cannot listen on 127.0.0.1"):
            await second.start()
    finally:
        await first.stop()


def test_run_takes_a_status_port_per_replica() -> None:
    from socialdesk.cli import _parser, _with_status_port

    args = _parser().parse_args(["run", "--status-port", "0"])
    config = _with_status_port(parse_config({}, discover_plugins()), args.status_port)
    assert config.desk.status_port == 0
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "--status-port", "http"])

