"""Display names beside the raw ``U…`` ids: the bounded, expiring, rate-limit-aware
``users.info`` cache, ``/desk stats`` and ``socialdesk report`` (text, CSV, JSON)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator

import jsonschema
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.config import parse_config
from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.reports.formats import JSON_SCHEMA, as_csv, as_json, as_text
from socialdesk.core.reports.report import build_report
from socialdesk.core.slack.display_names import DisplayNames
from socialdesk.core.slack.report_names import report_names
from socialdesk.sandbox.slack import RateLimits, SlackEmulator
from tests.slack.conftest import ALICE, BOB, CAROL, DANA, Desk, Ticking


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(rate_limits=RateLimits.off()) as emulator:
        yield emulator


def lookups(slack: SlackEmulator) -> int:
    return sum(1 for c in slack.api_calls if c.method == "users.info")


async def test_the_cache_is_bounded_expires_and_respects_retry_after(slack: SlackEmulator) -> None:
    clock = Ticking()
    names = DisplayNames(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url), ttl=60, max_entries=2,
                         clock=clock)
    assert await names.names([ALICE, BOB, "system", ALICE]) == {ALICE: "alice", BOB: "bob"}
    assert lookups(slack) == 2
    await names.name(ALICE)
    assert lookups(slack) == 2  # cached
    await names.name(CAROL)  # a third name: the least recently used (Bob) is forgotten
    assert names.cached(BOB) is None and names.cached(ALICE) == "alice"
    clock.now += 61
    assert await names.name(ALICE) == "alice" and lookups(slack) == 4  # expired: asked again

    clock.now += 61
    slack.faults.set(rate_limited=1.0, only_paths=("/api/users.info",), retry_after_seconds=30)
    assert await names.name(ALICE) == "alice"  # Slack says wait: the last known name meanwhile
    assert slack.faults.counts == {"rate_limited": 1}
    assert await names.name(DANA) is None  # never known: the caller shows the id
    await names.name(BOB)
    assert slack.faults.counts == {"rate_limited": 1}  # nobody is asked before the Retry-After has passed
    slack.faults.clear()
    clock.now += 31
    assert await names.name(DANA) == "dana"


async def test_stats_show_names_beside_ids(start_desk) -> None:
    desk: Desk = await start_desk("http")
    tid = await desk.mention()
    await desk.app.service.claim(tid, Actor(ALICE))
    answer = await desk.command("stats", user=BOB)
    assert f"alice (`{ALICE}`) 0 replies/0 closed/1 claimed" in answer
    assert f"<@{ALICE}>" not in answer


async def test_reports_name_agents_beside_their_ids(start_desk, slack: SlackEmulator) -> None:
    desk: Desk = await start_desk("http")
    tid = await desk.mention()
    await desk.app.service.claim(tid, Actor(ALICE))
    now = desk.app.clock()
    report = await build_report(desk.app.database, now.replace(year=now.year - 1), now, now=now, tz_name="UTC")
    config = parse_config({"plugins": {"slack": {"enabled": True, "api_url": slack.api_url,
                                                 "bot_token_env": "REPORT_SLACK_TOKEN"}}}, discover_plugins())
    names = await report_names(config, [a.agent for a in report.agents], {"REPORT_SLACK_TOKEN": slack.bot_token})
    assert names == {ALICE: "alice"}
    assert await report_names(config, [ALICE], {}) == {}  # no token: ids only, nothing asked

    assert f"alice ({ALICE})" in as_text(report, names)
    rows = list(csv.reader(io.StringIO(as_csv(report, names))))
    assert [f"agent_{ALICE}", "name", "alice"] in rows and [f"agent_{ALICE}", "claimed", "1"] in rows
    data = json.loads(as_json(report, names))
    jsonschema.validate(data, JSON_SCHEMA)
    assert data["agents"] == [{"agent": ALICE, "name": "alice", "claimed": 1, "replies": 0, "closed": 0}]
    assert "name" not in json.loads(as_json(report))["agents"][0]


async def test_simultaneous_askers_share_one_lookup(slack: SlackEmulator) -> None:
    """Fifty agents losing a claim at once all need the holder's name: one users.info."""
    names = DisplayNames(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    answers = await asyncio.gather(*(names.name(ALICE) for _ in range(50)), names.name(BOB))
    assert answers == ["alice"] * 50 + ["bob"]
    assert lookups(slack) == 2
