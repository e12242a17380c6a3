"""The learned triage plugin inside a desk: its reason on the card, a missing model that
degrades to the keyword rules with a warning, agents' corrections (audited, on the card,
ephemeral errors), and a desk model trained from them, installed only when better and
rolled back."""

from __future__ import annotations

import asyncio
import re
import json

import aiohttp
import pytest

from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor, SubcommandCall
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.runtime.replica import Replica
from socialdesk.plugins.triage import desk_models
from socialdesk.plugins.triage.correction_command import correct
from socialdesk.plugins.triage.desk_training import corrections, train_from_desk
from socialdesk.plugins.triage.learned import current_model, forget_models
from tests.conftest import mention
from tests.store_queries import jobs
from tests.test_cli import cli, upgraded, write_config
from tests.triage.tiny_data import CALM, write_tiny_data

AGENT = Actor("U0AGENT")
LEARNED = {"plugins": {"learned_triage": {}}}  # on, with its defaults (tests/conftest.py turns it off otherwise)
LOCKED_OUT = "@acme someone changed my password and now I can't get into my account at all"


@pytest.fixture(autouse=True)
def _fresh_models():
    forget_models()
    yield
    forget_models()


async def _ticket(app, text):
    return await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)


async def test_the_model_proposes_p2_and_says_why(make_app):
    app = await make_app(LEARNED)
    ticket = await _ticket(app, LOCKED_OUT)
    assert (ticket.priority, ticket.category) == (2, "account_security")
    why = [r for r in ticket.priority_reasons if r.startswith("model base: urgent ")]
    assert why and re.fullmatch(r"model base: urgent (0\.9\d|1\.00), account_security (0\.\d\d|1\.00)", why[0])


async def test_a_customer_quoting_a_promotion_is_not_filed_as_spam(make_app):
    quoting = "@acme the discount code you emailed me doesn't work, can someone look at my order?"
    with_model = await _ticket(await make_app(LEARNED), quoting)
    assert with_model.spam_suspected is False and with_model.priority < 4  # not sunk to the bottom
    assert any(r.startswith("not spam: promotion pattern 'discount code' set aside")
               for r in with_model.priority_reasons), with_model.priority_reasons
    # Without the model, the pattern alone decides (as before).
    assert (await _ticket(await make_app(), quoting)).spam_suspected is True


async def test_an_admin_rule_overrides_the_model(make_app):
    app = await make_app({"plugins": {"learned_triage": {}, "keyword_triage": {"rules": [
        {"name": "password", "category": "question", "priority": 4, "phrases": ["changed my password"]}]}}})
    ticket = await _ticket(app, LOCKED_OUT)
    assert (ticket.priority, ticket.category) == (4, "question")


async def test_a_missing_model_leaves_the_keyword_rules_and_a_warning(make_app, tmp_path, caplog):
    missing = tmp_path / "gone.npz"
    app = await make_app({"plugins": {"learned_triage": {"model_path": str(missing)}}})
    ticket = await _ticket(app, "@acme the site is down for everyone")
    assert (ticket.priority, ticket.category) == (1, "outage")  # the keyword rules, as before
    assert not any(r.startswith("model") for r in ticket.priority_reasons)
    assert any("gone.npz" in r.getMessage() and "socialdesk triage train" in r.getMessage() for r in caplog.records)
    warnings = await app.hooks.health_warnings()
    assert len(warnings) == 1 and str(missing) in warnings[0] and "socialdesk triage train" in warnings[0]


async def test_healthz_lists_the_warning_and_stays_ok(make_app, tmp_path):
    app = await make_app({"desk": {"status_port": 0},
                          "plugins": {"learned_triage": {"model_path": str(tmp_path / "gone.npz")}}})
    replica = Replica(app)
    stop = asyncio.Event()
    task = asyncio.create_task(replica.run(stop))
    try:
        async with asyncio.timeout(20):
            while replica.status is None or replica.status.url is None:
                await asyncio.sleep(0.02)
        async with aiohttp.ClientSession() as session, session.get(replica.status.url + "/healthz") as answer:
            status, body = answer.status, json.loads(await answer.text())
        assert status == 200 and body["status"] == "ok"
        assert "gone.npz" in body["warnings"][0] and "socialdesk triage train" in body["warnings"][0]
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def test_check_names_a_corrupt_model_file_and_the_fix(tmp_path, capsys):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really")
    # check refuses what run refuses (an un-migrated database), so the database is made first
    path = upgraded(write_config(tmp_path, f'[plugins.learned_triage]\nmodel_path = "{broken}"\n'))
    code, out, err = cli(capsys, "--config", path, "check")
    assert code == 1
    assert f"{broken}: unreadable triage model" in err and "socialdesk triage train" in err
    good = write_config(tmp_path, name="good.toml")
    assert cli(capsys, "--config", good, "check")[0] == 0


# --- corrections --------------------------------------------------------------------------------


async def test_a_correction_is_audited_updates_the_card_and_is_a_label(make_app):
    app = await make_app(LEARNED)
    ticket = await _ticket(app, "@acme what time do you open on sundays?")
    before = len([j for j in await jobs(app) if j.kind == JobKind.UPDATE_CARD])
    answer = await correct(SubcommandCall("triage", f"#{ticket.id} p1 outage", AGENT), app)
    assert answer.startswith(f"#{ticket.id} is now P1 · outage")
    after = await app.service.get_ticket(ticket.id)
    assert (after.priority, after.category) == (1, "outage")
    assert after.priority_reasons[0].startswith("corrected by an agent (priority")
    event = (await app.service.audit_trail(ticket.id))[-1]
    assert (event.kind, event.actor) == (EventKind.TRIAGE_CORRECTED, AGENT.user_id)
    assert event.details == {"priority": {"from": ticket.priority, "to": 1},
                             "category": {"from": ticket.category, "to": "outage"}}
    assert len([j for j in await jobs(app) if j.kind == JobKind.UPDATE_CARD]) == before + 1
    assert [(c.ticket_id, c.priority, c.category) for c in await corrections(app.database)] == [
        (ticket.id, 1, "outage")]


@pytest.mark.parametrize(("args", "expected"), [
    ("", "Usage: `/desk triage N"), ("42", "Usage:"), ("#x p1", "Usage:"), ("42 p9", "`p9` is neither"),
    ("42 p1 p2", "`p2` is neither"), ("42 shoes", "`shoes` is neither"), ("999999 p1", "#999999 does not exist"),
])
async def test_bad_corrections_get_an_answer_and_change_nothing(make_app, args, expected):
    from socialdesk.core.slack.commands import CommandSet

    app = await make_app(LEARNED)
    commands = CommandSet(app, "/desk")
    answer = await commands.run(app, None, AGENT, f"triage {args}", None)  # type: ignore[arg-type]
    assert expected in answer


async def test_a_closed_ticket_cannot_be_corrected(make_app):
    app = await make_app(LEARNED)
    ticket = await _ticket(app, "@acme hello")
    await app.service.close(ticket.id, AGENT)
    from socialdesk.core.slack.commands import CommandSet

    answer = await CommandSet(app, "/desk").run(app, None, AGENT, f"triage {ticket.id} p2", None)  # type: ignore[arg-type]
    assert answer == f"#{ticket.id} is closed; reopen it to correct its triage"
    same = await app.service.get_ticket(ticket.id)
    assert same.priority == ticket.priority


# --- the desk's own model -----------------------------------------------------------------------


async def _correct_many(app, texts_and_labels):
    for text, label in texts_and_labels:
        t = await _ticket(app, text)
        try:
            await app.service.correct_triage(t.id, AGENT, priority=label)
        except Exception:
            pass  # already at that priority: nothing to correct, no label


async def test_a_desk_model_is_installed_only_when_better_then_rolled_back(make_app, tmp_path):
    data = write_tiny_data(tmp_path)
    app = await make_app({"plugins": {"learned_triage": {"refresh_seconds": 1}}})
    # The desk's own language: "the widget" is what its customers say when it is on fire.
    lingo = [(f"the widget {w} again {i}", 1) for i in range(12) for w in ("zorped", "glorked")]
    lingo += [(f"{t} widget chat {i}", 4) for i in range(6) for t in CALM[:3]]
    await _correct_many(app, lingo)
    found = await corrections(app.database)
    assert len(found) >= 20 and any(c.heldout for c in found)

    outcome = await train_from_desk(app, data, seed=1, min_corrections=20)
    assert outcome.installed, outcome.message
    assert outcome.candidate["accuracy"] > outcome.current["accuracy"]
    live = await desk_models.live_id(app.database)
    assert live == outcome.model_id
    model = await current_model(app)
    assert model is not None and model.name.startswith("desk-")

    # A second fit on the same corrections is no better than the live one: kept out.
    again = await train_from_desk(app, data, seed=1, min_corrections=20)
    assert not again.installed and "is not better" in again.message
    assert await desk_models.live_id(app.database) == live

    retired, now_live = await desk_models.rollback(app.database)
    assert (retired, now_live) == (live, None)
    assert await desk_models.live_id(app.database) is None


async def test_too_few_corrections_train_nothing(make_app, tmp_path):
    app = await make_app(LEARNED)
    await _correct_many(app, [("my thing broke", 1)])
    outcome = await train_from_desk(app, write_tiny_data(tmp_path), seed=1)
    assert not outcome.installed and "needs at least 20" in outcome.message
    assert await desk_models.count(app.database) == 0


def test_status_and_rollback_commands(tmp_path, capsys):
    path = write_config(tmp_path)
    assert cli(capsys, "--config", path, "db", "upgrade")[0] == 0
    code, out, _ = cli(capsys, "--config", path, "triage", "status")
    assert code == 0 and "live: the base model" in out and "corrections in this desk: 0" in out
    code, out, _ = cli(capsys, "--config", path, "triage", "rollback")
    assert code == 0 and "the shipped base model already is" in out


def test_train_refuses_a_missing_data_folder(tmp_path, capsys):
    code, _, err = cli(capsys, "triage", "train", "--data", tmp_path / "nope", "--out", tmp_path / "m.npz")
    assert code == 1 and "no such folder" in err


def test_train_writes_a_model_and_its_data_card(tmp_path, capsys):
    data = write_tiny_data(tmp_path)
    out = tmp_path / "models" / "mine.npz"
    code, printed, err = cli(capsys, "triage", "train", "--data", data, "--seed", "2", "--out", out)
    assert code == 0, err
    card = (tmp_path / "models" / "mine.card.md").read_text("utf-8")
    assert "mine.npz" in card and "banking77" in card and "CC BY 4.0" in card and "seed 2" in card
    assert f"{out}:" in printed
    from socialdesk.plugins.triage.model_file import load_model_file

    assert load_model_file(out).meta["seed"] == 2
