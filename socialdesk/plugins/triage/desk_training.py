"""``socialdesk triage train --from-desk``: a desk model from the base data plus the
agents' corrections, installed only when it beats the live model on corrections it
never saw.

Corrections are the ``triage_corrected`` audit events; the last one per ticket counts,
with the ticket's opening message as the text. A corrected priority is an urgency label
(P1/P2 urgent, P3/P4 not); a corrected category is a category label. Tickets whose id is
a multiple of five are the held-out slice: never trained on, they judge the candidate
and the live model alike (share of held-out labels each gets right). The candidate is
installed (same database: every replica picks it up) only when strictly better; the model
it replaces stays in the table for ``socialdesk triage rollback``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from socialdesk.core.events import EventKind
from socialdesk.core.runtime.scheduler import run_logged
from socialdesk.core.store.models import AuditEvent, Message
from socialdesk.plugins.triage import desk_models
from socialdesk.plugins.triage.model_file import TriageModel, model_from_bytes
from socialdesk.plugins.triage.training_data import Example

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.database import Database

log = logging.getLogger(__name__)
HELDOUT_EVERY = 5
MIN_HELDOUT = 5


@dataclass(frozen=True, slots=True)
class Correction:
    ticket_id: int
    text: str
    priority: int | None
    category: str | None

    @property
    def heldout(self) -> bool:
        return self.ticket_id % HELDOUT_EVERY == 0

    def example(self) -> Example:
        urgency = None if self.priority is None else ("urgent" if self.priority <= 2 else "not_urgent")
        return Example("desk_corrections", "heldout" if self.heldout else "train", self.text, urgency=urgency,
                       category=self.category)


async def corrections(database: Database) -> list[Correction]:
    """The last correction of each ticket, with the ticket's opening message."""
    async with database.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.kind == EventKind.TRIAGE_CORRECTED.value)
                                        .order_by(AuditEvent.id))).all()
        latest: dict[int, dict[str, Any]] = {}
        for e in events:
            if e.ticket_id is None:
                continue
            label = latest.setdefault(e.ticket_id, {})
            for key in ("priority", "category"):
                if isinstance(e.details.get(key), dict):
                    label[key] = e.details[key].get("to")
        if not latest:
            return []
        rows = (await session.execute(select(Message.ticket_id, Message.text)
                                      .where(Message.ticket_id.in_(list(latest)), Message.direction == "inbound")
                                      .order_by(Message.ticket_id, Message.id))).all()
    opening: dict[int, str] = {}
    for ticket_id, text in rows:
        opening.setdefault(ticket_id, text or "")
    return [Correction(t, opening[t], label.get("priority"), label.get("category"))
            for t, label in sorted(latest.items()) if t in opening]


def score(model: TriageModel, heldout: list[Correction], urgent_at: float) -> dict[str, Any]:
    """How many held-out labels ``model`` gets right (urgency at ``urgent_at``, category by argmax)."""
    urgency_right = urgency_total = category_right = category_total = 0
    for c in heldout:
        p = model.predict(c.text)
        if c.priority is not None:
            urgency_total += 1
            urgency_right += (p.p("urgency", "urgent") >= urgent_at) == (c.priority <= 2)
        if c.category is not None:
            category_total += 1
            category_right += p.best("category")[0] == c.category
    right, total = urgency_right + category_right, urgency_total + category_total
    return {"labels": total, "accuracy": right / total if total else 0.0,
            "urgency_accuracy": urgency_right / urgency_total if urgency_total else None,
            "category_accuracy": category_right / category_total if category_total else None}


@dataclass(frozen=True, slots=True)
class DeskTrainingOutcome:
    installed: bool
    model_id: int | None
    message: str
    candidate: dict[str, Any]
    current: dict[str, Any]


async def live_model(app: DeskApp) -> tuple[TriageModel, str]:
    """The model the desk uses now, and what to call it."""
    from socialdesk.plugins.triage.learned import PLUGIN_NAME, base_model

    live = await desk_models.live_id(app.database)
    if live is not None:
        data = await desk_models.model_bytes(app.database, live)
        return model_from_bytes(data or b"", f"desk triage model {live}"), f"desk model {live}"
    return base_model(app.settings(PLUGIN_NAME).model_path), "the shipped base model"


async def train_from_desk(app: DeskApp, data: Path, *, seed: int, min_corrections: int = 20,
                          force: bool = False) -> DeskTrainingOutcome:
    from socialdesk.plugins.triage.learned import PLUGIN_NAME, look_again
    from socialdesk.plugins.triage.training import Weighted, fit
    from socialdesk.plugins.triage.training_data import load_examples

    settings = app.settings(PLUGIN_NAME)
    found = await corrections(app.database)
    heldout = [c for c in found if c.heldout]
    train = [c for c in found if not c.heldout]
    if len(found) < min_corrections or len(heldout) < MIN_HELDOUT:
        return DeskTrainingOutcome(False, None, f"{len(found)} corrections ({len(heldout)} held out): a desk model "
                                   f"needs at least {min_corrections}, {MIN_HELDOUT} of them held out; "
                                   "nothing was trained", {}, {})
    base_rows = await asyncio.to_thread(load_examples, data, seed)
    rows = [Weighted(e) for e in base_rows if e.split == "train"]
    rows += [Weighted(c.example(), settings.correction_weight) for c in train]
    current, current_name = await live_model(app)
    candidate = await asyncio.to_thread(
        fit, rows, seed=seed, name=f"desk-{len(train)}", meta={"corrections": len(train), "based_on": current_name})
    current_score = await asyncio.to_thread(score, current, heldout, settings.urgent_at)
    candidate_score = await asyncio.to_thread(score, candidate, heldout, settings.urgent_at)
    better = candidate_score["accuracy"] > current_score["accuracy"]
    install = better or force
    candidate.meta["desk_heldout"] = {"candidate": candidate_score, "replaced": current_score,
                                      "replaced_model": current_name}
    model_id = await desk_models.store(app.database, name=candidate.name, data=candidate.to_bytes(),
                                       corrections=len(train), figures=candidate.meta["desk_heldout"],
                                       install=install, now=app.clock())
    if install:
        look_again(app)
    verdict = (f"installed as desk model {model_id} (live on every replica within "
               f"{settings.refresh_seconds}s)" if install else
               f"kept {current_name}: the candidate (stored as rejected model {model_id}) is not better")
    message = (f"held-out corrections: {candidate_score['labels']} labels; candidate "
               f"{candidate_score['accuracy']:.3f} vs {current_name} {current_score['accuracy']:.3f}: {verdict}")
    return DeskTrainingOutcome(install, model_id if install else None, message, candidate_score, current_score)


async def scheduled_retrain(app: DeskApp) -> None:
    """The leader's periodic retrain (``retrain_every``); needs ``training_data``."""
    from socialdesk.plugins.triage.learned import PLUGIN_NAME

    settings = app.settings(PLUGIN_NAME)
    outcome = await run_logged(log, "scheduled triage retrain",
                               lambda: train_from_desk(app, settings.training_data, seed=settings.seed))
    if outcome is not None:
        log.info("scheduled triage retrain: %s", outcome.message)
