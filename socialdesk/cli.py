"""The `socialdesk` command. User mistakes print one clear message and exit non-zero."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Sequence

from socialdesk import __version__
from socialdesk.core.config import AppConfig, ConfigError, load_config
from socialdesk.core.errors import DeskError
from socialdesk.core.plugin_catalog import PluginCatalog, discover_plugins
from socialdesk.core.secrets import redact

EXIT_PROBLEM = 1
DEFAULT_CONFIG = "plugins.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialdesk", description="A support desk for public mentions, in Slack.")
    parser.add_argument("--version", action="version", version=f"socialdesk {__version__}")
    parser.add_argument("--config", default=os.environ.get("SOCIALDESK_CONFIG", DEFAULT_CONFIG),
                        help="path to plugins.toml (default: $SOCIALDESK_CONFIG or ./plugins.toml)")
    # `--config` is accepted after any command too (`socialdesk check --config x.toml`);
    # SUPPRESS keeps the value given before the command when it is not repeated after it.
    config_after = argparse.ArgumentParser(add_help=False)
    config_after.add_argument("--config", default=argparse.SUPPRESS,
                              help="path to plugins.toml (the same as before the command)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_with_parents(config_after))
    run = commands.add_parser("run", help="run the desk: listeners, outbox workers, scheduler")
    run.add_argument("--http", action="store_true",
                     help="run the Slack app in HTTP mode (signed requests; for several replicas)")
    run.add_argument("--port", type=_port, metavar="N",
                     help="with --http: the port to listen on (default: plugins.slack.http.port)")
    run.add_argument("--status-port", type=_status_port, metavar="N",
                     help="serve GET /healthz and /metrics on port N, 0 for any free port "
                          "(default: desk.status_port; unset: not served)")
    check = commands.add_parser("check", help="validate plugins.toml; one line per problem")
    check.add_argument("--online", action="store_true",
                       help="also connect to each enabled platform and say what its credentials can see")
    commands.add_parser("plugins", help="list installed plugins and the hooks each implements")
    sandbox = commands.add_parser("sandbox", help="run the local platform emulators (Slack, X, Discord, Bluesky, Mastodon, Reddit, "
                                  "Discourse, a webhook shop) until Ctrl-C")
    sandbox.add_argument("--record", metavar="FILE", help="append every request, response and websocket frame "
                         "that crosses an emulator to FILE, one JSON object per line (secrets redacted)")
    demo = commands.add_parser("demo", help="the whole desk on SQLite and the local sandbox, with a scripted day")
    demo.add_argument("--record", metavar="FILE", help="also write the sandbox's traffic record to FILE")
    demo.add_argument("--workdir", metavar="DIR", help="keep the demo's plugins.toml and database in DIR")
    report = commands.add_parser("report", help="volume, response times, SLA, agents and CSAT over a period")
    report.add_argument("--since", default="7d", metavar="WHEN",
                        help="start: 7d, 24h, 2w, a date (2026-11-01, midnight in desk.timezone) or date and time "
                             "(default: 7d)")
    report.add_argument("--until", metavar="WHEN", help="end (excluded), same forms (default: now)")
    report_format = report.add_mutually_exclusive_group()
    report_format.add_argument("--csv", action="store_true", help="section,name,value rows")
    report_format.add_argument("--json", action="store_true", help="one JSON object")
    report.add_argument("--no-names", action="store_true",
                        help="agents by Slack user id only (default: their display names beside the ids, "
                             "asked of Slack when the slack plugin is enabled and its bot token is set)")
    from socialdesk.plugins.triage.admin_cli import add_parser as add_triage_parser

    add_triage_parser(commands)
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply Alembic migrations up to the newest")
    db_commands.add_parser("current", help="print the schema revision of the database")
    slack = commands.add_parser("slack", help="set up the Slack app")
    slack_commands = slack.add_subparsers(dest="slack_command", metavar="ACTION", required=True)
    manifest = slack_commands.add_parser(
        "manifest", help="print the Slack app manifest (YAML) for plugins.toml: paste it at api.slack.com/apps")
    manifest.add_argument("--mode", choices=("socket", "http"),
                          help="Socket Mode or HTTP request URLs (default: plugins.slack.mode)")
    manifest.add_argument("--url", metavar="https://HOST",
                          help="with --mode http: the public base URL Slack sends requests to")
    return parser


def _with_parents(*parents: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose every instance (each command, and theirs) also takes ``parents``' options."""

    class CommandParser(argparse.ArgumentParser):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("parents", list(parents))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    return CommandParser


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535 (got {value!r})")
    return int(value)


def _status_port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 (any free port) to 65535 (got {value!r})")
    return int(value)


def _with_status_port(config: AppConfig, port: int | None) -> AppConfig:
    """``socialdesk run --status-port N``: this replica's status port (one per replica on a host)."""
    if port is None:
        return config
    return dataclasses.replace(config, desk=config.desk.model_copy(update={"status_port": port}))


def _load(path: str, catalog: PluginCatalog) -> AppConfig:
    return load_config(path, catalog)


def cmd_check(args: argparse.Namespace, catalog: PluginCatalog) -> int:
    config = _load(args.config, catalog)
    return asyncio.run(_check(config, catalog, online=args.online))


async def _check(config: AppConfig, catalog: PluginCatalog, *, online: bool) -> int:
    """What `run` would refuse (the same lines), then, with --online, what each platform says."""
    from socialdesk.core.app import DeskApp
    from socialdesk.core.runtime.startup import StartupRefused, startup_problems

    app = DeskApp.build(config, catalog)
    try:
        problems = await startup_problems(app)
        if problems:
            raise StartupRefused(problems)
        print(f"{config.file}: OK; enabled plugins: {', '.join(config.enabled) or 'none'}")
        # Degraded but startable (a missing triage model file: run falls back to the rules).
        warnings = await app.hooks.health_warnings()
        for line in warnings:
            print(f"problem: {redact(line)}", file=sys.stderr)
        if not online:
            return EXIT_PROBLEM if warnings else 0
        checks = await app.hooks.check_online()
    finally:
        await app.close()
    if not checks:
        print("no enabled platform plugin to check online")
    failed = False
    for check in checks:
        for line in check.seen:
            print(f"{check.platform}: {redact(line)}")
        for problem in check.problems:
            print(f"{check.platform}: problem: {redact(problem)}", file=sys.stderr)
            failed = True
    return EXIT_PROBLEM if failed or warnings else 0


def cmd_plugins(args: argparse.Namespace, catalog: PluginCatalog) -> int:
    from socialdesk.core.plugin_manager import hooks_implemented

    config = _load(args.config, catalog)
    hooks = hooks_implemented(catalog)
    for entry in catalog.entries:
        state = "enabled" if entry.name in config.enabled else "disabled"
        origin = entry.source + (f" ({entry.distribution})" if entry.distribution else "")
        print(f"{entry.name}  [{state}, {origin}]")
        if entry.load_error:
            print(f"    cannot be loaded: {entry.load_error}")
        for hook in hooks.get(entry.name, []):
            print(f"    {hook}")
    return 0


async def _db(args: argparse.Namespace, config: AppConfig) -> int:
    from socialdesk.core.runtime.startup import require_connection
    from socialdesk.core.store.database import Database
    from socialdesk.core.store.migrate import current_revision, head_revision, upgrade

    database = Database(config.database_url())
    try:
        await require_connection(database, create=args.db_command == "upgrade")
        if args.db_command == "upgrade":
            await upgrade(database)
            print(f"{database.safe_url()}: schema at revision {head_revision()}")
        else:
            print(await current_revision(database) or "none")
    finally:
        await database.dispose()
    return 0


async def _report(args: argparse.Namespace, config: AppConfig) -> int:
    from socialdesk.core.clock import utc_now
    from socialdesk.core.runtime.startup import require_connection, schema_problem
    from socialdesk.core.store.database import Database
    from socialdesk.core.reports.formats import as_csv, as_json, as_text
    from socialdesk.core.slack.report_names import report_names
    from socialdesk.core.reports.period import period
    from socialdesk.core.reports.report import build_report

    now = utc_now()
    since, until = period(args.since, args.until, now, config.desk.timezone)  # bad input fails before connecting
    database = Database(config.database_url())
    try:
        await require_connection(database)
        problem = await schema_problem(database)
        if problem:
            raise DeskError(problem)
        report = await build_report(database, since, until, now=now, tz_name=config.desk.timezone)
    finally:
        await database.dispose()
    names = {} if args.no_names else await report_names(config, [a.agent for a in report.agents])
    render = as_json if args.json else as_csv if args.csv else as_text
    sys.stdout.write(render(report, names))
    return 0


async def _run(config: AppConfig, catalog: PluginCatalog) -> int:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.logging_setup import configure_logging
    from socialdesk.core.runtime.replica import install_signal_handlers, run_desk
    from socialdesk.core.runtime.startup import StartupRefused, startup_problems

    app = DeskApp.build(config, catalog)
    # The same questions as `socialdesk check`, before logging starts: a mistake is its own
    # line(s) on stderr, not the last line after a page of JSON.
    try:
        problems = await startup_problems(app)
    except BaseException:
        await app.close()
        raise
    if problems:
        await app.close()
        raise StartupRefused(problems)
    configure_logging(config.desk.log_level)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_desk(app, stop)
    return 0


def _slack_manifest(args: argparse.Namespace, config: AppConfig) -> int:
    from socialdesk.core.slack.manifest import build_manifest, manifest_yaml

    sys.stdout.write(manifest_yaml(build_manifest(config, mode=args.mode, url=args.url), config))
    return 0


async def _sandbox(args: argparse.Namespace) -> int:
    from socialdesk.core.runtime.replica import install_signal_handlers
    from socialdesk.sandbox.cluster import Sandbox

    stop = asyncio.Event()
    install_signal_handlers(stop)
    sandbox = await Sandbox.start(record=args.record)
    try:
        for name, url in sandbox.endpoints().items():
            print(f"{name:16} {url}")
        print("credentials (sandbox-only, valid on 127.0.0.1):")
        for variable, value in sandbox.environment().items():
            print(f"  export {variable}={value}")
        if args.record:
            print(f"recording traffic to {args.record}")
        print("press Ctrl-C to stop", flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from socialdesk.core.logging_setup import configure_logging
    from socialdesk.demo.scenario import DemoFailed, run_demo

    configure_logging("warning")  # the narration is the output; problems still show
    try:
        return await run_demo(record=args.record, workdir=args.workdir)
    except DemoFailed as exc:
        print(f"socialdesk demo: {exc}", file=sys.stderr)
        return EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "sandbox":  # needs no plugins.toml
            return asyncio.run(_sandbox(args))
        if args.command == "demo":  # writes its own plugins.toml
            return asyncio.run(_demo(args))
        catalog = discover_plugins()
        if args.command == "check":
            return cmd_check(args, catalog)
        if args.command == "plugins":
            return cmd_plugins(args, catalog)
        if args.command == "triage" and args.triage_command == "train" and not args.from_desk:
            from socialdesk.plugins.triage.admin_cli import run as run_triage  # needs no plugins.toml

            return run_triage(args, None, catalog)  # type: ignore[arg-type]
        config = _load(args.config, catalog)
        if args.command == "triage":
            from socialdesk.plugins.triage.admin_cli import run as run_triage

            return run_triage(args, config, catalog)
        if args.command == "db":
            return asyncio.run(_db(args, config))
        if args.command == "report":
            return asyncio.run(_report(args, config))
        if args.command == "slack":
            return _slack_manifest(args, config)
        if args.command == "run":
            from socialdesk.core.slack.settings import with_run_overrides

            config = _with_status_port(with_run_overrides(config, http=args.http, port=args.port), args.status_port)
            return asyncio.run(_run(config, catalog))
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_PROBLEM
    except DeskError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"socialdesk: {line}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")
