"""Third-party plugins installed through the ``socialdesk.plugins`` entry-point group.

``tests/fixtures/entry_point_dist`` is a site directory holding real distributions
(``*.dist-info`` with METADATA and entry_points.txt, next to their modules): putting it
on ``sys.path`` is what installing them does, as far as ``importlib.metadata`` can tell.

* ``socialdesk-echo-plugin`` registers ``echo``: a platform plugin owning platform "echo"
  with a settings model, a triage hook and a send_reply hook;
* ``socialdesk-broken-plugin`` registers ``broken``, whose module fails to import;
* ``socialdesk-clash-plugin`` registers ``keyword_triage``, the name of a built-in.

``second_site/`` holds one more distribution, ``socialdesk-echo-fork``, which registers
the name ``echo`` again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import socialdesk.plugins.triage.keyword_rules
from socialdesk.cli import main
from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.errors import ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.store.models import OutboxJob, Reply
from socialdesk.core.plugin_catalog import BUILTIN_PLUGINS, PluginCatalog, discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.ticket import ReplyStatus
from tests.conftest import mention

SITE = Path(__file__).parent / "fixtures" / "entry_point_dist"
FIXTURE_MODULES = ("socialdesk_echo_plugin", "socialdesk_broken_plugin", "socialdesk_clash_plugin")
ECHO_DIST = "socialdesk-echo-plugin"


def _forget_fixture_modules() -> None:
    for name in FIXTURE_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch):
    """The fixture distributions are installed for the duration of one test."""
    _forget_fixture_modules()
    monkeypatch.syspath_prepend(str(SITE))
    yield SITE
    _forget_fixture_modules()


def _refused(catalog: PluginCatalog, distribution: str):
    return [e for e in catalog.entries if e.distribution == distribution]


def _blocks(output: str) -> dict[str, list[str]]:
    """`socialdesk plugins` output: header line -> its indented lines."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in output.splitlines():
        if line and not line.startswith(" "):
            current = blocks.setdefault(line, [])
        elif line.strip():
            current.append(line.strip())
    return blocks


# --- discovery ----------------------------------------------------------------------------


def test_nothing_is_discovered_unless_the_distribution_is_installed():
    assert "echo" not in discover_plugins().names()


def test_entry_point_plugin_is_discovered_with_its_distribution(installed):
    catalog = discover_plugins()
    entry = catalog.get("echo")
    assert entry is not None
    assert entry.source == "entry point"
    assert entry.distribution == ECHO_DIST
    assert entry.load_error is None
    assert entry.enabled_by_default is False
    assert entry.plugin is sys.modules["socialdesk_echo_plugin"]
    # built-ins come first: a third-party plugin cannot take their place
    names = catalog.names()
    assert all(names.index(builtin) < names.index("echo") for builtin, _module, _on in BUILTIN_PLUGINS)


def test_entry_point_plugin_is_disabled_unless_plugins_toml_enables_it(installed):
    catalog = discover_plugins()
    assert "echo" not in parse_config({}, catalog).enabled

    # settings alone do not enable it (but are validated and kept)
    configured = parse_config({"plugins": {"echo": {"tag": "vip"}}}, catalog)
    assert "echo" not in configured.enabled
    assert configured.settings("echo").tag == "vip"
    assert build_plugin_manager(catalog, configured).get_plugin("echo") is None

    assert "echo" not in parse_config({"plugins": {"echo": {"enabled": False}}}, catalog).enabled
    enabled = parse_config({"plugins": {"echo": {"enabled": True}}}, catalog)
    assert "echo" in enabled.enabled
    pm = build_plugin_manager(catalog, enabled)
    assert pm.get_plugin("echo") is sys.modules["socialdesk_echo_plugin"]


def test_entry_point_plugin_settings_are_validated_by_its_model(installed):
    catalog = discover_plugins()
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"echo": {"enabled": True, "tag": "ok", "colour": "red"}}}, catalog)
    lines = caught.value.lines()
    assert len(lines) == 1
    assert lines[0].startswith("plugins.toml: plugins.echo.colour: unknown key")

    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"echo": {"enabled": True, "tag": ["not", "a", "string"]}}}, catalog)
    assert [line.split(":")[1].strip() for line in caught.value.lines()] == ["plugins.echo.tag"]

    config = parse_config({"plugins": {"echo": {"enabled": True, "category": "praise"}}}, catalog)
    settings = config.settings("echo")
    assert (settings.tag, settings.category) == ("echo", "praise")  # defaults from the model


# --- taking part in triage and replies ----------------------------------------------------


ECHO_ON = {"plugins": {"echo": {"enabled": True, "tag": "from-echo", "category": "praise", "id_prefix": "e-"}}}


async def test_enabled_entry_point_plugin_triages_and_sends_replies(installed, make_app, platform):
    app = await make_app(ECHO_ON)
    assert app.platforms["echo"] == "echo"
    echo = app.pm.get_plugin("echo")

    created = await app.service.ingest(mention("e1", platform="echo", text="hello from the echo side"))
    ticket = await app.service.get_ticket(created.ticket_id)
    assert ticket.platform == "echo"
    assert "from-echo" in ticket.tags
    assert ticket.category == "praise"
    assert "echo says hello" in ticket.priority_reasons

    # its triage only speaks about its own platform
    other = await app.service.ingest(mention(text="hello from the test network"))
    assert "from-echo" not in (await app.service.get_ticket(other.ticket_id)).tags

    reply = await app.service.reply(created.ticket_id, Actor("U1"), "Thanks, heard you!")
    await app.outbox_runner().drain()

    sent = await app.service.get_reply(reply.id)
    assert sent.status == ReplyStatus.SENT
    assert sent.platform_id == "e-1"
    assert sent.platform_url == "https://echo.example/e-1"
    [request] = echo.posted_by(app)
    assert (request.platform, request.reply_id, request.text) == ("echo", reply.id, "Thanks, heard you!")
    assert request.in_reply_to_id == "e1"
    assert request.conversation_id == "conv-e1"
    assert platform.posted == []  # the test platform was asked and declined

    # the store is per desk: another desk in the same process has posted nothing
    other_app = await make_app(ECHO_ON)
    assert echo.posted_by(other_app) == []


async def test_disabled_entry_point_plugin_takes_no_part(installed, make_app, platform):
    app = await make_app({"plugins": {"echo": {"tag": "from-echo"}}})  # configured, not enabled
    assert app.pm.get_plugin("echo") is None
    assert "echo" not in app.platforms

    created = await app.service.ingest(mention("e2", platform="echo", text="hello from the echo side"))
    ticket = await app.service.get_ticket(created.ticket_id)
    assert "from-echo" not in ticket.tags
    assert ticket.category == "question"

    with pytest.raises(ReplyRejected) as caught:
        await app.service.reply(created.ticket_id, Actor("U1"), "Anyone there?")
    assert "no enabled plugin handles the 'echo' platform" in str(caught.value)
    async with app.database.sessions() as session:
        assert (await session.scalars(select(Reply))).all() == []
        kinds = (await session.scalars(select(OutboxJob.kind))).all()
    assert "post_card" in kinds  # the ingest did write its job...
    assert "send_reply" not in kinds  # ...the refused reply wrote none


# --- broken and clashing packages -----------------------------------------------------------


def test_entry_point_that_fails_to_import_is_a_load_error(installed):
    catalog = discover_plugins()
    entry = catalog.get("broken")
    assert entry is not None
    assert entry.plugin is None
    assert entry.distribution == "socialdesk-broken-plugin"
    assert "failed to import socialdesk_broken_plugin" in entry.load_error
    assert "ModuleNotFoundError" in entry.load_error

    # not enabled: the rest of the desk is configured as usual
    config = parse_config({"plugins": {"echo": {"enabled": True}}}, catalog)
    assert "broken" not in config.enabled
    build_plugin_manager(catalog, config)
    # explicitly disabled: still fine
    assert "broken" not in parse_config({"plugins": {"broken": {"enabled": False}}}, catalog).enabled

    # enabled: a clear config problem, not a traceback
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"broken": {"enabled": True}}}, catalog)
    [line] = caught.value.lines()
    assert line.startswith("plugins.toml: plugins.broken: cannot be loaded: failed to import socialdesk_broken_plugin")


def test_entry_point_clashing_with_a_builtin_is_refused(installed):
    catalog = discover_plugins()
    builtin = catalog.get("keyword_triage")
    assert builtin.source == "builtin"
    assert builtin.plugin is socialdesk.plugins.triage.keyword_rules

    [refused] = _refused(catalog, "socialdesk-clash-plugin")
    assert refused.plugin is None
    assert refused.source == "entry point"
    assert "clashes with the built-in plugin 'keyword_triage'" in refused.load_error
    assert "socialdesk_clash_plugin" not in sys.modules  # never even imported

    # the name keeps meaning the built-in: configuring it works and uses the built-in
    rules = [{"name": "ship", "category": "question", "keywords": ["shipping"], "tags": ["shipping"]}]
    for raw in ({}, {"plugins": {"keyword_triage": {"rules": rules}}},
                {"plugins": {"keyword_triage": {"enabled": True}}}):
        config = parse_config(raw, catalog)
        assert "keyword_triage" in config.enabled
        pm = build_plugin_manager(catalog, config)
        assert pm.get_plugin("keyword_triage") is socialdesk.plugins.triage.keyword_rules
    assert "keyword_triage" not in parse_config({"plugins": {"keyword_triage": {"enabled": False}}}, catalog).enabled


async def test_clashing_entry_point_takes_no_part_in_triage(installed, make_app):
    app = await make_app()
    created = await app.service.ingest(mention(text="the site is down"))
    ticket = await app.service.get_ticket(created.ticket_id)
    assert "impostor" not in ticket.tags
    assert (ticket.category, ticket.priority) == ("outage", 1)  # the built-in's verdict


def test_second_distribution_registering_a_taken_name_is_refused(installed, monkeypatch):
    monkeypatch.syspath_prepend(str(SITE / "second_site"))  # now first on sys.path
    catalog = discover_plugins()
    assert catalog.names().count("echo") == 1
    assert catalog.get("echo").distribution == "socialdesk-echo-fork"
    [refused] = _refused(catalog, ECHO_DIST)
    assert refused.plugin is None
    assert "clashes with the plugin from socialdesk-echo-fork 'echo'" in refused.load_error
    # enabling "echo" registers exactly one plugin under that name
    config = parse_config({"plugins": {"echo": {"enabled": True}}}, catalog)
    pm = build_plugin_manager(catalog, config)
    assert [name for name, _ in pm.list_name_plugin()].count("echo") == 1


# --- `socialdesk plugins` --------------------------------------------------------------------


def test_cli_lists_entry_point_plugin_with_its_hooks(installed, tmp_path, capsys):
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins.echo]\nenabled = true\ntag = "cli"\n', encoding="utf-8")
    assert main(["--config", str(toml), "plugins"]) == 0
    blocks = _blocks(capsys.readouterr().out)

    assert blocks[f"echo  [enabled, entry point ({ECHO_DIST})]"] == [
        "socialdesk_platform", "socialdesk_reply_limits", "socialdesk_send_reply",
        "socialdesk_settings_model", "socialdesk_triage",
    ]
    broken = blocks["broken  [disabled, entry point (socialdesk-broken-plugin)]"]
    assert broken[0].startswith("cannot be loaded: failed to import socialdesk_broken_plugin")
    assert "socialdesk_triage" in blocks["keyword_triage  [enabled, builtin]"]
    [clash] = [lines for header, lines in blocks.items() if "(socialdesk-clash-plugin)" in header]
    [clash_header] = [header for header in blocks if "(socialdesk-clash-plugin)" in header]
    assert "[disabled," in clash_header
    assert clash == ["cannot be loaded: its name clashes with the built-in plugin 'keyword_triage'"]


def test_cli_reports_an_enabled_broken_plugin(installed, tmp_path, capsys):
    toml = tmp_path / "plugins.toml"
    toml.write_text("[plugins.broken]\nenabled = true\n", encoding="utf-8")
    assert main(["--config", str(toml), "plugins"]) == 1
    err = capsys.readouterr().err
    assert f"{toml}: plugins.broken: cannot be loaded: failed to import socialdesk_broken_plugin" in err
    assert "Traceback" not in err
