"""[plugins.sla]: defaults, and mistakes reported with the key and the fix."""

from __future__ import annotations

from datetime import date

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.plugins.sla.settings import SlaPolicy, SlaSettings, parse_duration, parse_hours


def problems(sla: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"sla": sla}}, discover_plugins())
    return caught.value.lines()


def test_defaults() -> None:
    config = parse_config({}, discover_plugins())
    assert "sla" in config.enabled
    settings: SlaSettings = config.settings("sla")
    policy = SlaPolicy.build(settings, "UTC")
    assert [policy.target_seconds("first_response", p) for p in (1, 2, 3, 4)] == [3600, 7200, 14400, 28800]
    assert [policy.target_seconds("resolution", p) for p in (1, 2, 3, 4)] == [8 * 3600, 16 * 3600, 24 * 3600, 40 * 3600]
    assert policy.calendar(1).is_24x7 and not policy.calendar(2).is_24x7
    assert policy.business.weekly == {d: ((9 * 3600, 17 * 3600),) for d in range(5)}
    assert settings.reminder_at == 0.75 and settings.breach_mentions_oncall


def test_partial_targets_keep_the_other_defaults() -> None:
    config = parse_config({"plugins": {"sla": {
        "targets": {"2": {"first_response": "30m", "resolution": "1h30m", "calendar": "24x7"}},
        "business_hours": {"monday": "08:00-12:00, 13:00-18:00", "saturday": "10:00-14:00"},
        "holidays": ["2026-12-25", date(2027, 1, 1)],
    }}}, discover_plugins())
    policy = SlaPolicy.build(config.settings("sla"), "Europe/Berlin")
    assert policy.target_seconds("first_response", 2) == 1800 and policy.target_seconds("resolution", 2) == 5400
    assert policy.calendar(2).is_24x7 and policy.target_seconds("first_response", 3) == 14400
    assert policy.business.weekly == {0: ((8 * 3600, 12 * 3600), (13 * 3600, 18 * 3600)), 5: ((10 * 3600, 14 * 3600),)}
    assert policy.business.holidays == {date(2026, 12, 25), date(2027, 1, 1)}


@pytest.mark.parametrize(("sla", "expected"), [
    ({"targets": {"5": {"first_response": "1h", "resolution": "2h"}}},
     'plugins.sla.targets: target keys are priorities "1" to "4"'),
    ({"targets": {"1": {"first_response": "1d", "resolution": "2h"}}},
     "plugins.sla.targets.1.first_response: must be a duration of business time such as"),
    ({"targets": {"1": {"first_response": "1h"}}}, "plugins.sla.targets.1.resolution: Field required"),
    ({"targets": {"1": {"first_response": "1h", "resolution": "2h", "calendar": "always"}}},
     "plugins.sla.targets.1.calendar: Input should be 'business' or '24x7'"),
    ({"business_hours": {"mon": "09:00-17:00"}}, "plugins.sla.business_hours: 'mon' is not a weekday"),
    ({"business_hours": {"monday": "9-5"}}, 'plugins.sla.business_hours: monday: must look like "09:00-17:00"'),
    ({"business_hours": {"monday": "17:00-09:00"}}, "ends before it starts; ranges cannot cross midnight"),
    ({"business_hours": {"monday": "09:00-13:00,12:00-17:00"}}, "overlap"),
    ({"business_hours": {"sunday": "closed"}}, "no opening hours at all"),
    ({"holidays": ["25/12/2026"]}, "plugins.sla.holidays.0: Input should be a valid date"),
    ({"reminder_at": 1.5}, "plugins.sla.reminder_at: Input should be less than 1"),
    ({"remind_at": 0.5}, "plugins.sla.remind_at: unknown key; did you mean 'reminder_at'?"),
])
def test_mistakes_name_the_key_and_the_fix(sla: dict, expected: str) -> None:
    lines = problems(sla)
    assert any(expected in line for line in lines), lines


def test_durations_and_hours() -> None:
    assert [parse_duration(s) for s in ("45m", "4h", "1h30m", "90s", "2 h 15 min")] == [2700, 14400, 5400, 90, 8100]
    for bad in ("", "0h", "1d", "soon", "-1h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_hours("00:00-24:00") == [(0, 86_400)] and parse_hours("Closed") == []
    with pytest.raises(ValueError):
        parse_hours("09:00-24:30")
