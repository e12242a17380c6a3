"""The typed facade through which the core calls plugins (the only ``pm.hook`` call site).

Hooks may return awaitables (await-me-maybe). Hooks that may be async are not
``firstresult`` in pluggy; "first non-None" is applied here after awaiting.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from socialdesk.core.errors import DeskError
from socialdesk.core.events import TicketEvent
from socialdesk.core.extensions import CardField, DeskSubcommand, JobPerformer, OnlineCheck, TextSpan
from socialdesk.core.mention import Mention
from socialdesk.core.past_answers import PastAnswer
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.platform import (
    PlatformError,
    ReconciledReply,
    ReplyLimits,
    ReplyRequest,
    SentReply,
    SurveyRequest,
)
from socialdesk.core.reply_change import ChangeAction, PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.core.ticket import OpenedTicket, RequeuedTicket, TicketSnapshot
from socialdesk.core.triage import TriageContribution, TriageResult, merge_triage

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy.engine import Connection
    from socialdesk.core.push.source import PushSource

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
T = TypeVar("T")


async def await_me_maybe(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


async def _await_all(results: list[Any]) -> list[Any]:
    return [await await_me_maybe(r) for r in results]


def _first(results: list[T | None]) -> T | None:
    return next((r for r in results if r is not None), None)


class PluginConflict(DeskError):
    """Two plugins claim what only one may own (a platform, a job kind, a subcommand)."""


class DeskHooks:
    def __init__(self, pm: pluggy.PluginManager, app: DeskApp) -> None:
        self.pm = pm
        self._app = app

    def _each(self, hook_name: str) -> list[tuple[str, Any]]:
        """(plugin name, implementation) in pluggy's call order, for calling one at a time.

        Wrappers are left out: they only make sense around a whole ``pm.hook`` call.
        """
        caller = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl) for impl in reversed(caller.get_hookimpls())
                if not (impl.hookwrapper or impl.wrapper)]

    async def _call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any | BaseException]]:
        """Call every implementation separately so one failing plugin does not stop the rest."""
        outcomes: list[tuple[str, Any | BaseException]] = []
        for plugin_name, impl in self._each(hook_name):
            try:
                value = impl.function(**{a: kwargs[a] for a in impl.argnames})
                outcomes.append((plugin_name, await await_me_maybe(value)))
            except Exception as exc:
                outcomes.append((plugin_name, exc))
        return outcomes

    # --- declarations (sync) --------------------------------------------------------

    def platforms(self) -> dict[str, str]:
        """Platform name -> the plugin that owns it."""
        owners: dict[str, str] = {}
        for plugin_name, impl in self._each("socialdesk_platform"):
            platform = impl.function()
            if platform is None:
                continue
            if platform in owners:
                raise PluginConflict(f"plugins '{owners[platform]}' and '{plugin_name}' both own platform '{platform}'")
            owners[platform] = plugin_name
        return owners

    def outbox_performers(self) -> dict[str, JobPerformer]:
        performers: dict[str, JobPerformer] = {}
        owners: dict[str, str] = {}
        for plugin_name, impl in self._each("socialdesk_outbox_performers"):
            for kind, func in (impl.function() or {}).items():
                if kind in performers:
                    raise PluginConflict(f"plugins '{owners[kind]}' and '{plugin_name}' both perform '{kind}' jobs")
                performers[kind], owners[kind] = func, plugin_name
        return performers

    def desk_subcommands(self, reserved: frozenset[str] = frozenset()) -> dict[str, DeskSubcommand]:
        commands: dict[str, DeskSubcommand] = {}
        for plugin_name, impl in self._each("socialdesk_desk_subcommands"):
            for command in impl.function() or []:
                if command.name in reserved or command.name in commands:
                    raise PluginConflict(f"plugin '{plugin_name}' declares /desk {command.name}, which is taken")
                commands[command.name] = command
        return commands

    def push_sources(self) -> list[PushSource]:
        """Every enabled plugin's push sources; two with one name is a start-up error."""
        sources: dict[str, tuple[str, PushSource]] = {}
        for plugin_name, impl in self._each("socialdesk_push_sources"):
            for source in impl.function(**{a: self._app for a in impl.argnames}) or []:
                if source.name in sources:
                    raise PluginConflict(f"plugins '{sources[source.name][0]}' and '{plugin_name}' both receive "
                                         f"pushes at /push/{source.name}")
                sources[source.name] = (plugin_name, source)
        return [source for _, source in sources.values()]

    def register_jobs(self, scheduler: AsyncIOScheduler) -> None:
        self.pm.hook.socialdesk_register_jobs(scheduler=scheduler, app=self._app)

    # --- inbound ---------------------------------------------------------------------

    async def _start_each(self, hook_name: str, stop_hook: str, what: str) -> list[str]:
        """Call every implementation of a start hook; on a failure stop those started and raise."""
        started: list[str] = []
        for plugin_name, impl in self._each(hook_name):
            try:
                await await_me_maybe(impl.function(**{a: self._app for a in impl.argnames}))
            except DeskError:
                # A user mistake: the command prints it as one line; the traceback is for debugging.
                log.debug(f"{what} start refused", extra={"plugin": plugin_name}, exc_info=True)
                await self._stop_each(stop_hook, what, only=started)
                raise
            except Exception:
                log.exception(f"{what} start failed", extra={"plugin": plugin_name})
                await self._stop_each(stop_hook, what, only=started)
                raise
            started.append(plugin_name)
        return started

    async def _stop_each(self, hook_name: str, what: str, only: list[str] | None) -> None:
        for plugin_name, impl in reversed(self._each(hook_name)):
            if only is not None and plugin_name not in only:
                continue
            try:
                await await_me_maybe(impl.function(**{a: self._app for a in impl.argnames}))
            except Exception:
                log.exception(f"{what} stop failed", extra={"plugin": plugin_name})

    async def start_services(self) -> list[str]:
        """Start what every replica serves (Slack); returns the plugins started."""
        return await self._start_each("socialdesk_start_services", "socialdesk_stop_services", "service")

    async def stop_services(self, only: list[str] | None = None) -> None:
        await self._stop_each("socialdesk_stop_services", "service", only)

    async def start_listeners(self) -> list[str]:
        """Start every plugin's listeners (leader only); on a failure stop those started and raise."""
        return await self._start_each("socialdesk_start_listeners", "socialdesk_stop_listeners", "listener")

    async def stop_listeners(self, only: list[str] | None = None) -> None:
        await self._stop_each("socialdesk_stop_listeners", "listener", only)

    async def startup_problems(self) -> list[str]:
        """What every plugin says would stop ``socialdesk run``; a check that raises is a problem too."""
        problems: list[str] = []
        for plugin_name, outcome in await self._call_each("socialdesk_startup_problems", app=self._app):
            if isinstance(outcome, DeskError):
                problems.append(str(outcome))
            elif isinstance(outcome, BaseException):
                problems.append(f"plugin {plugin_name}: start-up check failed: {type(outcome).__name__}: {outcome}")
            else:
                problems.extend(outcome or [])
        return problems

    async def check_online(self) -> list[OnlineCheck]:
        """Every platform's online check; a check that raises becomes that plugin's problem."""
        checks: list[OnlineCheck] = []
        for plugin_name, outcome in await self._call_each("socialdesk_check_online", app=self._app):
            if isinstance(outcome, BaseException):
                checks.append(OnlineCheck(plugin_name, problems=(f"check failed: {type(outcome).__name__}: {outcome}",)))
            elif outcome is not None:
                checks.append(outcome)
        return checks

    async def health_warnings(self) -> list[str]:
        """Every plugin's warnings; a plugin that fails to answer is itself a warning."""
        warnings: list[str] = []
        for plugin_name, outcome in await self._call_each("socialdesk_health_warnings", app=self._app):
            if isinstance(outcome, BaseException):
                warnings.append(f"{plugin_name}: health check failed: {type(outcome).__name__}")
            elif outcome:
                warnings.extend(outcome)
        return warnings

    async def triage(self, mention: Mention) -> TriageResult:
        """Merge every plugin's verdict. A failing triage plugin is logged and left out:
        one buggy plugin must not stop mentions from reaching the desk."""
        contributions: list[TriageContribution | list[TriageContribution] | None] = []
        for plugin_name, outcome in await self._call_each("socialdesk_triage", mention=mention, app=self._app):
            if isinstance(outcome, BaseException):
                log.error("triage plugin failed", extra={"plugin": plugin_name, "error": repr(outcome)})
                continue
            contributions.append(outcome)
        return merge_triage(contributions)

    # --- replies ---------------------------------------------------------------------

    async def reply_limits(self, platform: str) -> ReplyLimits | None:
        return _first(await _await_all(self.pm.hook.socialdesk_reply_limits(platform=platform, app=self._app)))

    def reply_length(self, platform: str, text: str) -> int:
        """``text``'s length as ``platform`` counts it (characters unless its plugin says otherwise)."""
        counted = _first(self.pm.hook.socialdesk_reply_length(platform=platform, text=text))
        return int(counted) if counted is not None else len(text)

    async def validate_reply(self, ticket: TicketSnapshot, text: str) -> list[str]:
        """Every plugin's objections. A check that fails is an objection: when in doubt,
        a public reply is not sent."""
        problems: list[str] = []
        outcomes = await self._call_each("socialdesk_validate_reply", ticket=ticket, text=text, app=self._app)
        for plugin_name, outcome in outcomes:
            if isinstance(outcome, BaseException):
                log.error("reply check failed", extra={"plugin": plugin_name, "error": repr(outcome)})
                problems.append(f"the {plugin_name} plugin could not check this reply; try again or ask an admin")
            elif outcome:
                problems.extend(outcome)
        return problems

    async def send_reply(self, request: ReplyRequest) -> SentReply | None:
        return await self._send_once("socialdesk_send_reply", request)

    async def send_survey(self, request: SurveyRequest) -> SentReply | None:
        return await self._send_once("socialdesk_send_survey", request)

    async def _send_once(self, hook: str, request: ReplyRequest | SurveyRequest) -> SentReply | None:
        # Called one implementation at a time so that a message can never be posted by two
        # plugins: the first answer stops the round. Every send passes here: the one place
        # to count platform failures.
        for _, impl in self._each(hook):
            kwargs = {"request": request, "app": self._app}
            try:
                sent = await await_me_maybe(impl.function(**{a: kwargs[a] for a in impl.argnames}))
            except PlatformError as exc:
                metrics_for(self._app).platform_error(request.platform, exc)
                raise
            if sent is not None:
                return sent
        return None

    async def reconcile_reply(self, request: ReplyRequest) -> ReconciledReply | None:
        return _first(await _await_all(self.pm.hook.socialdesk_reconcile_reply(request=request, app=self._app)))

    # --- corrections of sent replies (edit, delete) -----------------------------------------

    def reply_changer(self, platform: str) -> ReplyChanger:
        """How replies on ``platform`` may be corrected (neither edit nor delete, without an owning answer)."""
        answer = _first(self.pm.hook.socialdesk_reply_changer(platform=platform, app=self._app))
        return answer if isinstance(answer, ReplyChanger) else ReplyChanger(ReplyCapabilities(platform))

    def reply_capabilities(self, platform: str) -> ReplyCapabilities:
        return self.reply_changer(platform).capabilities

    async def edit_reply(self, request: ReplyChangeRequest) -> bool | None:
        return await self._change(self.reply_changer(request.platform).edit, request)

    async def delete_reply(self, request: ReplyChangeRequest) -> bool | None:
        return await self._change(self.reply_changer(request.platform).delete, request)

    async def _change(self, action: ChangeAction | None, request: ReplyChangeRequest) -> bool | None:
        if action is None:
            return None
        try:
            return bool(await action(request))
        except PlatformError as exc:
            metrics_for(self._app).platform_error(request.platform, exc)
            raise

    async def reply_post_state(self, request: ReplyChangeRequest) -> PostState | None:
        look = self.reply_changer(request.platform).post_state
        return await look(request) if look is not None else None

    # --- cards and observers -----------------------------------------------------------

    async def card_fields(self, ticket: TicketSnapshot) -> list[CardField]:
        results = await _await_all(self.pm.hook.socialdesk_card_fields(ticket=ticket, app=self._app))
        return [f for result in results if result for f in result]

    async def past_answers(self, ticket: TicketSnapshot, limit: int) -> list[PastAnswer]:
        """Every plugin's earlier answers for ``ticket``, most similar first. A plugin that
        fails is logged and left out: the reply form opens without its suggestions."""
        answers: list[PastAnswer] = []
        for plugin_name, outcome in await self._call_each("socialdesk_past_answers", ticket=ticket, limit=limit,
                                                          app=self._app):
            if isinstance(outcome, BaseException):
                log.error("past answers plugin failed", extra={"plugin": plugin_name, "error": type(outcome).__name__})
                continue
            answers.extend(outcome or [])
        return sorted(answers, key=lambda a: -a.similarity)[:limit]

    def tickets_opened(self, connection: Connection, tickets: list[OpenedTicket]) -> None:
        """Sync, inside the ingest transaction: an exception propagates and rolls it back."""
        if tickets:
            self.pm.hook.socialdesk_tickets_opened(connection=connection, tickets=tickets, app=self._app)

    def tickets_requeued(self, connection: Connection, tickets: list[RequeuedTicket]) -> None:
        """Sync, inside the ingest transaction: an exception propagates and rolls it back."""
        if tickets:
            self.pm.hook.socialdesk_tickets_requeued(connection=connection, tickets=tickets, app=self._app)

    async def ticket_event(self, event: TicketEvent) -> None:
        for plugin_name, outcome in await self._call_each("socialdesk_ticket_event", event=event, app=self._app):
            if isinstance(outcome, BaseException):
                log.error(
                    "ticket event observer failed",
                    extra={"plugin": plugin_name, "event": event.kind.value, "error": repr(outcome)},
                )

    async def mask_spans(self, text: str) -> list[TextSpan]:
        """Every masking plugin's spans of ``text``. A plugin that fails (or answers with
        something other than spans) must hide nothing less, so the whole text is hidden."""
        if not text:
            return []
        spans: list[TextSpan] = []
        for plugin_name, outcome in await self._call_each("socialdesk_mask_spans", text=text, app=self._app):
            if isinstance(outcome, BaseException) or not _are_spans(outcome):
                # The type only: an exception's message may quote the customer's text.
                log.error("masking plugin failed; hiding the whole text",
                          extra={"plugin": plugin_name, "error": type(outcome).__name__})
                return [TextSpan(0, len(text), MASKING_FAILED)]
            spans.extend(outcome or [])
        return spans


    # --- the reply form ----------------------------------------------------------------

    async def reply_form_blocks(self, ticket: TicketSnapshot, user_id: str, generation: int) -> list[Any]:
        blocks: list[Any] = []
        for plugin_name, outcome in await self._call_each("socialdesk_reply_form_blocks", ticket=ticket,
                                                          user_id=user_id, generation=generation, app=self._app):
            if isinstance(outcome, BaseException):
                log.error("reply form blocks failed", extra={"plugin": plugin_name, "error": repr(outcome)})
            elif outcome:
                blocks.extend(outcome)
        return blocks

    async def reply_form_opened(self, ticket_id: int, user_id: str, view: dict[str, Any], channel: str | None) -> None:
        for plugin_name, outcome in await self._call_each("socialdesk_reply_form_opened", ticket_id=ticket_id,
                                                          user_id=user_id, view=view, channel=channel, app=self._app):
            if isinstance(outcome, BaseException):
                log.error("reply form observer failed", extra={"plugin": plugin_name, "error": repr(outcome)})

    def slack_listeners(self, bolt: Any) -> None:
        self.pm.hook.socialdesk_slack_listeners(bolt=bolt, app=self._app)

MASKING_FAILED = "masking failed"  # the label of the one span that hides a whole text


def _are_spans(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple) and all(
        isinstance(s, TextSpan) and isinstance(s.start, int) and isinstance(s.end, int) for s in value))
