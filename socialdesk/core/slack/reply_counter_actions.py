"""The live counter's listener: typing in the reply box updates what is left, paced per modal.

Slack sends a block_actions as the agent types. Each modal gets at most one
``views.update`` per :data:`COUNTER_INTERVAL_SECONDS` (an update per keystroke would flicker)
and the whole workspace one per :data:`WORKSPACE_INTERVAL_SECONDS` (Slack's Tier 4 limit);
the last text typed is always the one counted in the end. Every update carries the view's ``hash``, so it never overwrites a newer version of
the modal (a macro refill): Slack answers ``hash_conflict`` and the next keystroke counts
again. A keystroke sent before our own update landed carries the hash we replaced; it is
mapped to the hash our update returned, so the final count is never lost to our own update.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.slack.modals import Callbacks, Inputs, ModalState
from socialdesk.core.slack.reply_counter import counter_line, with_counter
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

COUNTER_INTERVAL_SECONDS = 1.0
# views.update is a Tier 4 method (100+ a minute per app and workspace): all modals together
# stay below 90 a minute, however many agents type at once.
WORKSPACE_INTERVAL_SECONDS = 60 / 90
MAX_TRACKED_VIEWS = 1000  # modals remembered for pacing; the oldest idle ones are forgotten
REPLY_BOX = re.compile(rf"^{Inputs.REPLY_TEXT}_\d+$")


@dataclass(frozen=True, slots=True)
class Typed:
    """One keystroke report: the modal as Slack sent it and the text now in the box."""

    view: dict[str, Any]
    block_id: str
    text: str

    @property
    def view_id(self) -> str:
        return str(self.view["id"])

    @property
    def hash(self) -> str | None:
        return self.view.get("hash")


Update = Callable[[Typed, str | None], Awaitable[str | None]]  # returns the view's new hash, if updated


@dataclass
class _Modal:
    latest: Typed | None = None
    worker: asyncio.Task[None] | None = None
    not_before: float = 0.0
    superseded: dict[str, str] = field(default_factory=dict)  # a hash we replaced -> the hash we made


class CounterPacer:
    """At most one update per modal per ``interval`` and one per ``workspace_interval`` in all;
    the latest text wins."""

    def __init__(self, update: Update, interval: float = COUNTER_INTERVAL_SECONDS,
                 workspace_interval: float = WORKSPACE_INTERVAL_SECONDS) -> None:
        self._update = update
        self._interval = interval
        self._workspace_interval = workspace_interval
        self._next_slot = 0.0  # monotonic time of the next workspace-wide slot
        self._modals: OrderedDict[str, _Modal] = OrderedDict()

    def offer(self, typed: Typed) -> None:
        modal = self._modals.get(typed.view_id)
        if modal is None:
            modal = self._modals[typed.view_id] = _Modal()
            self._forget_idle()
        self._modals.move_to_end(typed.view_id)
        modal.latest = typed
        if modal.worker is None or modal.worker.done():
            modal.worker = asyncio.create_task(self._drain(modal), name=f"reply-counter-{typed.view_id}")

    async def wait_idle(self) -> None:
        """Until every pending update is done (for shutdown and tests)."""
        workers = [m.worker for m in self._modals.values() if m.worker is not None]
        await asyncio.gather(*workers, return_exceptions=True)

    async def close(self) -> None:
        """Drop pending updates (the desk is stopping; a counter is not worth waiting for)."""
        workers = [m.worker for m in self._modals.values() if m.worker is not None and not m.worker.done()]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _drain(self, modal: _Modal) -> None:
        while modal.latest is not None:
            now = time.monotonic()
            slot = max(now, modal.not_before, self._next_slot)
            self._next_slot = slot + self._workspace_interval  # reserved before sleeping: slots never overlap
            if slot > now:
                await asyncio.sleep(slot - now)  # pacing: keystrokes meanwhile replace ``latest``
            typed, modal.latest = modal.latest, None
            if typed is None:
                return
            expected = typed.hash
            while expected in modal.superseded:
                expected = modal.superseded[expected]
            try:
                made = await self._update(typed, expected)
            except Exception:  # a counter must never break the modal; the next keystroke retries
                log.exception("reply counter update failed", extra={"view_id": typed.view_id})
                made = None
            modal.not_before = time.monotonic() + self._interval
            if made is not None and expected is not None:
                modal.superseded[expected] = made

    def _forget_idle(self) -> None:
        while len(self._modals) > MAX_TRACKED_VIEWS:
            oldest = next((k for k, m in self._modals.items() if m.worker is None or m.worker.done()), None)
            if oldest is None:
                return
            del self._modals[oldest]


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> CounterPacer:
    async def update(typed: Typed, expected_hash: str | None) -> str | None:
        state = ModalState.loads(typed.view.get("private_metadata"))
        try:
            ticket = await app.service.get_ticket(state.ticket_id)
        except DeskError:
            return None
        limits = await app.hooks.reply_limits(ticket.platform)
        if limits is None:
            return None
        line = counter_line(app.hooks.reply_length(ticket.platform, typed.text), limits)
        definition = with_counter(typed.view, line, typed.block_id)
        try:
            answer = await rt.client.views_update(view_id=typed.view_id, hash=expected_hash, view=definition)
        except SlackApiError as exc:
            # hash_conflict: the modal changed (a macro refill) since; the next keystroke counts again.
            log.info("reply counter not updated", extra={"error": exc.response.get("error"),
                                                          "view_id": typed.view_id})
            return None
        return str((answer.get("view") or {}).get("hash") or "") or None

    pacer = CounterPacer(update)

    @bolt.action({"action_id": Inputs.TEXT_ACTION, "block_id": REPLY_BOX})
    async def reply_typed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body.get("view") or {}
        action = (body.get("actions") or [{}])[0]
        if view.get("callback_id") != Callbacks.REPLY or not view.get("id"):
            return
        pacer.offer(Typed(view, str(action.get("block_id")), str(action.get("value") or "")))

    return pacer
