"""``socialdesk report``: the hand-computed day in the three formats, empty periods, mistakes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from socialdesk.cli import main
from socialdesk.core.store.database import Database
from socialdesk.core.store.migrate import upgrade
from socialdesk.core.reports.formats import CSV_HEADER, JSON_SCHEMA
from tests.reports.fixture import AGENT_A, AGENT_B, seed

DAY = ["--since", "2026-11-02", "--until", "2026-11-03"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """plugins.toml over a SQLite database holding the hand-computed day."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"

    async def prepare() -> None:
        database = Database(url)
        try:
            await upgrade(database)
            await seed(database)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "{url}"\ntimezone = "UTC"\n')
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_follows_its_schema_and_the_hand_computed_numbers(config: Path, capsys) -> None:
    code, out, err = run(capsys, "--config", str(config), "report", *DAY, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    jsonschema.validate(data, JSON_SCHEMA)
    assert data["since"] == "2026-11-02T00:00:00+00:00" and data["until"] == "2026-11-03T00:00:00+00:00"
    assert data["volume"] == {"created": 7, "tickets": 5, "auto_closed": 1, "spam": 1,
                              "by_platform": {"x": 3, "discord": 2},
                              "by_category": {"outage": 2, "question": 2, "refund": 1},
                              "by_priority": {"P1": 2, "P2": 1, "P3": 2}}
    assert data["first_response"] == {"count": 4, "median_seconds": 450.0, "p90_seconds": 1440.0, "unanswered": 1}
    assert data["resolution"] == {"count": 4, "median_seconds": 5400.0, "p90_seconds": 32400.0}
    assert data["sla"] == {"first_response": {"met": 2, "missed": 3, "attainment": 0.4},
                           "resolution": {"met": 2, "missed": 2, "attainment": 0.5}}
    assert data["agents"] == [{"agent": AGENT_B, "claimed": 2, "replies": 3, "closed": 2},
                              {"agent": AGENT_A, "claimed": 2, "replies": 2, "closed": 2}]
    assert data["csat"] == {"sent": 4, "responses": 4, "average": 3.5, "satisfied": 0.5}
    assert data["queue_now"] == {"open": 3, "unclaimed": 2}


def test_csv_parses_into_the_same_numbers(config: Path, capsys) -> None:
    code, out, _ = run(capsys, "--config", str(config), "report", *DAY, "--csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_HEADER and all(len(r) == 3 for r in rows)
    values = {(section, name): value for section, name, value in rows[1:]}
    assert values[("volume", "tickets")] == "5" and values[("platform", "x")] == "3"
    assert values[("priority", "P1")] == "2" and values[("category", "refund")] == "1"
    assert values[("first_response", "median_seconds")] == "450.0"
    assert values[("first_response", "p90_seconds")] == "1440.0"
    assert values[("resolution", "p90_seconds")] == "32400.0"
    assert values[("sla_first_response", "attainment")] == "0.4"
    assert values[("agent_" + AGENT_B, "replies")] == "3"
    assert values[("csat", "average")] == "3.5" and values[("csat", "satisfied")] == "0.5"


def test_text_is_a_table_for_people(config: Path, capsys) -> None:
    code, out, _ = run(capsys, "--config", str(config), "report", *DAY)
    assert code == 0
    assert out.startswith("socialdesk report 2026-11-02 00:00 .. 2026-11-03 00:00 (UTC)\n")
    lines = out.splitlines()
    assert "tickets                 5  (created 7; auto-closed 1, spam 1 apart)" in lines
    assert "first response                4         7 min        24 min   (1 unanswered)" in lines  # 450 s, 1440 s
    assert "resolution                    4    1 h 30 min           9 h" in lines  # 5400 s, 32400 s
    assert "  first_response              2             3         40.0%" in lines
    assert "  U0AGENTBBB                  2             3             2" in lines
    assert "CSAT                    4 responses to 4 surveys sent; average 3.50/5, satisfied (4-5) 50.0%" in lines
    assert lines[-1] == "queue now               3 open, 2 unclaimed"


def test_an_empty_period_reports_zeros_in_every_format(config: Path, capsys) -> None:
    empty = ["--since", "2026-10-01", "--until", "2026-10-08"]
    code, out, _ = run(capsys, "--config", str(config), "report", *empty, "--json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, JSON_SCHEMA)
    assert data["volume"]["tickets"] == 0 and data["first_response"]["median_seconds"] is None
    assert data["sla"] == {} and data["agents"] == [] and data["csat"]["average"] is None
    code, out, _ = run(capsys, "--config", str(config), "report", *empty, "--csv")
    values = {(s, n): v for s, n, v in list(csv.reader(io.StringIO(out)))[1:]}
    assert values[("first_response", "median_seconds")] == "" and values[("volume", "created")] == "0"
    code, out, _ = run(capsys, "--config", str(config), "report", *empty)
    assert "no timer met or missed in the period" in out and "n/a" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last week"], "--since 'last week' is not understood; use 7d, 24h, 2w"),
    (["--since", "2026-11-03", "--until", "2026-11-02"], "must be before --until"),
])
def test_mistakes_are_one_line_without_a_traceback(config: Path, capsys, args: list[str], message: str) -> None:
    code, out, err = run(capsys, "--config", str(config), "report", *args)
    assert code == 1 and out == ""
    assert err.startswith("socialdesk: ") and message in err and len(err.strip().splitlines()) == 1


def test_config_may_follow_the_command(config: Path, capsys) -> None:
    code, out, _ = run(capsys, "report", *DAY, "--json", "--config", str(config))
    assert code == 0 and json.loads(out)["volume"]["tickets"] == 5


def test_csv_and_json_exclude_each_other(config: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "report", "--csv", "--json"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_database_without_the_schema_is_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text(f'[desk]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "new.db"}"\n')
    code, _, err = run(capsys, "--config", str(path), "report")
    assert code == 1 and "run `socialdesk db upgrade`" in err
