"""The hook contract: how the core calls plugins (socialdesk.core.hooks) and what it refuses.

Covers await-me-maybe (sync and async implementations of one hook), "first non-None"
for the hooks that are not firstresult in pluggy, isolation of failing observers,
ownership conflicts (platforms, outbox job kinds, /desk subcommands), misspelt hooks,
the documentation of every hookspec, and desks not sharing a plugin manager.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
import pytest
from sqlalchemy import select

import socialdesk
from socialdesk.core import hookspecs
from socialdesk.core.config import parse_config
from socialdesk.core.errors import ReplyRejected
from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor, CardField, DeskSubcommand
from socialdesk.core.hooks import PluginConflict
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.store.models import OutboxJob, Reply, Ticket
from socialdesk.core.platform import AmbiguousPlatformError, ReconciledReply, ReplyLimits, SentReply
from socialdesk.core.plugin_catalog import PluginEntry, discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.ticket import ReplyStatus
from socialdesk.core.triage import TriageContribution
from tests.conftest import mention
from tests.platform_double import PLATFORM

MULTI = "multi"


def entry(name: str, plugin: Any) -> PluginEntry:
    return PluginEntry(name, plugin, "test", True)


# --- await-me-maybe: sync and async implementations of the same hook ------------------------


class SyncTriage:
    @hookimpl
    def socialdesk_triage(self, mention):  # names only the argument it needs
        return TriageContribution(category="billing", category_confidence=0.95, tags=("sync",),
                                  reasons=("sync plugin",))


class AsyncTriage:
    @hookimpl
    async def socialdesk_triage(self, mention, app):
        assert app.pm.get_plugin("async_triage") is self  # the desk it is registered in
        return TriageContribution(priority=1, tags=("async",), reasons=("async plugin",))


class SilentTriage:
    @hookimpl
    async def socialdesk_triage(self, mention):
        return None


async def test_sync_and_async_triage_contributions_are_both_merged(make_app):
    app = await make_app(extra=[entry("sync_triage", SyncTriage()), entry("async_triage", AsyncTriage()),
                                entry("silent_triage", SilentTriage())])
    created = await app.service.ingest(mention(text="my parcel is late"))  # no built-in keyword
    ticket = await app.service.get_ticket(created.ticket_id)
    assert set(ticket.tags) == {"sync", "async"}
    assert ticket.priority == 1  # from the async plugin
    assert ticket.category == "billing"  # from the sync plugin
    assert set(ticket.priority_reasons) == {"sync plugin", "async plugin"}


class SyncObjection:
    @hookimpl
    def socialdesk_validate_reply(self, text):
        return ["sync says no"] if "nope" in text else None


class AsyncObjection:
    @hookimpl
    async def socialdesk_validate_reply(self, ticket, text, app):
        return [f"async says no to {ticket.ref}"] if "nope" in text else []


async def test_sync_and_async_reply_validators_both_object(make_app, platform):
    app = await make_app(extra=[entry("sync_objection", SyncObjection()), entry("async_objection", AsyncObjection())])
    created = await app.service.ingest(mention())
    with pytest.raises(ReplyRejected) as caught:
        await app.service.reply(created.ticket_id, Actor("U1"), "nope, not today")
    assert sorted(caught.value.problems) == [f"async says no to #{created.ticket_id}", "sync says no"]
    assert await app.service.replies_of(created.ticket_id) == []

    accepted = await app.service.reply(created.ticket_id, Actor("U1"), "Of course, sending it now")
    assert accepted.status == ReplyStatus.PENDING


class SyncFields:
    @hookimpl
    def socialdesk_card_fields(self, ticket):
        return [CardField("Order", f"for {ticket.ref}")]


class AsyncFields:
    @hookimpl
    async def socialdesk_card_fields(self, ticket, app):
        return [CardField("Customer tier", "gold"), CardField("Region", "EU")]


class NoFields:
    @hookimpl
    def socialdesk_card_fields(self):
        return None


async def test_sync_and_async_card_fields_are_all_collected(make_app):
    # The default plugins' own fields (the SLA clock) are switched off: only these three speak.
    app = await make_app({"plugins": {"sla": {"enabled": False}}},
                         extra=[entry("sync_fields", SyncFields()), entry("async_fields", AsyncFields()),
                                entry("no_fields", NoFields())])
    created = await app.service.ingest(mention())
    fields = await app.hooks.card_fields(await app.service.get_ticket(created.ticket_id))
    assert sorted(fields, key=lambda f: f.label) == [
        CardField("Customer tier", "gold"), CardField("Order", f"for #{created.ticket_id}"), CardField("Region", "EU"),
    ]


# --- first non-None: reply_limits, send_reply, reconcile_reply -----------------------------------


@dataclass
class Calls:
    log: list[str] = field(default_factory=list)


class Decliner:
    """Called first (tryfirst); answers None to everything."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    @hookimpl(tryfirst=True)
    async def socialdesk_reply_limits(self, platform):
        self.calls.log.append("decliner.limits")
        return None

    @hookimpl(tryfirst=True)
    async def socialdesk_send_reply(self, request):
        self.calls.log.append("decliner.send")
        return None

    @hookimpl(tryfirst=True)
    def socialdesk_reconcile_reply(self, request):
        self.calls.log.append("decliner.reconcile")
        return None


class MultiOwner:
    """Owns platform "multi"; sync implementations; can be told to lose an answer."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.posted: list[int] = []
        self.lose_answer = False

    @hookimpl
    def socialdesk_platform(self):
        return MULTI

    @hookimpl
    def socialdesk_reply_limits(self, platform):
        return ReplyLimits(MULTI, 100) if platform == MULTI else None

    @hookimpl
    def socialdesk_send_reply(self, request):
        if request.platform != MULTI:
            return None
        self.calls.log.append("owner.send")
        self.posted.append(request.reply_id)
        if self.lose_answer:
            raise AmbiguousPlatformError("timed out after the request left")
        return SentReply(platform_id=f"owner-{request.reply_id}")

    @hookimpl
    async def socialdesk_reconcile_reply(self, request):
        if request.platform != MULTI:
            return None
        self.calls.log.append("owner.reconcile")
        found = request.reply_id in self.posted
        return ReconciledReply(found, SentReply(platform_id=f"found-{request.reply_id}") if found else None)


class Greedy:
    """Called last (trylast); would answer for every platform if it were asked."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    @hookimpl(trylast=True)
    def socialdesk_reply_limits(self, platform):
        self.calls.log.append("greedy.limits")
        return ReplyLimits(platform, 10)

    @hookimpl(trylast=True)
    async def socialdesk_send_reply(self, request):
        self.calls.log.append("greedy.send")
        return SentReply(platform_id="greedy")

    @hookimpl(trylast=True)
    def socialdesk_reconcile_reply(self, request):
        self.calls.log.append("greedy.reconcile")
        return ReconciledReply(False)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def multi_app(make_app, calls):
    owner = MultiOwner(calls)
    app = await make_app(extra=[entry("decliner", Decliner(calls)), entry("owner", owner),
                                entry("greedy", Greedy(calls))])
    return app, owner


async def test_reply_limits_take_the_first_answer_after_a_none(multi_app, calls):
    app, _ = multi_app
    limits = await app.hooks.reply_limits(MULTI)
    assert limits == ReplyLimits(MULTI, 100)  # the owner's, not the greedy plugin's 10
    # the first plugin's None did not end the round; every plugin was asked (none is firstresult)
    assert sorted(calls.log) == ["decliner.limits", "greedy.limits"]

    created = await app.service.ingest(mention(platform=MULTI))
    with pytest.raises(ReplyRejected) as caught:
        await app.service.reply(created.ticket_id, Actor("U1"), "x" * 101)
    assert caught.value.problems == [f"100 characters at most on {MULTI}, this reply has 101"]
    assert (await app.service.reply(created.ticket_id, Actor("U1"), "x" * 100)).status == ReplyStatus.PENDING


async def test_send_reply_stops_at_the_first_plugin_that_posts(multi_app, calls, platform):
    app, owner = multi_app
    created = await app.service.ingest(mention(platform=MULTI))
    reply = await app.service.reply(created.ticket_id, Actor("U1"), "Sorted, thanks for waiting")
    await app.outbox_runner().drain()

    sent = await app.service.get_reply(reply.id)
    assert sent.status == ReplyStatus.SENT
    assert sent.platform_id == f"owner-{reply.id}"
    sends = [c for c in calls.log if c.endswith(".send")]
    assert sends == ["decliner.send", "owner.send"]  # greedy was never asked: posted once, by one plugin
    assert owner.posted == [reply.id]
    assert platform.posted == []


async def test_reconcile_reply_takes_the_owner_answer(multi_app, calls):
    app, owner = multi_app
    owner.lose_answer = True
    created = await app.service.ingest(mention(platform=MULTI))
    reply = await app.service.reply(created.ticket_id, Actor("U1"), "On its way")
    await app.outbox_runner().drain()
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN

    calls.log.clear()
    assert await app.service.reconcile_uncertain_replies() == {reply.id: True}
    assert sorted(calls.log) == ["decliner.reconcile", "greedy.reconcile", "owner.reconcile"]
    recorded = await app.service.get_reply(reply.id)
    assert recorded.status == ReplyStatus.SENT  # the greedy plugin's "not found" came later and lost
    assert recorded.platform_id == f"found-{reply.id}"
    assert owner.posted == [reply.id]  # reconciling never re-sends


# --- observers ---------------------------------------------------------------------------------


class Boom:
    @hookimpl(tryfirst=True)
    def socialdesk_ticket_event(self, event):
        raise RuntimeError("observer bug")


class AsyncBoom:
    @hookimpl(tryfirst=True)
    async def socialdesk_ticket_event(self, event, app):
        raise ValueError("async observer bug")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[EventKind, int]] = []
        self.apps: list[Any] = []

    @hookimpl(trylast=True)
    async def socialdesk_ticket_event(self, event, app):
        self.events.append((event.kind, event.ticket_id))
        self.apps.append(app)


async def test_failing_observer_is_logged_and_stops_nothing(make_app, caplog):
    recorder = Recorder()
    app = await make_app(extra=[entry("boom", Boom()), entry("async_boom", AsyncBoom()), entry("recorder", recorder)])
    caplog.set_level(logging.ERROR, logger="socialdesk.core.hooks")

    created = await app.service.ingest(mention())
    ticket = await app.service.claim(created.ticket_id, Actor("U7"))
    await app.service.observers_done()  # a claim's observers run after the agent's answer

    assert ticket.assignee == "U7"
    assert (await app.service.get_ticket(created.ticket_id)).assignee == "U7"  # committed
    assert recorder.events == [(EventKind.CREATED, created.ticket_id), (EventKind.CLAIMED, created.ticket_id)]
    assert [e.kind for e in await app.service.audit_trail(created.ticket_id)] == [EventKind.CREATED, EventKind.CLAIMED]
    failures = [(r.plugin, r.event, r.error) for r in caplog.records if r.getMessage() == "ticket event observer failed"]
    assert sorted(failures) == [
        ("async_boom", "claimed", "ValueError('async observer bug')"),
        ("async_boom", "created", "ValueError('async observer bug')"),
        ("boom", "claimed", "RuntimeError('observer bug')"),
        ("boom", "created", "RuntimeError('observer bug')"),
    ]


# --- writes in the ingest transaction -----------------------------------------------------------


class OpenedWatcher:
    """Sees the tickets each ingest opens, from inside its transaction."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[tuple[int, int]]] = []
        self.fail_on = fail_on

    @hookimpl
    def socialdesk_tickets_opened(self, connection, tickets):
        # The tickets are already visible to the transaction's own connection.
        ids = [t.ticket_id for t in tickets]
        seen = connection.execute(select(Ticket.id).where(Ticket.id.in_(ids))).scalars().all()
        assert sorted(seen) == sorted(ids)
        self.batches.append([(t.ticket_id, t.priority) for t in tickets])
        if self.fail_on is not None and any(t.platform == self.fail_on for t in tickets):
            raise RuntimeError("plugin bug inside the ingest transaction")


async def test_tickets_opened_sees_each_new_active_ticket_once_per_batch(make_app):
    watcher = OpenedWatcher()
    app = await make_app(raw_config={"plugins": {"noise": {"auto_close_pleasantries": True}}},
                         extra=[entry("watcher", watcher)])
    first = await app.service.ingest_many([
        mention(conversation_id="c1", text="my order never arrived"),
        mention(conversation_id="c1", text="still nothing"),  # a follow-up opens nothing
        mention(conversation_id="c2", text="the site is down"),
        mention(conversation_id="c3", text="thanks!"),  # filed closed: no clock, not reported
    ])
    assert watcher.batches == [[(first[0].ticket_id, 3), (first[2].ticket_id, 1)]]
    await app.service.ingest(mention(conversation_id="c1", text="hello?"))  # joins: nothing opened
    assert len(watcher.batches) == 1


async def test_a_failing_tickets_opened_rolls_the_whole_ingest_back(make_app):
    app = await make_app(extra=[entry("watcher", OpenedWatcher(fail_on=PLATFORM))])
    lost = mention(text="my order never arrived")
    with pytest.raises(RuntimeError, match="inside the ingest transaction"):
        await app.service.ingest(lost)
    assert await app.service.queue() == []  # no ticket, no message: the platform reads it again
    async with app.database.sessions() as session:
        assert (await session.scalars(select(OutboxJob))).all() == []


class RequeuedWatcher:
    """Sees the tickets each ingest's follow-ups changed, from inside its transaction."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, str, int]]] = []

    @hookimpl
    def socialdesk_tickets_requeued(self, connection, tickets):
        # The change is already visible to the transaction's own connection.
        for t in tickets:
            assert connection.execute(select(Ticket.priority).where(Ticket.id == t.ticket_id)).scalar() == t.priority
        self.batches.append([(t.ticket_id, t.status, t.priority) for t in tickets])


async def test_tickets_requeued_sees_the_follow_ups_that_changed_a_ticket_as_it_now_is(make_app):
    watcher = RequeuedWatcher()
    app = await make_app(extra=[entry("watcher", watcher)])
    opened = await app.service.ingest(mention(conversation_id="c1", text="my order never arrived"))
    await app.service.ingest(mention(conversation_id="c1", text="still nothing"))  # P3 stays P3: not reported
    assert watcher.batches == []
    await app.service.ingest_many([
        mention(conversation_id="c1", text="and now the site is down"),  # made P1
        mention(conversation_id="c1", text="hello?"),  # the same ticket, once, as it ends up
    ])
    assert watcher.batches == [[(opened.ticket_id, "open", 1)]]


# --- what only one plugin may own ------------------------------------------------------------------


class Rival:
    @hookimpl
    def socialdesk_platform(self):
        return "testnet"  # the test platform already owns it


async def test_two_plugins_owning_one_platform_is_a_conflict(make_app):
    with pytest.raises(PluginConflict) as caught:
        await make_app(extra=[entry("rival", Rival())])
    message = str(caught.value)
    assert "'testnet'" in message and "'rival'" in message and "platform" in message


async def _noop_job(job, app):
    return None


class ReplySender:
    def __init__(self) -> None:
        self.jobs: list[int] = []

    @hookimpl
    def socialdesk_outbox_performers(self):
        async def perform(job, app):
            self.jobs.append(job.payload["reply_id"])
        return {"send_reply": perform}


class DigestA:
    @hookimpl
    def socialdesk_outbox_performers(self):
        return {"digest": _noop_job}


class DigestB:
    @hookimpl
    def socialdesk_outbox_performers(self):
        return {"digest": _noop_job}


async def test_two_plugins_performing_one_job_kind_is_a_conflict_at_start_up(make_app):
    with pytest.raises(PluginConflict) as caught:
        await make_app(extra=[entry("reply_sender", ReplySender())])
    assert "'reply_delivery'" in str(caught.value) and "'reply_sender'" in str(caught.value)
    assert "'send_reply'" in str(caught.value)

    with pytest.raises(PluginConflict, match="'digest'"):
        await make_app(extra=[entry("digest_a", DigestA()), entry("digest_b", DigestB())])


class BrokenTriage:
    @hookimpl
    def socialdesk_triage(self, mention):
        raise ValueError("model file missing")


class BrokenReplyCheck:
    @hookimpl
    async def socialdesk_validate_reply(self, ticket, text):
        raise TimeoutError("policy service down")


async def test_a_failing_triage_plugin_is_left_out_and_the_mention_still_arrives(make_app, caplog):
    app = await make_app(extra=[entry("broken_triage", BrokenTriage())])
    created = await app.service.ingest(mention(text="the site is down"))
    ticket = await app.service.get_ticket(created.ticket_id)
    assert ticket.category == "outage"  # the other triage plugins still ran
    assert any(getattr(r, "plugin", None) == "broken_triage" for r in caplog.records)


async def test_a_failing_reply_check_refuses_the_reply(make_app, platform):
    app = await make_app(extra=[entry("broken_check", BrokenReplyCheck())])
    created = await app.service.ingest(mention())
    with pytest.raises(ReplyRejected, match="the broken_check plugin could not check this reply"):
        await app.service.reply(created.ticket_id, Actor("U1"), "hello")
    await app.outbox_runner().drain()
    assert platform.posted == []


async def test_a_job_kind_can_change_hands_when_its_performer_is_disabled(make_app, platform):
    sender = ReplySender()
    app = await make_app({"plugins": {"reply_delivery": {"enabled": False}}}, extra=[entry("reply_sender", sender)])
    created = await app.service.ingest(mention())
    reply = await app.service.reply(created.ticket_id, Actor("U1"), "Handled elsewhere")
    await app.outbox_runner().drain()
    assert sender.jobs == [reply.id]
    assert platform.posted == []  # the built-in delivery did not run


class StatsCommand:
    def __init__(self, name: str = "stats") -> None:
        self.name = name

    @hookimpl
    def socialdesk_desk_subcommands(self):
        return [DeskSubcommand(self.name, f"/desk {self.name}", "queue numbers", lambda call, app: "ok")]


async def test_desk_subcommand_clashing_with_a_reserved_name_is_a_conflict(make_app):
    app = await make_app(extra=[entry("stats_plugin", StatsCommand()), entry("claim_plugin", StatsCommand("claim"))])
    assert sorted(app.hooks.desk_subcommands(reserved=frozenset({"reply", "close"}))) == ["claim", "stats"]
    with pytest.raises(PluginConflict) as caught:
        app.hooks.desk_subcommands(reserved=frozenset({"claim", "reply"}))
    assert "'claim_plugin'" in str(caught.value) and "/desk claim" in str(caught.value)

    twice = await make_app(extra=[entry("stats_a", StatsCommand()), entry("stats_b", StatsCommand())])
    with pytest.raises(PluginConflict, match="/desk stats"):
        twice.hooks.desk_subcommands(reserved=frozenset({"claim"}))


# --- registration is checked ---------------------------------------------------------------------


class Misspelt:
    @hookimpl
    def socialdesk_triag(self, mention):
        return TriageContribution(tags=("never",))


class WrongArgument:
    @hookimpl
    def socialdesk_triage(self, mention, customer):
        return None


def test_misspelt_hook_name_is_refused():
    catalog = discover_plugins().with_extra([entry("misspelt", Misspelt())])
    config = parse_config({}, catalog)
    with pytest.raises(pluggy.PluginValidationError, match="socialdesk_triag"):
        build_plugin_manager(catalog, config)


def test_hookimpl_asking_for_an_argument_the_hook_does_not_give_is_refused():
    catalog = discover_plugins().with_extra([entry("wrong_argument", WrongArgument())])
    with pytest.raises(pluggy.PluginValidationError, match="customer"):
        build_plugin_manager(catalog, parse_config({}, catalog))


def test_misspelt_hook_in_a_disabled_plugin_does_not_matter():
    catalog = discover_plugins().with_extra([PluginEntry("misspelt", Misspelt(), "test", False)])
    pm = build_plugin_manager(catalog, parse_config({}, catalog))
    assert pm.get_plugin("misspelt") is None


# --- the hookspecs themselves ----------------------------------------------------------------------


def _hookspecs() -> list[tuple[str, Any]]:
    return [(name, f) for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("socialdesk_")]


def test_every_hookspec_is_a_spec_and_says_who_calls_it():
    specs = _hookspecs()
    assert len(specs) >= 14
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name, function in specs:
        doc = inspect.getdoc(function) or ""
        assert getattr(pm.hook, name).spec is not None, name
        assert len(doc) > 80, f"{name}: the docstring is too short to say who calls it, when and what it returns"
        assert re.search(r"\bCalled\b", doc), f"{name}: the docstring does not say who calls it"


def test_hooks_that_may_be_async_are_not_firstresult():
    """pluggy's firstresult would stop at a coroutine object before the core awaits it."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    may_be_async = [name for name, f in _hookspecs() if "May be async" in (inspect.getdoc(f) or "")]
    assert {"socialdesk_triage", "socialdesk_send_reply", "socialdesk_reply_limits"} <= set(may_be_async)
    for name in may_be_async:
        assert not getattr(pm.hook, name).spec.opts.get("firstresult"), name


def test_only_the_hooks_facade_calls_plugins():
    package = Path(socialdesk.__file__).parent
    allowed = {package / "core" / "hooks.py"}
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py")) if path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.hook\.socialdesk_", line) and not line.lstrip().startswith(("#", "*"))
    ]
    assert offenders == []


# --- one plugin manager per desk --------------------------------------------------------------------


async def test_two_desks_do_not_share_a_plugin_manager(make_app):
    recorder = Recorder()
    first = await make_app(extra=[entry("recorder", recorder)])
    second = await make_app()

    assert first.pm is not second.pm
    assert first.hooks.pm is first.pm and second.hooks.pm is second.pm
    assert first.pm.get_plugin("recorder") is recorder
    assert second.pm.get_plugin("recorder") is None

    await second.service.ingest(mention())
    assert recorder.events == []  # the other desk's events never reach this desk's plugins
    created = await first.service.ingest(mention())
    assert recorder.events == [(EventKind.CREATED, created.ticket_id)]
    assert recorder.apps == [first]


def test_no_plugin_manager_is_created_at_import_time():
    modules = [m for name, m in list(sys.modules.items()) if name == "socialdesk" or name.startswith("socialdesk.")]
    assert any(m.__name__ == "socialdesk.core.app" for m in modules)
    globals_holding_a_pm = [
        f"{m.__name__}.{attr}" for m in modules for attr, value in vars(m).items()
        if isinstance(value, pluggy.PluginManager)
    ]
    assert globals_holding_a_pm == []


async def test_refused_reply_writes_nothing_through_any_validator(make_app):
    """Validation happens before the transaction: no reply row, no send job."""
    app = await make_app(extra=[entry("sync_objection", SyncObjection())])
    created = await app.service.ingest(mention())
    with pytest.raises(ReplyRejected):
        await app.service.reply(created.ticket_id, Actor("U1"), "nope")
    async with app.database.sessions() as session:
        assert (await session.scalars(select(Reply))).all() == []
        assert (await session.scalars(select(OutboxJob.kind).where(OutboxJob.kind == "send_reply"))).all() == []
