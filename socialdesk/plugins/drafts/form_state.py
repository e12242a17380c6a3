"""What the drafts part of each open reply form shows, per desk, ticket and agent.

The reply form is rebuilt whole on every change (a macro pick, a draft arriving, "Use
this draft"), so what the drafts blocks show lives here, and every rebuild renders it.
The newest form generation is remembered so that an update made without the view's hash
(after a conflict) keeps the reply box's block id, and with it what the agent typed.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from socialdesk.core.per_desk import PerDesk
from socialdesk.plugins.drafts.drafting import Draft

FORM_STATE_SECONDS = 900.0  # a form left open longer starts afresh when it is rebuilt
MAX_FORMS = 2000


class Status:
    IDLE = "idle"  # nothing asked yet (the form's button asks)
    WORKING = "working"
    READY = "ready"
    FAILED = "failed"


@dataclass
class FormState:
    draft_status: str = Status.IDLE
    draft: Draft | None = None
    draft_failure: str | None = None
    language: str | None = None  # the customer's language, when the agents do not write it
    translation_status: str = Status.IDLE
    translation: str | None = None
    translation_failure: str | None = None
    view_id: str | None = None
    view_hash: str | None = None
    generation: int = 0
    channel: str | None = None
    refreshing: bool = False  # this plugin is rebuilding the form (not an agent opening a new one)
    started: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.started > FORM_STATE_SECONDS


class OpenForms:
    def __init__(self) -> None:
        self._forms: OrderedDict[tuple[int, str], FormState] = OrderedDict()
        self.tasks: set[asyncio.Task[None]] = set()

    def get(self, ticket_id: int, user_id: str) -> FormState | None:
        found = self._forms.get((ticket_id, user_id))
        return None if found is None or found.stale else found

    def start(self, ticket_id: int, user_id: str, state: FormState) -> FormState:
        self._forms[(ticket_id, user_id)] = state
        self._forms.move_to_end((ticket_id, user_id))
        while len(self._forms) > MAX_FORMS:
            self._forms.popitem(last=False)
        return state

    def spawn(self, work: asyncio.Future[None] | asyncio.Task[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


forms_for: PerDesk[OpenForms] = PerDesk(lambda app: OpenForms())
