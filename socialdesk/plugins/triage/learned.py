"""Default plugin ``learned_triage``: the learned model's verdict — urgency, category,
sentiment and needs-a-reply, each with its probability — as one triage contribution.

The model is the desk's own when one is live in the database (``socialdesk triage train
--from-desk``), else the base model shipped in the package. It is loaded lazily, once per
process and shared by every desk in it; replicas look for a newly installed desk model
every ``refresh_seconds``. A confident "urgent" proposes P2 (P1 at ``page_at``, off by
default: the outage and security keyword rules page on their own). The category counts
with its probability, so it beats the built-in keyword lists when confident, and loses to
rules an admin wrote (:mod:`socialdesk.plugins.triage.keyword_rules`). A missing or
corrupt model never stops the desk: triage runs on the other plugins, with a warning in
the log, on ``/healthz`` and from ``socialdesk check``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.per_desk import PerDesk
from socialdesk.core.triage import TriageContribution
from socialdesk.plugins.triage.keyword_rules import admin_priority_rule_matches
from socialdesk.plugins.triage.model_file import (
    BASE_MODEL_PATH,
    ModelFileError,
    Prediction,
    TriageModel,
    load_model_file,
    model_from_bytes,
)

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.app import DeskApp
    from socialdesk.core.extensions import DeskSubcommand

PLUGIN_NAME = "learned_triage"
log = logging.getLogger(__name__)


class LearnedTriageSettings(StrictModel):
    # The base model file; unset: the one shipped inside the package.
    model_path: Path | None = None
    # P(urgent) at or above which the model proposes P2. Set by judgement, leaning to precision
    # (a P2 no one needed costs the desk attention); README, Measurements, shows what it gives.
    urgent_at: float = Field(0.6, gt=0, le=1)
    # P(urgent) at or above which it proposes P1 and pages on-call; unset: never by itself.
    page_at: float | None = Field(None, gt=0, le=1)
    # The category counts from this probability on (its confidence in the merge is the probability).
    category_at: float = Field(0.5, ge=0, le=1)
    # Below this P(needs a reply) the card says so (a tag); the model never closes a ticket.
    no_reply_below: float = Field(0.2, ge=0, le=1)
    # Use the desk's own model from the database when one is live.
    desk_model: bool = True
    refresh_seconds: int = Field(60, ge=1)
    # Retrain from the agents' corrections on the leader: "7d", "24h"; unset: only by command.
    retrain_every: str | None = None
    # The public data the desk model is fitted on with the corrections (needed by retrain_every).
    training_data: Path | None = None
    seed: int = 13
    # Corrections weigh this much more than a row of public data when a desk model is fitted.
    correction_weight: float = Field(5.0, gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> LearnedTriageSettings:
        if self.page_at is not None and self.page_at < self.urgent_at:
            raise ValueError("page_at must not be below urgent_at (paging is the more confident verdict)")
        if self.retrain_every is not None:
            from socialdesk.core.reports.period import amount

            if amount(self.retrain_every) is None:
                raise ValueError(f"retrain_every {self.retrain_every!r}: use a duration such as '7d' or '24h'")
            if self.training_data is None:
                raise ValueError("retrain_every needs training_data: the folder of public data the desk model "
                                 "is fitted on with the corrections")
        return self


# --- the model, once per process --------------------------------------------------------------

_files: dict[Path, TriageModel | ModelFileError] = {}
_files_lock = threading.Lock()


def base_model(path: Path | None = None) -> TriageModel:
    """The base model at ``path`` (default: shipped), loaded once per process; raises
    :class:`ModelFileError` naming the file and the fix."""
    path = (path or BASE_MODEL_PATH).resolve()
    with _files_lock:
        if path not in _files:
            try:
                _files[path] = load_model_file(path)
            except ModelFileError as exc:
                _files[path] = exc
        found = _files[path]
    if isinstance(found, ModelFileError):
        raise found
    return found


_desk_models: dict[tuple[str, int], TriageModel] = {}  # (database url, model id): shared by desks on one db


@dataclass(slots=True)
class _DeskState:
    model: TriageModel | None = None
    desk_model_id: int | None = None
    checked_at: float = float("-inf")
    problem: str | None = None
    warned: bool = False


_state: PerDesk[_DeskState] = PerDesk(lambda app: _DeskState())


def _base_for(app: DeskApp, state: _DeskState) -> TriageModel | None:
    settings: LearnedTriageSettings = app.settings(PLUGIN_NAME)
    try:
        model = base_model(settings.model_path)
        state.problem = None
        return model
    except ModelFileError as exc:
        state.problem = f"{exc}; until then triage runs on the keyword rules and the other plugins"
        if not state.warned:
            log.warning("learned triage is off: %s", state.problem)
            state.warned = True
        return None


async def current_model(app: DeskApp) -> TriageModel | None:
    """The model this desk triages with now (``None``: no usable model; see the warning)."""
    settings: LearnedTriageSettings = app.settings(PLUGIN_NAME)
    state = _state(app)
    now = time.monotonic()
    if settings.desk_model and now - state.checked_at >= settings.refresh_seconds:
        state.checked_at = now
        await _refresh_desk_model(app, state)
    if state.model is None and state.desk_model_id is None:
        state.model = await asyncio.to_thread(_base_for, app, state)
    return state.model


async def _refresh_desk_model(app: DeskApp, state: _DeskState) -> None:
    from socialdesk.plugins.triage import desk_models

    try:
        live = await desk_models.live_id(app.database)
    except Exception as exc:  # no table yet (schema not upgraded) or the database is away: keep what we have
        log.debug("no desk triage model to look at", extra={"error": type(exc).__name__})
        return
    if live == state.desk_model_id:
        return
    if live is None:  # rolled back to the base model
        state.desk_model_id, state.model = None, None
        return
    key = (app.database.url, live)
    model = _desk_models.get(key)
    if model is None:
        data = await desk_models.model_bytes(app.database, live)
        try:
            model = await asyncio.to_thread(model_from_bytes, data or b"", f"desk triage model {live}")
        except ModelFileError as exc:
            state.problem = f"{exc}; triage keeps the model it had"
            log.warning("desk triage model unusable: %s", exc)
            return
        _desk_models.clear()  # one desk model in memory per process: the live one
        _desk_models[key] = model
    state.desk_model_id, state.model, state.problem = live, model, None
    log.info("desk triage model installed", extra={"model_id": live, "model": model.name})


def look_again(app: DeskApp) -> None:
    """Read the live desk model at the next verdict: this process just installed one, so it
    need not wait ``refresh_seconds`` like the other replicas."""
    _state(app).checked_at = float("-inf")


def forget_models() -> None:
    """Drop every loaded model (tests; and after ``socialdesk triage train`` in-process)."""
    with _files_lock:
        _files.clear()
    _desk_models.clear()
    _state.clear()


# --- the verdict ---------------------------------------------------------------------------------


def contribution(prediction: Prediction, settings: LearnedTriageSettings, model_name: str) -> TriageContribution:
    urgent = prediction.p("urgency", "urgent")
    category, category_p = prediction.best("category")
    sentiment, _ = prediction.best("sentiment")
    s = prediction.probabilities["sentiment"]
    needs_reply = prediction.p("needs_reply", "reply")
    priority = None
    if settings.page_at is not None and urgent >= settings.page_at:
        priority = 1
    elif urgent >= settings.urgent_at:
        priority = 2
    confident_category = category_p >= settings.category_at
    why = f"model {model_name}: urgent {urgent:.2f}"
    if confident_category:
        why += f", {category} {category_p:.2f}"
    tags = ("no reply needed?",) if needs_reply < settings.no_reply_below else ()
    return TriageContribution(
        priority=priority,
        category=category if confident_category else None,
        category_confidence=category_p,
        sentiment=sentiment,
        sentiment_score=round(s["positive"] - s["negative"], 4),
        tags=tags,
        reasons=(why,),
    )


@hookimpl
def socialdesk_settings_model() -> type[LearnedTriageSettings]:
    return LearnedTriageSettings


@hookimpl
async def socialdesk_triage(mention: Mention, app: DeskApp) -> TriageContribution | None:
    model = await current_model(app)
    if model is None:
        return None
    verdict = contribution(model.predict(mention.text), app.settings(PLUGIN_NAME), model.name)
    if verdict.priority is not None and admin_priority_rule_matches(mention.text, app):
        verdict = replace(verdict, priority=None)  # the admin's rule decides the priority
    return verdict


@hookimpl
async def socialdesk_health_warnings(app: DeskApp) -> list[str] | None:
    state = _state(app)
    if state.model is None and state.problem is None:
        await asyncio.to_thread(_base_for, app, state)  # the file only: `socialdesk check` connects nowhere
    return [f"triage: {state.problem}"] if state.problem else None


@hookimpl
def socialdesk_desk_subcommands() -> list[DeskSubcommand]:
    from socialdesk.plugins.triage.correction_command import triage_subcommand

    return [triage_subcommand()]


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    settings: LearnedTriageSettings = app.settings(PLUGIN_NAME)
    if settings.retrain_every is None:
        return
    from socialdesk.core.reports.period import amount
    from socialdesk.plugins.triage.desk_training import scheduled_retrain

    every = amount(settings.retrain_every)
    assert every is not None  # validated with the settings
    seconds = every.total_seconds()
    scheduler.add_job(scheduled_retrain, "interval", seconds=seconds, args=[app], id="learned_triage_retrain",
                      replace_existing=True, max_instances=1, coalesce=True)
