"""What the card shows of the SLA clocks, and the sweep's place in the scheduler."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from socialdesk.core.extensions import CardField
from socialdesk.core.slack.card import SLA_FIELD, build_card
from socialdesk.core.runtime.scheduler import build_scheduler
from socialdesk.plugins.sla.plugin import sweep
from tests.conftest import mention
from tests.sla.test_sla_scenarios import config, paris
from tests.slack.test_card import NOW, details


def rendered(fields: list[CardField], **changes: object) -> tuple[str, list[dict]]:
    card = build_card(details(**changes), fields=fields, now=NOW, preview_chars=1200, oncall_group=None)
    blocks = card.blocks_json()
    return json.dumps(blocks, ensure_ascii=False), blocks


def test_the_sla_plugins_clock_replaces_the_wall_clock_line() -> None:
    clock = "🚨 SLA breached · First response overdue by 3 h of business time (was due Tue 10 Nov 12:00 CET)"
    shown, blocks = rendered([CardField(SLA_FIELD, clock), CardField("SLA breached", "first response <!channel>")])
    context = [b for b in blocks if b["type"] == "context"][-1]["elements"][0]["text"]
    assert context == "⏱ " + clock
    assert "First response due in" not in shown  # no second, wall-clock countdown
    assert f'*{SLA_FIELD}*\\n' not in shown  # not repeated among the fields
    assert "*SLA breached*\\nfirst response &lt;!\u2060channel&gt;" in shown  # a field, escaped like any


def test_without_the_plugin_a_snoozed_ticket_says_its_clock_is_paused() -> None:
    shown, _ = rendered([], status="snoozed", snoozed_until=NOW + timedelta(hours=2))
    assert "First response due in 12 min (by <!date^" in shown and "· paused while snoozed" in shown


async def test_the_sweep_is_scheduled(make_app) -> None:
    app = await make_app()
    job = {j.id: j for j in build_scheduler(app).get_jobs()}["sla.sweep"]
    assert job.func is sweep and job.args == (app,) and job.trigger.interval == timedelta(seconds=30)


async def test_the_card_clock_of_a_running_ticket(make_app, clock) -> None:
    app = await make_app(config())
    clock.now = paris(2026, 11, 6, 16, 0)
    tid = (await app.service.ingest(mention())).ticket_id
    clock.now = paris(2026, 11, 6, 16, 30)
    fields = {f.label: f.value for f in await app.hooks.card_fields(await app.service.get_ticket(tid))}
    assert fields[SLA_FIELD] == ("First response due in 3 h 30 min of business time (by Tue 10 Nov 12:00 CET)"
                                 " · resolution due in 15 h 30 min of business time (by Wed 11 Nov 16:00 CET)")
    assert "SLA breached" not in fields
    assert (await sweep(app))["breached"] == 0


async def test_a_sweep_that_announces_logs_one_line(make_app, clock, caplog) -> None:
    caplog.set_level(logging.INFO, logger="socialdesk.plugins.sla.plugin")
    app = await make_app(config())
    clock.now = paris(2026, 11, 6, 16, 0)
    await app.service.ingest(mention())
    clock.now = paris(2026, 11, 10, 12, 0)
    assert (await sweep(app))["breached"] == 1
    [line] = [r for r in caplog.records if r.message == "sla sweep"]
    assert (line.sla_tickets, line.sla_breached, line.sla_reminded) == (1, 1, 0)
