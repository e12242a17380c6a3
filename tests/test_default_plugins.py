"""The built-in default plugins: on by default, off (and inert) when plugins.toml says so,
replaceable, and configurable.

* keyword_triage: keyword / phrase / regex rules -> priority, category, tags, reasons;
* reply_rules: refuses bad replies before anything is written or sent;
* reply_delivery: performs ``send_reply`` outbox jobs;
* event_log: one log line per ticket event.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.errors import ReplyRejected
from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.store.models import OutboxJob, Reply
from socialdesk.core.plugin_catalog import BUILTIN_PLUGINS, PluginEntry, discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.ticket import ReplyStatus
from socialdesk.core.triage import DEFAULT_CATEGORY, DEFAULT_PRIORITY, TriageContribution
from tests.conftest import mention
from tests.platform_double import MAX_LENGTH, PLATFORM

# Core behaviour is on by default; platform plugins (slack, x, discord) wait for an admin.
BUILTIN_NAMES = [name for name, _module, enabled in BUILTIN_PLUGINS if enabled]
PLATFORM_NAMES = [name for name, _module, enabled in BUILTIN_PLUGINS if not enabled]


def test_platform_builtins_are_off_until_enabled():
    catalog = discover_plugins()
    assert {"slack", "x", "discord"} <= set(PLATFORM_NAMES)
    assert not set(PLATFORM_NAMES) & set(parse_config({}, catalog).enabled)


def off(name: str, **settings) -> dict:
    return {"plugins": {name: {"enabled": False, **settings}}}


# The keyword tests look at keyword_triage alone: the other default triage plugins
# (sentiment, language tags, noise, author weight) are off there; tests/triage/ covers them.
OTHER_TRIAGE = ("sentiment", "language", "noise", "author_weight")


def keywords_only(config: dict | None = None) -> dict:
    plugins = {name: {"enabled": False} for name in OTHER_TRIAGE}
    plugins.update((config or {}).get("plugins", {}))
    return {**(config or {}), "plugins": plugins}


async def _rows(app, model_column):
    async with app.database.sessions() as session:
        return (await session.scalars(select(model_column))).all()


# --- on by default, off on request ------------------------------------------------------------


def test_every_builtin_is_on_by_default():
    catalog = discover_plugins()
    config = parse_config({}, catalog)
    assert set(BUILTIN_NAMES) <= set(config.enabled)
    pm = build_plugin_manager(catalog, config)
    for name in BUILTIN_NAMES:
        assert pm.get_plugin(name) is catalog.get(name).plugin


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_builtin_can_be_disabled(name):
    catalog = discover_plugins()
    config = parse_config(off(name), catalog)
    assert name not in config.enabled
    assert set(BUILTIN_NAMES) - {name} <= set(config.enabled)
    pm = build_plugin_manager(catalog, config)
    assert pm.get_plugin(name) is None
    assert pm.get_plugin(next(n for n in BUILTIN_NAMES if n != name)) is not None


async def test_keyword_triage_disabled_leaves_the_default_verdict(make_app):
    text = "The site is DOWN and I want a refund"
    app = await make_app()
    on = await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)
    assert (on.priority, on.category) == (1, "outage")  # the text would trigger it

    app = await make_app(keywords_only(off("keyword_triage")))
    ticket = await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)
    assert (ticket.priority, ticket.category) == (DEFAULT_PRIORITY, DEFAULT_CATEGORY) == (3, "question")
    assert ticket.tags == ()
    assert ticket.priority_reasons == ()


async def test_reply_rules_disabled_no_longer_refuses_a_long_reply(make_app, platform):
    too_long = "y" * (MAX_LENGTH + 1)
    app = await make_app()
    created = await app.service.ingest(mention())
    with pytest.raises(ReplyRejected):
        await app.service.reply(created.ticket_id, Actor("U1"), too_long)

    app = await make_app(off("reply_rules"))
    created = await app.service.ingest(mention())
    reply = await app.service.reply(created.ticket_id, Actor("U1"), too_long)
    assert reply.status == ReplyStatus.PENDING
    await app.outbox_runner().drain()
    assert [p.text for p in platform.posted] == [too_long]


async def test_reply_delivery_disabled_sends_nothing(make_app, platform):
    app = await make_app(off("reply_delivery"))
    created = await app.service.ingest(mention())
    reply = await app.service.reply(created.ticket_id, Actor("U1"), "Hello!")
    await app.outbox_runner().drain()
    assert platform.posted == []
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    async with app.database.sessions() as session:
        job = await session.scalar(select(OutboxJob).where(OutboxJob.kind == "send_reply"))
    assert (job.status, job.attempts) == ("pending", 0)  # waits for a performer; not dropped


async def test_event_log_disabled_logs_no_events(make_app, caplog):
    caplog.set_level(logging.INFO, logger="socialdesk.events")
    app = await make_app()
    created = await app.service.ingest(mention())
    logged = [r for r in caplog.records if r.name == "socialdesk.events"]
    assert [(r.getMessage(), r.ticket) for r in logged] == [("ticket created", created.ticket_id)]

    caplog.clear()
    app = await make_app(off("event_log"))
    await app.service.ingest(mention())
    assert [r for r in caplog.records if r.name == "socialdesk.events"] == []


# --- triage is replaceable ---------------------------------------------------------------------


class CalmTriage:
    """A team's own triage: everything is feedback, low priority."""

    @hookimpl
    async def socialdesk_triage(self, mention, app):
        return TriageContribution(priority=4, category="feedback", category_confidence=0.6,
                                  sentiment="neutral", tags=("calm",), reasons=("calm triage",))


async def test_keyword_triage_can_be_replaced_by_a_custom_plugin(make_app):
    replaced = await make_app(keywords_only(off("keyword_triage")), extra=[PluginEntry("calm_triage", CalmTriage(), "test", True)])
    created = await replaced.service.ingest(mention(text="the site is down, outage everywhere"))
    ticket = await replaced.service.get_ticket(created.ticket_id)
    assert (ticket.priority, ticket.category, ticket.sentiment) == (4, "feedback", "neutral")
    assert ticket.tags == ("calm",)
    assert ticket.priority_reasons == ("calm triage",)
    audit = await replaced.service.audit_trail(created.ticket_id)
    assert audit[0].kind == EventKind.CREATED and audit[0].details["reasons"] == ["calm triage"]

    # added without disabling the default, both speak and the most urgent proposal wins
    both = await make_app(keywords_only(), extra=[PluginEntry("calm_triage", CalmTriage(), "test", True)])
    created = await both.service.ingest(mention(text="the site is down, outage everywhere"))
    ticket = await both.service.get_ticket(created.ticket_id)
    assert ticket.priority == 1
    assert set(ticket.tags) == {"calm", "outage"}


# --- keyword rules from config --------------------------------------------------------------------


RULES = [
    {"name": "outage", "category": "outage", "priority": 1, "keywords": ["down"], "tags": ["outage"]},
    {"name": "refund", "category": "refund", "priority": 2, "keywords": ["refund"], "tags": ["refund"]},
    {"name": "churn", "category": "billing", "escalate": 1, "phrases": ["cancel my subscription"], "tags": ["churn"]},
    {"name": "order", "regex": [r"\border\s*#?\d{5,}\b"], "tags": ["has-order"]},
    {"name": "kudos", "priority": 4, "escalate": -1, "category": "praise", "keywords": ["merci"], "tags": ["kudos"]},
]
RULES_CONFIG = {"plugins": {"keyword_triage": {"rules": RULES}}}

# text -> (priority, category, tags, reasons)
CASES = {
    "site is DOWN!": (1, "outage", ("outage",), ("keyword 'down'",)),
    "how do I download the app": (3, "question", (), ()),
    "Down-right awful": (1, "outage", ("outage",), ("keyword 'down'",)),
    "I want a RÉFUND": (2, "refund", ("refund",), ("keyword 'refund'",)),
    "was I refunded?": (3, "question", (), ()),
    "Please Cancel my Subscription now": (2, "billing", ("churn",), ("keyword 'cancel my subscription'",)),
    "cancel my subscriptions page is empty": (3, "question", (), ()),
    "where is order #123456": (3, "question", ("has-order",), ("keyword 'order #123456'",)),
    "order 12 of 20": (3, "question", (), ()),
    "down and I want a refund": (1, "outage", ("outage", "refund"), ("keyword 'down'", "keyword 'refund'")),
    "merci beaucoup": (4, "praise", ("kudos",), ("keyword 'merci'",)),
    "refund, or I cancel my subscription": (
        1, "refund", ("refund", "churn"), ("keyword 'refund'", "keyword 'cancel my subscription'"),
    ),
    "Merci, but the site is down": (2, "outage", ("outage", "kudos"), ("keyword 'down'", "keyword 'merci'")),
}


@pytest.mark.parametrize("text", list(CASES))
async def test_keyword_rules_from_config(make_app, text):
    priority, category, tags, reasons = CASES[text]
    app = await make_app(keywords_only(RULES_CONFIG))
    ticket = await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)
    assert (ticket.priority, ticket.category, ticket.tags, ticket.priority_reasons) == (
        priority, category, tags, reasons)


async def test_keywords_may_start_or_end_with_a_symbol(make_app):
    """Hashtags and the like: "#fail" matches in "so much #fail today", not in "#failing"."""
    rules = [{"name": "hashtag", "escalate": 1, "keywords": ["#fail", "c++"], "tags": ["fail-tag"]}]
    app = await make_app(keywords_only({"plugins": {"keyword_triage": {"rules": rules}}}))
    expected = {"so much #fail today": ("keyword '#fail'",), "#failing forward": (),
                "my c++ build": ("keyword 'c++'",), "c++x": ()}
    for text, reasons in expected.items():
        ticket = await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)
        assert (ticket.priority_reasons, ticket.priority) == (reasons, 2 if reasons else 3), text


async def test_regex_with_inline_flags_next_to_keywords(make_app):
    """Each regex stands alone: its inline flags do not break the rule's other alternatives."""
    rules = [{"name": "rush", "escalate": 1, "keywords": ["urgent"], "regex": [r"(?i)a\.?s\.?a\.?p", r"(\w)\1{3}"],
              "tags": ["rush"]},
             {"name": "refund", "category": "refund", "priority": 2, "keywords": ["refund"], "tags": ["refund"]}]
    app = await make_app(keywords_only({"plugins": {"keyword_triage": {"rules": rules}}}))
    expected = {
        "refund A.S.A.P": (1, "refund", ("rush", "refund"), ("keyword 'a.s.a.p'", "keyword 'refund'")),
        "urgent!": (2, "question", ("rush",), ("keyword 'urgent'",)),
        "heeeeelp": (2, "question", ("rush",), ("keyword 'eeee'",)),
        "a sap": (3, "question", (), ()),
    }
    for text, verdict in expected.items():
        ticket = await app.service.get_ticket((await app.service.ingest(mention(text=text))).ticket_id)
        assert (ticket.priority, ticket.category, ticket.tags, ticket.priority_reasons) == verdict, text


async def test_configured_rules_replace_the_built_in_set(make_app):
    default = await make_app(keywords_only())
    ticket = await default.service.get_ticket((await default.service.ingest(mention(text="I got hacked"))).ticket_id)
    assert (ticket.priority, ticket.category, ticket.priority_reasons) == (1, "account_security", ("keyword 'hacked'",))

    configured = await make_app(keywords_only(RULES_CONFIG))
    ticket = await configured.service.get_ticket(
        (await configured.service.ingest(mention(text="I got hacked"))).ticket_id)
    assert (ticket.priority, ticket.category, ticket.priority_reasons) == (3, "question", ())


async def test_follow_up_keywords_raise_priority_and_add_reasons(make_app):
    app = await make_app(keywords_only(RULES_CONFIG))
    first = await app.service.ingest(mention("k1", text="how do I change my avatar?"))
    await app.service.ingest(mention("k2", conversation_id="conv-k1", text="never mind, the site is down"))
    ticket = await app.service.get_ticket(first.ticket_id)
    assert ticket.priority == 1
    assert ticket.priority_reasons == ("keyword 'down'",)
    assert ticket.tags == ("outage",)


@pytest.mark.parametrize(("rule", "path", "message"), [
    ({"name": "x", "category": "complaint", "keywords": ["a"]}, "rules.0.category", "must be one of"),
    ({"name": "x", "regex": ["(unclosed"]}, "rules.0.regex", "does not compile"),
    ({"name": "x", "tags": ["lonely"]}, "rules.0", "needs at least one of keywords, phrases or regex"),
    ({"name": "x", "priority": 0, "keywords": ["a"]}, "rules.0.priority", "greater than or equal to 1"),
    ({"name": "x", "keyword": ["a"]}, "rules.0.keyword", "unknown key; did you mean 'keywords'?"),
])
def test_bad_rules_are_clear_config_problems(rule, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"keyword_triage": {"rules": [rule]}}}, discover_plugins())
    lines = caught.value.lines()
    assert len(lines) == 1
    assert lines[0].startswith(f"plugins.toml: plugins.keyword_triage.{path}: ")
    assert message in lines[0]


# --- reply rules --------------------------------------------------------------------------------------


REFUSED = [
    ("   ", {}, "the reply is empty"),
    ("z" * (MAX_LENGTH + 1), {}, f"{MAX_LENGTH} characters at most on {PLATFORM}, this reply has {MAX_LENGTH + 1}"),
    ("Hi {author}, sorry about that!", {}, "fill in or remove the macro variable(s) {author}"),
    ("This is GUARANTEED to work", {"forbidden_phrases": ["guaranteed", "lawsuit"]},
     "the phrase 'guaranteed' is not allowed in public replies"),
]


@pytest.mark.parametrize(("text", "settings", "problem"), REFUSED, ids=["empty", "too-long", "macro", "forbidden"])
async def test_reply_rules_refuse_and_nothing_is_written_or_sent(make_app, platform, text, settings, problem):
    app = await make_app({"plugins": {"reply_rules": settings}} if settings else None)
    created = await app.service.ingest(mention())
    jobs_before = sorted(await _rows(app, OutboxJob.kind))
    events_before = await app.service.audit_trail(created.ticket_id)

    with pytest.raises(ReplyRejected) as caught:
        await app.service.reply(created.ticket_id, Actor("U1"), text)
    assert caught.value.problems == [problem]
    assert problem in str(caught.value)

    assert await _rows(app, Reply) == []
    assert sorted(await _rows(app, OutboxJob.kind)) == jobs_before
    assert "send_reply" not in jobs_before
    assert await app.service.audit_trail(created.ticket_id) == events_before
    ticket = await app.service.get_ticket(created.ticket_id)
    assert ticket.assignee is None  # a refused reply does not claim the ticket either
    await app.outbox_runner().drain()
    assert platform.posted == []


async def test_reply_rules_accept_what_they_should(make_app, platform):
    app = await make_app({"plugins": {"reply_rules": {"forbidden_phrases": ["guaranteed"]}}})
    created = await app.service.ingest(mention())
    exactly = "a" * MAX_LENGTH
    reply = await app.service.reply(created.ticket_id, Actor("U1"), exactly)
    await app.outbox_runner().drain()
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert [p.text for p in platform.posted] == [exactly]


async def test_reply_rules_report_every_problem_at_once(make_app):
    app = await make_app({"plugins": {"reply_rules": {"forbidden_phrases": ["refund policy"]}}})
    created = await app.service.ingest(mention())
    text = "Dear {name}, see our Refund Policy " + "." * MAX_LENGTH
    with pytest.raises(ReplyRejected) as caught:
        await app.service.reply(created.ticket_id, Actor("U1"), text)
    assert caught.value.problems == [
        f"{MAX_LENGTH} characters at most on {PLATFORM}, this reply has {len(text)}",
        "fill in or remove the macro variable(s) {name}",
        "the phrase 'refund policy' is not allowed in public replies",
    ]


async def test_unfilled_variables_may_be_allowed(make_app, platform):
    app = await make_app({"plugins": {"reply_rules": {"refuse_unfilled_variables": False}}})
    created = await app.service.ingest(mention())
    await app.service.reply(created.ticket_id, Actor("U1"), "Use the {code} from your email")
    await app.outbox_runner().drain()
    assert [p.text for p in platform.posted] == ["Use the {code} from your email"]


def test_reply_rules_settings_are_validated():
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"reply_rules": {"forbidden_phrase": ["x"]}}}, discover_plugins())
    [line] = caught.value.lines()
    assert line == ("plugins.toml: plugins.reply_rules.forbidden_phrase: unknown key; "
                    "did you mean 'forbidden_phrases'?")
