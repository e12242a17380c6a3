"""The socialdesk hook contract: every hook a plugin may implement, one docstring each.

Conventions (datasette's and pytest's):

* Implement a hook with ``@socialdesk.core.hookspecs.hookimpl`` (or
  ``pluggy.HookimplMarker("socialdesk")``) on a module-level function or a method, naming
  only the arguments you need.
* "May be async" means the implementation may be a coroutine function (or return any
  awaitable); the core awaits it. Hooks that may be async are never ``firstresult``:
  the core awaits every result and then takes the first that is not ``None``.
* The core never calls ``pm.hook.<name>`` directly outside :mod:`socialdesk.core.hooks`;
  that facade is the only call site and is typed.
* ``app`` is the running :class:`socialdesk.core.app.DeskApp`: its ``settings(name)``
  returns a plugin's validated ``[plugins.<name>]`` table, ``service`` is the ticket state
  machine, ``cursors`` the polling cursor store, ``clock()`` the current UTC time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from pydantic import BaseModel
    from sqlalchemy.engine import Connection

    from socialdesk.core.app import DeskApp
    from socialdesk.core.events import TicketEvent
    from socialdesk.core.extensions import CardField, DeskSubcommand, JobPerformer, OnlineCheck, TextSpan
    from socialdesk.core.mention import Mention
    from socialdesk.core.past_answers import PastAnswer
    from socialdesk.core.push.source import PushSource
    from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply, SurveyRequest
    from socialdesk.core.reply_change import ReplyChanger
    from socialdesk.core.ticket import OpenedTicket, RequeuedTicket, TicketSnapshot
    from socialdesk.core.triage import TriageContribution

PROJECT_NAME = "socialdesk"
ENTRY_POINT_GROUP = "socialdesk.plugins"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- declaration -----------------------------------------------------------------------


@hookspec
def socialdesk_settings_model() -> type[BaseModel] | None:
    """Declare the pydantic model of this plugin's ``[plugins.<name>]`` settings.

    Called by the configuration loader once at start-up (and by ``socialdesk check``),
    before anything runs, for every known plugin, enabled or not. Return a model class
    (use ``extra="forbid"`` so typos are reported) or ``None`` when the plugin takes no
    settings. The ``enabled`` key is handled by the core and must not be declared. The
    validated instance is available later as ``app.settings("<name>")``. Must be sync.
    """


@hookspec
def socialdesk_platform() -> str | None:
    """Name the platform this plugin owns (``"x"``, ``"discord"``), or ``None``.

    Called at start-up to route replies and limits to the owning plugin. A platform
    plugin's mentions carry this name in ``Mention.platform``. Must be sync.
    """


# --- inbound mentions ------------------------------------------------------------------


@hookspec
def socialdesk_start_services(app: DeskApp) -> Any:
    """Start what every replica serves, leader or not (Slack's HTTP endpoint or Socket Mode).

    Called once per process by ``socialdesk run`` on every replica, after the schema check
    and before the outbox workers start, whether or not this replica leads. Receiving
    Slack requests belongs here: a load balancer (or Slack's Socket Mode, which spreads
    events over up to 10 connections) may send them to any replica. Raise to stop the
    desk with a clear error (those started already are stopped). May be async; returns
    nothing.
    """


@hookspec
def socialdesk_stop_services(app: DeskApp) -> Any:
    """Stop what ``socialdesk_start_services`` started. Called once at shutdown, after the
    outbox workers have finished their jobs. Must not raise for services that never
    started. May be async; returns nothing.
    """


@hookspec
def socialdesk_start_listeners(app: DeskApp) -> Any:
    """Start receiving mentions (gateway connections, pollers, webhooks).

    Called by ``socialdesk run`` only on the leader replica (the one holding the
    PostgreSQL advisory lock, see :mod:`socialdesk.core.runtime.leadership`; with SQLite the one
    process always leads), each time it gains leadership: after the outbox workers run
    and ``socialdesk_register_jobs``, before its scheduler starts. A process may gain and
    lose leadership several times, so this may be called again after
    ``socialdesk_stop_listeners``; start afresh each time. Start background tasks on the
    running loop and return; hand each mention to ``await app.service.ingest(mention)``
    (or ``ingest_many(mentions, cursor=...)`` so that a polling cursor advances in the
    same transaction as the mentions it covers). Raising stops the desk with that error.
    May be async; returns nothing.
    """


@hookspec
def socialdesk_stop_listeners(app: DeskApp) -> Any:
    """Stop receiving mentions and release connections.

    Called, in reverse order of start, when the leader replica loses leadership (its lock
    connection is gone: at once, while the outbox workers keep running) and at shutdown
    (after the outbox workers finished). Only plugins whose start succeeded are stopped.
    May be called several times per process, once per term of leadership. Must not raise
    for listeners that never started. May be async; returns nothing.
    """


@hookspec
def socialdesk_push_sources(app: DeskApp) -> list[PushSource] | None:
    """Declare the push (webhook) sources this plugin receives, one per configured sender.

    Called on every replica when services start (the push server, see
    :mod:`socialdesk.core.push`, serves each at ``/push/<source.name>``) and by
    ``socialdesk check``. Return :class:`~socialdesk.core.push.source.PushSource` objects or
    ``None``. Names must be unique across plugins. Must be sync.
    """


@hookspec
def socialdesk_startup_problems(app: DeskApp) -> list[str] | None:
    """Say what would stop ``socialdesk run`` from starting, without starting anything.

    Called by ``socialdesk check`` and by ``socialdesk run`` before anything starts
    (``run`` refuses to start while any plugin returns a problem, so the two commands
    refuse the same configurations with the same words). Check what needs no network:
    settings that only make sense together, environment variables the plugin will read,
    optional packages it imports. Each problem is one line naming the key or variable
    and the fix. Return ``None`` or ``[]`` when all is well. May be async.
    """


@hookspec
def socialdesk_check_online(app: DeskApp) -> OnlineCheck | None:
    """Verify this plugin's credentials against the live platform and say what they can see.

    Called by ``socialdesk check --online`` after the configuration is valid, outside
    ``socialdesk run`` (no listener is running). Connect with the configured base URL,
    report the account, the guilds/channels or timelines visible, and missing scopes or
    intents as ``problems`` (each with its fix). Never put tokens in the lines. Plugins
    that own no platform return ``None``. May be async.
    """


# --- triage ----------------------------------------------------------------------------


@hookspec
def socialdesk_triage(mention: Mention, app: DeskApp) -> TriageContribution | list[TriageContribution] | None:
    """Say what you can about one mention: priority, category, sentiment, spam, tags...

    Called by ``DeskService.ingest`` for every new inbound mention (follow-ups too),
    before the store transaction begins. Return a
    :class:`~socialdesk.core.triage.TriageContribution`, a list of them (e.g. one per
    matched rule, each with its own ``when_language``/``when_category`` condition) or
    ``None``; the core merges all contributions
    (:func:`socialdesk.core.triage.merge_triage`). Plugins do not see each other's
    verdicts: express "only for French" or "only on a complaint" as a condition.
    May be async; keep it fast, it is on the ingest path.
    """


# --- replies ---------------------------------------------------------------------------


@hookspec
def socialdesk_reply_limits(platform: str, app: DeskApp) -> ReplyLimits | None:
    """Return the reply limits of ``platform`` if this plugin owns it, else ``None``.

    ``app`` gives the plugin's settings where a limit is configured (a forum's
    ``max_post_length``).

    Called when a reply is validated and when the reply modal shows the limit. The first
    non-``None`` answer is used. May be async.
    """


@hookspec
def socialdesk_reply_length(platform: str, text: str) -> int | None:
    """Count ``text`` the way ``platform`` counts it against ``ReplyLimits.max_length``.

    Called by the reply modal's live counter each time the agent pauses typing (so keep
    it fast and free of I/O). Only the plugin owning ``platform`` answers (X its weighted
    count, Bluesky graphemes); others return ``None``. Without an answer the desk counts
    characters (``len``). Must be sync.
    """


@hookspec
def socialdesk_validate_reply(ticket: TicketSnapshot, text: str, app: DeskApp) -> list[str] | None:
    """Return the problems with sending ``text`` as the reply to ``ticket``.

    Called by ``DeskService.reply`` before anything is written or sent; every plugin may
    object (the owning platform checks its length counting, a policy plugin forbidden
    content). Return a list of agent-readable messages ("280 characters at most on X,
    this reply has 301"), or ``None``/``[]`` when it has no objection. Any problem refuses
    the reply. May be async.
    """


@hookspec
def socialdesk_send_reply(request: ReplyRequest, app: DeskApp) -> SentReply | None:
    """Post one reply on the platform that owns the ticket.

    Called by the outbox runner, exactly once per reply unless the previous attempt is
    known to have posted nothing. Only the plugin owning ``request.platform`` answers;
    every other plugin returns ``None``. Return :class:`~socialdesk.core.platform.SentReply`
    with the platform's id and URL. Raise ``TransientPlatformError`` when nothing was
    posted and a retry may work, ``PermanentPlatformError`` when nothing was posted and a
    retry will not help, ``AmbiguousPlatformError`` when it may have been posted; any
    other exception is treated as ambiguous. May be async.
    """


@hookspec
def socialdesk_reconcile_reply(request: ReplyRequest, app: DeskApp) -> ReconciledReply | None:
    """Look on the platform for an uncertain reply: was it posted after all?

    Called by ``DeskService.reconcile_uncertain_replies`` (at start-up and on demand) for
    replies in state ``uncertain``. The owning plugin searches the conversation for our
    own post and returns ``ReconciledReply(found=True, sent=...)`` or
    ``ReconciledReply(found=False)``; other plugins return ``None``. A found reply is
    recorded as sent; a reply not found stays uncertain for an agent to resend or
    discard. May be async.
    """


@hookspec
def socialdesk_reply_changer(platform: str, app: DeskApp) -> ReplyChanger | None:
    """Say how the desk may correct a reply it posted on ``platform``: a ``ReplyChanger``
    with its ``ReplyCapabilities`` (edit in place, delete, or "edit" by deleting and posting
    anew as on X) and the calls that do it.

    Called when a card shows its sent reply (the Edit and Delete buttons, or why not),
    before an edit or delete is accepted, and by the outbox (job ``change_reply``), which
    asks ``post_state`` before repeating a change whose answer was lost, so that nothing is
    done twice. Only the owning plugin answers; others return ``None`` (a platform without
    an answer can do neither). Must be sync.
    """


@hookspec
def socialdesk_send_survey(request: SurveyRequest, app: DeskApp) -> SentReply | None:
    """Send a one-question satisfaction survey to the customer of a closed ticket.

    Called by the outbox (job ``send_csat``), at most once per ticket. Only the plugin
    owning ``request.platform`` answers, the way the platform allows (a DM, or a reply in
    the conversation); others return ``None``. Raise the same ``PlatformError`` kinds as
    ``socialdesk_send_reply``. May be async.
    """


# --- Slack side ------------------------------------------------------------------------


@hookspec
def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    """Contribute labelled lines to a ticket's triage card.

    Called by the card builder whenever the card is posted or updated. Return plain-text
    fields (the builder escapes them) or ``None``. May be async.
    """


@hookspec
def socialdesk_past_answers(ticket: TicketSnapshot, limit: int, app: DeskApp) -> list[PastAnswer] | None:
    """Offer earlier answers of this desk that fit ``ticket``, most similar first, at most ``limit``.

    Called by the Slack reply form each time it opens (and again when an agent picks one,
    so an answer edited, deleted or rated low since is never used), and by anyone who wants
    the desk's own best answers (the drafts plugin's prompt). Return
    :class:`~socialdesk.core.past_answers.PastAnswer` objects with personal data already
    masked, or ``None``. The form must open within Slack's 3 seconds: keep it fast; a
    plugin that fails or is slow only leaves the form without suggestions. May be async.
    """


@hookspec
def socialdesk_health_warnings(app: DeskApp) -> list[str] | None:
    """Name what is degraded but does not stop the desk ("the triage model file is missing;
    run `socialdesk triage train`: triage runs on the keyword rules").

    Called by ``socialdesk check`` (each line printed as a problem) and by ``GET /healthz``
    (listed under ``warnings``; the status stays ok). Return lines an admin can act on, or
    ``None``. May be async; keep it cheap, it runs on every health probe.
    """


@hookspec
def socialdesk_mask_spans(text: str, app: DeskApp) -> list[TextSpan] | None:
    """Point at the parts of a customer's text that must not be shown as they are.

    Called by the card builder for every customer message it shows (cards, card threads,
    incident cards). Return :class:`~socialdesk.core.extensions.TextSpan` ranges (offsets
    into ``text``) with a label ("email", "phone", "card number"); the builder replaces
    each with ``[label hidden]``. Overlapping spans are merged. Agents see the original
    only through an explicit, audited reveal. May be async; keep it fast.
    """


@hookspec
def socialdesk_desk_subcommands() -> list[DeskSubcommand] | None:
    """Declare extra ``/desk`` subcommands (name, usage, summary, handler).

    Called once at start-up by the Slack app; names must not clash with built-in
    subcommands or each other. Must be sync; the handlers may be async.
    """


@hookspec
def socialdesk_outbox_performers() -> Mapping[str, JobPerformer] | None:
    """Declare which outbox job kinds this plugin performs: ``{"post_card": func}``.

    Called once when the outbox runner starts. ``func(job, app)`` is awaited for each due
    job of that kind. It returns on success, raises
    :class:`socialdesk.core.outbox.jobs.RetryJob` to be retried (with an optional delay),
    :class:`socialdesk.core.outbox.jobs.JobFailed` to fail visibly; other exceptions are
    retried with backoff until the attempts run out. A kind has exactly one performer;
    jobs of a kind nobody performs wait in the outbox. Must be sync.
    """


@hookspec
def socialdesk_reply_form_blocks(ticket: TicketSnapshot, user_id: str, generation: int, app: DeskApp) -> list[Any] | None:
    """Add Block Kit blocks to the reply form, above the reply box (a draft, a translation...).

    Called by the Slack app each time it builds the reply form for agent ``user_id``: when
    it opens and on every rebuild (a macro pick, a plugin's ``views.update``);
    ``generation`` is the form's (the reply box's block id ends with it). Return
    ``slack_sdk.models.blocks`` blocks or ``None``; inputs are not allowed (they would be
    submitted with the reply). Use block and action ids of your own. May be async; it runs
    before ``views.open``, inside Slack's 3-second trigger: keep it fast, no network calls.
    Exceptions are logged and the form opens without that plugin's blocks.
    """


@hookspec
def socialdesk_reply_form_opened(ticket_id: int, user_id: str, view: dict[str, Any], channel: str | None,
                                 app: DeskApp) -> Any:
    """Observe that agent ``user_id`` opened the reply form of ``ticket_id``.

    Called by the Slack app right after ``views.open`` succeeded; ``view`` is Slack's answer
    (``id``, ``hash``, ``private_metadata``...), for a later ``views.update`` of that form.
    Start slow work in a background task; do not hold the caller. May be async; returns
    nothing. Exceptions are logged and swallowed.
    """


@hookspec
def socialdesk_slack_listeners(bolt: Any, app: DeskApp) -> None:
    """Register Slack listeners of your own (``bolt.action(...)``) on the desk's Bolt app.

    Called once when the Slack app is built, after the core's listeners. ``bolt`` is the
    ``slack_bolt.async_app.AsyncApp``; use action ids of your own (the first listener
    that matches a request handles it). Must be sync.
    """


# --- observers and time ----------------------------------------------------------------


@hookspec
def socialdesk_tickets_opened(connection: Connection, tickets: list[OpenedTicket], app: DeskApp) -> None:
    """Write rows that must commit together with newly opened tickets (SLA clocks).

    Called by the ingest writer inside its transaction, once per batch of mentions that
    opened active tickets (mentions filed closed are left out), after the tickets are
    inserted and before the commit. ``connection`` is that transaction's synchronous
    SQLAlchemy Core connection (on SQLite it is used from the desk's writer thread): Core
    statements only, no awaits, no network, nothing bound to the event loop. An exception
    rolls the whole ingest back (the platform plugin reads the mentions again later), so
    keep it to cheap, deterministic writes; everything else belongs in
    ``socialdesk_ticket_event``. Must be sync; returns nothing.
    """


@hookspec
def socialdesk_tickets_requeued(connection: Connection, tickets: list[RequeuedTicket], app: DeskApp) -> None:
    """Write rows that must commit together with follow-ups that changed their ticket
    (the SLA clocks re-planned for a new priority, or resumed when a waiting ticket wakes).

    Called by the ingest writer inside its transaction, once per batch in which customers'
    follow-ups changed the status or the priority of active tickets, after the tickets
    are updated and before the commit; a follow-up that changed neither is left out. The
    same rules as ``socialdesk_tickets_opened``: the synchronous Core ``connection``, no
    awaits, no network; an exception rolls the whole ingest back. Announcements (a
    reminder or breach now due) belong in ``socialdesk_ticket_event``. Must be sync;
    returns nothing.
    """


@hookspec
def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> Any:
    """Observe a ticket lifecycle event (created, claimed, reply sent, closed...).

    Called after the change is committed (the event is already in the audit table);
    for a claim, in the background once the agents' requests pause (the agent's answer
    does not wait for observers; ``DeskService.observers_done`` waits for them).
    For metrics, logs and notifications only: work that must happen goes in the outbox,
    because an event is not replayed if the process dies right after the commit.
    Exceptions are logged and swallowed. May be async; returns nothing.
    """


@hookspec
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    """Add scheduled jobs (pollers, sweeps, digests) to the desk's APScheduler.

    Called by ``socialdesk run`` on the leader replica only, each time it gains leadership
    (possibly several times per process), on a new scheduler, before
    ``socialdesk_start_listeners``; the scheduler starts after the listeners and is shut
    down (running jobs cancelled) when leadership is lost or the desk stops. Use
    ``scheduler.add_job(func, "interval", seconds=..., id="<plugin>.<job>",
    replace_existing=True)``; coroutine functions run on the desk's loop. Must be sync.
    """
